/* The virtual clock, timers and host file-descriptor events.
 *
 * Kestrel is single-threaded: the machine loop runs guest code in slices and
 * between slices runs expired timers and polls host fds. Devices never spin
 * on a host thread; they arm a timer for the next moment they need to act.
 * The virtual clock follows host monotonic time but stops while the machine
 * is paused (gdb, monitor "stop", -S). */
#ifndef SYSTEM_EVENT_H
#define SYSTEM_EVENT_H
#include <stdint.h>
#include <stdbool.h>

#define NS_PER_SEC 1000000000LL

int64_t clock_ns(void);              /* virtual nanoseconds since start */
int64_t host_clock_ns(void);         /* host CLOCK_MONOTONIC */
void clock_pause(void);
void clock_resume(void);
/* Make the virtual clock read ns now (restoring a snapshot, whose device
 * timestamps are virtual times). Pending timers keep their deadlines. */
void clock_set(int64_t ns);

typedef struct Timer Timer;
typedef void TimerFn(void *opaque);
Timer *timer_new(TimerFn *fn, void *opaque);
void timer_free(Timer *t);
void timer_mod(Timer *t, int64_t expire_ns); /* absolute virtual time */
void timer_del(Timer *t);
bool timer_pending(const Timer *t);
int64_t timer_expire(const Timer *t);
int64_t timers_deadline(void);       /* earliest expiry, or INT64_MAX */
void timers_run(void);               /* run every expired timer */

/* Host fd readiness callbacks. */
typedef void FdFn(void *opaque);
void event_add_fd(int fd, FdFn *on_read, void *opaque);
void event_del_fd(int fd);
/* Poll fds for up to timeout_ns (0: just look), then run expired timers. */
void event_poll(int64_t timeout_ns);

/* Wake a sleeping event_poll from a signal handler or another thread. */
void event_notify(void);
#endif
