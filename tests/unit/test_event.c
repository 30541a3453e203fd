/* Virtual clock, timers and fd events: the clock follows host time and
 * stops while paused; timers fire in deadline order; event_poll sleeps
 * until the deadline or fd readiness instead of spinning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <cmocka.h>
#include "system/event.h"

#define MS 1000000LL

static void sleep_ms(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_clock_follows_host(void **state)
{
    (void)state;
    int64_t v0 = clock_ns(), h0 = host_clock_ns();
    sleep_ms(20);
    int64_t dv = clock_ns() - v0, dh = host_clock_ns() - h0;
    assert_true(dv >= 19 * MS);
    assert_true(dv <= dh + MS);
}

static void test_clock_pause(void **state)
{
    (void)state;
    clock_pause();
    int64_t v0 = clock_ns();
    sleep_ms(20);
    assert_int_equal(clock_ns(), v0);       /* frozen */
    clock_resume();
    int64_t v1 = clock_ns();
    assert_true(v1 >= v0 && v1 - v0 < 5 * MS); /* continues, no jump */
}

static void test_clock_set(void **state)
{
    (void)state;
    int64_t target = 5000 * NS_PER_SEC;
    clock_set(target);
    int64_t v = clock_ns();
    assert_true(v >= target && v - target < 5 * MS);
    clock_pause();
    clock_set(7 * NS_PER_SEC);
    assert_true(clock_ns() == 7 * NS_PER_SEC);
    clock_resume();
    v = clock_ns();
    assert_true(v >= 7 * NS_PER_SEC && v - 7 * NS_PER_SEC < 5 * MS);
}

static int order[8], norder;
static void record(void *opaque) { order[norder++] = (int)(intptr_t)opaque; }

static void test_timer_order(void **state)
{
    (void)state;
    norder = 0;
    int64_t now = clock_ns();
    Timer *a = timer_new(record, (void *)1);
    Timer *b = timer_new(record, (void *)2);
    Timer *c = timer_new(record, (void *)3);
    timer_mod(a, now - 10);
    timer_mod(b, now - 30);
    timer_mod(c, now + 3600 * NS_PER_SEC);
    assert_true(timers_deadline() == now - 30);
    assert_true(timer_pending(a));
    timer_mod(b, now - 5);                  /* re-arm moves it */
    timers_run();
    assert_int_equal(norder, 2);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_false(timer_pending(a));
    assert_true(timers_deadline() == timer_expire(c));
    timer_del(c);
    assert_false(timer_pending(c));
    assert_true(timers_deadline() == INT64_MAX);
    timer_free(a); timer_free(b); timer_free(c);
}

static Timer *self;
static int self_runs;
static void rearm_in_past(void *opaque)
{
    (void)opaque;
    self_runs++;
    timer_mod(self, clock_ns() - 1);
}

static void test_timer_rearm_no_spin(void **state)
{
    (void)state;
    self_runs = 0;
    self = timer_new(rearm_in_past, NULL);
    timer_mod(self, 0);
    timers_run();
    assert_int_equal(self_runs, 1);         /* once per pass */
    timers_run();
    assert_int_equal(self_runs, 2);
    timer_free(self);
    assert_true(timers_deadline() == INT64_MAX);
}

static int fired;
static void fire(void *opaque) { (void)opaque; fired++; }

static void test_poll_sleeps_until_deadline(void **state)
{
    (void)state;
    fired = 0;
    Timer *t = timer_new(fire, NULL);
    int64_t h0 = host_clock_ns();
    timer_mod(t, clock_ns() + 30 * MS);
    int polls = 0;
    while (!fired && polls < 100) {
        event_poll(timers_deadline() - clock_ns());
        polls++;
    }
    int64_t dh = host_clock_ns() - h0;
    assert_int_equal(fired, 1);
    assert_true(dh >= 29 * MS);
    assert_true(polls <= 3);                /* slept, did not spin */
    timer_free(t);
}

static int fd_reads;
static int pipe_rd;
static void on_read(void *opaque)
{
    (void)opaque;
    char c;
    if (read(pipe_rd, &c, 1) == 1)
        fd_reads++;
}

static void test_fd_wakes_poll(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pipe_rd = p[0];
    event_add_fd(p[0], on_read, NULL);
    assert_int_equal(write(p[1], "x", 1), 1);
    int64_t h0 = host_clock_ns();
    event_poll(500 * MS);
    assert_int_equal(fd_reads, 1);
    assert_true(host_clock_ns() - h0 < 250 * MS);
    /* Without data the poll times out. */
    h0 = host_clock_ns();
    event_poll(20 * MS);
    assert_int_equal(fd_reads, 1);
    assert_true(host_clock_ns() - h0 >= 19 * MS);
    event_del_fd(p[0]);
    assert_int_equal(write(p[1], "y", 1), 1);
    event_poll(0);
    assert_int_equal(fd_reads, 1);          /* no longer watched */
    close(p[0]);
    close(p[1]);
}

static void test_notify(void **state)
{
    (void)state;
    event_poll(0);
    event_notify();
    int64_t h0 = host_clock_ns();
    event_poll(500 * MS);
    assert_true(host_clock_ns() - h0 < 250 * MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_follows_host),
        cmocka_unit_test(test_clock_pause),
        cmocka_unit_test(test_clock_set),
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_timer_rearm_no_spin),
        cmocka_unit_test(test_poll_sleeps_until_deadline),
        cmocka_unit_test(test_fd_wakes_poll),
        cmocka_unit_test(test_notify),
    };
    return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
