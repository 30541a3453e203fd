/* The gdb stub's packet layer: framing, checksums, escaping, acks,
 * Ctrl-C, bad and oversized packets. The known-good packets are copied
 * from a real gdb 13 session ("set debug remote 1"), so the checksums are
 * gdb's, not ours. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "debug/gdbstub.h"

static GdbRx rx;

/* Feed a string; returns the last non-NONE event (NONE if none). */
static int feed(const char *s, size_t n)
{
    int last = GDB_RX_NONE;
    for (size_t i = 0; i < n; i++) {
        int r = gdb_rx_byte(&rx, (uint8_t)s[i]);
        if (r != GDB_RX_NONE)
            last = r;
    }
    return last;
}

static int feeds(const char *s) { return feed(s, strlen(s)); }

static void test_gdb_packets(void **state)
{
    static const struct { const char *wire, *payload; } known[] = {
        { "$g#67", "g" },
        { "$qsThreadInfo#c8", "qsThreadInfo" },
        { "$qfThreadInfo#bb", "qfThreadInfo" },
        { "$m100010,1#ec", "m100010,1" },
        { "$m10008c,4#29", "m10008c,4" },
        { "$D#44", "D" },
    };
    (void)state;
    gdb_rx_init(&rx);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        assert_int_equal(feeds(known[i].wire), GDB_RX_PACKET);
        assert_string_equal(rx.buf, known[i].payload);
        assert_int_equal(rx.len, strlen(known[i].payload));
        /* Our framing of the same payload is byte-identical. */
        char out[64];
        size_t n = gdb_frame((const uint8_t *)known[i].payload,
                             strlen(known[i].payload), out, sizeof(out));
        assert_int_equal(n, strlen(known[i].wire));
        assert_memory_equal(out, known[i].wire, n);
    }
    /* Upper-case checksum digits are accepted too. */
    assert_int_equal(feeds("$qfThreadInfo#BB"), GDB_RX_PACKET);
}

static void test_acks_and_interrupt(void **state)
{
    (void)state;
    gdb_rx_init(&rx);
    assert_int_equal(feeds("+"), GDB_RX_ACK);
    assert_int_equal(feeds("-"), GDB_RX_NACK);
    assert_int_equal(feeds("\x03"), GDB_RX_INTERRUPT);
    /* Inside a packet those bytes are data. */
    assert_int_equal(feeds("$+-"), GDB_RX_NONE);
    assert_int_equal(feeds("#58"), GDB_RX_PACKET);   /* 0x2b + 0x2d */
}

static void test_bad_packets(void **state)
{
    (void)state;
    gdb_rx_init(&rx);
    assert_int_equal(feeds("$g#68"), GDB_RX_BAD);        /* wrong sum */
    assert_int_equal(feeds("$g#6"), GDB_RX_NONE);
    assert_int_equal(feeds("x"), GDB_RX_BAD);            /* not hex */
    assert_int_equal(feeds("$g#z7"), GDB_RX_BAD);
    /* After errors the parser is back in step. */
    assert_int_equal(feeds("$g#67"), GDB_RX_PACKET);
    /* Junk between packets is skipped; a '$' restarts a cut-off packet. */
    assert_int_equal(feeds("garbage$m100$g#67"), GDB_RX_PACKET);
    assert_string_equal(rx.buf, "g");
}

static void test_oversized(void **state)
{
    (void)state;
    gdb_rx_init(&rx);
    size_t n = GDB_MAX_PACKET + 100;
    char *big = malloc(n + 8);
    assert_non_null(big);
    big[0] = '$';
    memset(big + 1, 'A', n);
    uint8_t sum = (uint8_t)(n * 'A');
    snprintf(big + 1 + n, 8, "#%02x", sum);
    assert_int_equal(feed(big, n + 4), GDB_RX_OVERFLOW);
    /* Exactly the maximum fits. */
    n = GDB_MAX_PACKET;
    sum = (uint8_t)(n * 'A');
    snprintf(big + 1 + n, 8, "#%02x", sum);
    assert_int_equal(feed(big, n + 4), GDB_RX_PACKET);
    assert_int_equal(rx.len, GDB_MAX_PACKET);
    free(big);
    assert_int_equal(feeds("$g#67"), GDB_RX_PACKET);
}

static void test_escaping(void **state)
{
    (void)state;
    const uint8_t data[] = { '$', '#', '}', '*', 0, 'a' };
    char out[64];
    size_t n = gdb_frame(data, sizeof(data), out, sizeof(out));
    /* Each special byte becomes '}' and the byte xor 0x20. */
    const char want[] = "$}\x04}\x03}]}\x0a\0a#";
    assert_true(n == sizeof(want) - 1 + 2);
    assert_memory_equal(out, want, sizeof(want) - 1);
    /* The checksum covers the bytes as sent, and the parser agrees. */
    gdb_rx_init(&rx);
    assert_int_equal(feed(out, n), GDB_RX_PACKET);
    assert_int_equal(rx.len, n - 4);
    long m = gdb_unescape((uint8_t *)rx.buf, rx.len);
    assert_int_equal(m, (long)sizeof(data));
    assert_memory_equal(rx.buf, data, sizeof(data));
    /* A lone trailing escape is an error. */
    uint8_t bad[] = { 'a', '}' };
    assert_int_equal(gdb_unescape(bad, 2), -1);
    /* Too small an output buffer: nothing, not a partial packet. */
    assert_int_equal(gdb_frame(data, sizeof(data), out, 8), 0);
    assert_int_equal(gdb_frame(data, 0, out, 3), 0);
    assert_int_equal(gdb_frame(data, 0, out, 4), 4);
    assert_memory_equal(out, "$#00", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gdb_packets),
        cmocka_unit_test(test_acks_and_interrupt),
        cmocka_unit_test(test_bad_packets),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_escaping),
    };
    return cmocka_run_group_tests_name("gdbstub", tests, NULL, NULL);
}
