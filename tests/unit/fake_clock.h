/* A test double for system/event.c: a virtual clock that moves only when
 * the test says so, with timers that fire in order as it moves. Defining
 * every event.h symbol here keeps the real event.o out of the link. */
#ifndef TESTS_UNIT_FAKE_CLOCK_H
#define TESTS_UNIT_FAKE_CLOCK_H
#include <stdlib.h>
#include "system/event.h"

struct Timer {
    TimerFn *fn;
    void *opaque;
    int64_t expire;
    bool pending;
    bool used;
};
#define FAKE_MAX_TIMERS 32
static struct Timer fake_timers[FAKE_MAX_TIMERS];
static int64_t fake_now = 1000000000LL;

int64_t clock_ns(void) { return fake_now; }
int64_t host_clock_ns(void) { return fake_now; }
void clock_pause(void) {}
void clock_resume(void) {}
void clock_set(int64_t ns) { fake_now = ns; }
Timer *timer_new(TimerFn *fn, void *opaque)
{
    for (int i = 0; i < FAKE_MAX_TIMERS; i++) {
        if (!fake_timers[i].used) {
            fake_timers[i] = (struct Timer){ fn, opaque, 0, false, true };
            return &fake_timers[i];
        }
    }
    abort();
}
void timer_free(Timer *t) { if (t) t->used = t->pending = false; }
void timer_mod(Timer *t, int64_t e) { t->expire = e; t->pending = true; }
void timer_del(Timer *t) { if (t) t->pending = false; }
bool timer_pending(const Timer *t) { return t && t->pending; }
int64_t timer_expire(const Timer *t) { return t->expire; }
int64_t timers_deadline(void)
{
    int64_t d = INT64_MAX;
    for (int i = 0; i < FAKE_MAX_TIMERS; i++)
        if (fake_timers[i].used && fake_timers[i].pending &&
            fake_timers[i].expire < d)
            d = fake_timers[i].expire;
    return d;
}
void timers_run(void)
{
    for (;;) {
        struct Timer *best = NULL;
        for (int i = 0; i < FAKE_MAX_TIMERS; i++) {
            struct Timer *t = &fake_timers[i];
            if (t->used && t->pending && t->expire <= fake_now &&
                (!best || t->expire < best->expire))
                best = t;
        }
        if (!best)
            return;
        best->pending = false;
        best->fn(best->opaque);
    }
}
void event_add_fd(int fd, FdFn *fn, void *opaque) { (void)fd; (void)fn; (void)opaque; }
void event_del_fd(int fd) { (void)fd; }
void event_poll(int64_t timeout_ns) { (void)timeout_ns; timers_run(); }
void event_notify(void) {}

/* Move the clock to `target`, firing each timer at its own deadline. */
static inline void fake_advance_to(int64_t target)
{
    for (;;) {
        int64_t d = timers_deadline();
        if (d > target)
            break;
        if (d > fake_now)
            fake_now = d;
        timers_run();
    }
    fake_now = target;
}
static inline void fake_advance(int64_t ns) { fake_advance_to(fake_now + ns); }
#endif
