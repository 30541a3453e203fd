/* The virtual clock, timers and host fd events (see system/event.h).
 *
 * Timers live in one list sorted by expiry: a PC has a dozen of them, so a
 * list beats a heap on simplicity and is as fast at this size. Sleeping is
 * ppoll() with the next timer deadline as its timeout, plus a self-pipe so
 * event_notify can cut a sleep short. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "system/event.h"

struct Timer {
    TimerFn *fn;
    void *opaque;
    int64_t expire;
    bool pending;
    uint64_t ran_gen;          /* timers_run pass that last fired it */
    struct Timer *next;
};

static struct {
    bool started;
    int64_t host_start;        /* host time at virtual 0, pauses excluded */
    bool paused;
    int64_t paused_at;         /* virtual time frozen while paused */
    Timer *timers;
    uint64_t run_gen;
} clk;

int64_t host_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t clock_ns(void)
{
    if (!clk.started) {
        clk.started = true;
        clk.host_start = host_clock_ns();
    }
    if (clk.paused)
        return clk.paused_at;
    return host_clock_ns() - clk.host_start;
}

void clock_pause(void)
{
    if (clk.paused)
        return;
    clk.paused_at = clock_ns();
    clk.paused = true;
}

void clock_resume(void)
{
    if (!clk.paused)
        return;
    clk.paused = false;
    /* Shift the origin so virtual time continues from where it stopped. */
    clk.host_start = host_clock_ns() - clk.paused_at;
}

void clock_set(int64_t ns)
{
    clock_ns();                    /* make sure the origin exists */
    if (clk.paused)
        clk.paused_at = ns;
    else
        clk.host_start = host_clock_ns() - ns;
}

/* ---------------- timers ---------------- */

Timer *timer_new(TimerFn *fn, void *opaque)
{
    Timer *t = calloc(1, sizeof(*t));
    if (!t) {
        fprintf(stderr, "kestrel: out of memory\n");
        exit(1);
    }
    t->fn = fn;
    t->opaque = opaque;
    return t;
}

void timer_del(Timer *t)
{
    if (!t || !t->pending)
        return;
    for (Timer **pp = &clk.timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->pending = false;
}

void timer_free(Timer *t)
{
    if (!t)
        return;
    timer_del(t);
    free(t);
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    timer_del(t);
    t->expire = expire_ns;
    t->pending = true;
    Timer **pp = &clk.timers;
    while (*pp && (*pp)->expire <= expire_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

bool timer_pending(const Timer *t)
{
    return t && t->pending;
}

int64_t timer_expire(const Timer *t)
{
    return t->expire;
}

int64_t timers_deadline(void)
{
    return clk.timers ? clk.timers->expire : INT64_MAX;
}

void timers_run(void)
{
    int64_t now = clock_ns();
    uint64_t gen = ++clk.run_gen;
    /* Each expired timer fires once per pass: a callback that re-arms in
     * the past waits for the next pass instead of spinning here. Callbacks
     * may add and delete timers, so the scan restarts from the head. */
    for (;;) {
        Timer *t = clk.timers;
        while (t && t->expire <= now && t->ran_gen == gen)
            t = t->next;
        if (!t || t->expire > now)
            break;
        timer_del(t);
        t->ran_gen = gen;
        t->fn(t->opaque);
    }
}

/* ---------------- fd events ---------------- */

#define MAX_FDS 64

static struct {
    struct { int fd; FdFn *fn; void *opaque; } h[MAX_FDS];
    int n;
    int notify_rd, notify_wr;
    bool notify_ready;
} ev = { .notify_rd = -1, .notify_wr = -1 };

static void notify_setup(void)
{
    if (ev.notify_ready)
        return;
    int p[2];
    if (pipe(p) != 0)
        return;
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    ev.notify_rd = p[0];
    ev.notify_wr = p[1];
    ev.notify_ready = true;
}

void event_add_fd(int fd, FdFn *on_read, void *opaque)
{
    notify_setup();
    for (int i = 0; i < ev.n; i++) {
        if (ev.h[i].fd == fd) {
            ev.h[i].fn = on_read;
            ev.h[i].opaque = opaque;
            return;
        }
    }
    if (ev.n >= MAX_FDS) {
        fprintf(stderr, "kestrel: too many host file descriptors watched\n");
        exit(1);
    }
    ev.h[ev.n].fd = fd;
    ev.h[ev.n].fn = on_read;
    ev.h[ev.n].opaque = opaque;
    ev.n++;
}

void event_del_fd(int fd)
{
    for (int i = 0; i < ev.n; i++) {
        if (ev.h[i].fd == fd) {
            ev.h[i] = ev.h[--ev.n];
            return;
        }
    }
}

void event_notify(void)
{
    /* Async-signal-safe: one write to a non-blocking pipe; a full pipe
     * already means a wake-up is pending. */
    if (ev.notify_ready) {
        int saved = errno;
        ssize_t r = write(ev.notify_wr, "", 1);
        (void)r;
        errno = saved;
    }
}

void event_poll(int64_t timeout_ns)
{
    notify_setup();
    if (timeout_ns < 0)
        timeout_ns = 0;
    /* Cap a sleep at one second: nothing waits that long on purpose, and
     * it bounds the damage of a missed wake-up. */
    if (timeout_ns > NS_PER_SEC)
        timeout_ns = NS_PER_SEC;
    /* While paused no timer can come due, so only fds matter. */
    struct pollfd pfd[MAX_FDS + 1];
    int n = 0;
    for (int i = 0; i < ev.n; i++) {
        pfd[n].fd = ev.h[i].fd;
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;
        n++;
    }
    if (ev.notify_ready) {
        pfd[n].fd = ev.notify_rd;
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;
        n++;
    }
    struct timespec ts = { (time_t)(timeout_ns / NS_PER_SEC),
                           (long)(timeout_ns % NS_PER_SEC) };
    int r = ppoll(pfd, (nfds_t)n, &ts, NULL);
    if (r > 0) {
        for (int i = 0; i < n; i++) {
            if (!pfd[i].revents)
                continue;
            if (ev.notify_ready && pfd[i].fd == ev.notify_rd) {
                char buf[64];
                while (read(ev.notify_rd, buf, sizeof(buf)) > 0)
                    ;
                continue;
            }
            /* A callback may have removed or replaced handlers: look the
             * fd up again rather than trusting the index. */
            for (int j = 0; j < ev.n; j++) {
                if (ev.h[j].fd == pfd[i].fd) {
                    ev.h[j].fn(ev.h[j].opaque);
                    break;
                }
            }
        }
    }
    timers_run();
}
