/* Character device backends, driven through the real event loop: what a
 * frontend writes reaches the file, FIFO or TCP peer, and what the peer
 * sends reaches the frontend only as fast as it says it can take it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "system/chardev.h"
#include "system/event.h"

typedef struct Sink {
    uint8_t buf[8192];
    size_t len;
    size_t room;              /* what can_read reports */
} Sink;

static size_t sink_can_read(void *opaque)
{
    Sink *s = opaque;
    return s->room;
}

static void sink_read(void *opaque, const uint8_t *buf, size_t len)
{
    Sink *s = opaque;
    assert_true(len <= s->room);
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    s->room -= len;
}

static void spin(Sink *s, size_t want)
{
    for (int i = 0; i < 200 && s->len < want; i++) {
        event_poll(5 * 1000 * 1000);
        chardev_pump();
    }
}

static char tmpdir[64];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/kestrel-chardev-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    chardev_close_all();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_file_and_null(void **state)
{
    char path[128], spec[160], err[256], got[64] = "";
    snprintf(path, sizeof(path), "%s/out.txt", tmpdir);
    snprintf(spec, sizeof(spec), "file:%s", path);
    Chardev *c = chardev_open(spec, err, sizeof(err));
    assert_non_null(c);
    chardev_write(c, (const uint8_t *)"hello ", 6);
    chardev_write(c, (const uint8_t *)"world", 5);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(got, 1, sizeof(got) - 1, f), 11);
    fclose(f);
    assert_string_equal(got, "hello world");

    Chardev *n = chardev_open("null", err, sizeof(err));
    assert_non_null(n);
    chardev_write(n, (const uint8_t *)"x", 1);      /* goes nowhere */

    assert_null(chardev_open("file:/nonexistent-dir/x", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent-dir/x"));
    assert_null(chardev_open("bogus", err, sizeof(err)));
    assert_null(chardev_open("chardev:missing", err, sizeof(err)));
}

static void test_define(void **state)
{
    char path[128], opt[256], err[256];
    snprintf(path, sizeof(path), "%s/def.txt", tmpdir);
    snprintf(opt, sizeof(opt), "file,id=log,path=%s", path);
    assert_int_equal(chardev_define(opt, err, sizeof(err)), 0);
    Chardev *c = chardev_find("log");
    assert_non_null(c);
    char err2[256];
    assert_ptr_equal(chardev_open("chardev:log", err2, sizeof(err2)), c);
    /* Errors: duplicate id, no id, unknown backend and option. */
    assert_int_equal(chardev_define(opt, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "duplicate"));
    assert_int_equal(chardev_define("null", err, sizeof(err)), -1);
    assert_int_equal(chardev_define("tty,id=t", err, sizeof(err)), -1);
    assert_int_equal(chardev_define("null,id=z,colour=red", err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "colour"));
}

/* A FIFO pair: bytes written by the "host" side arrive at the frontend,
 * held back while it reports no room. */
static void test_pipe_flow_control(void **state)
{
    char base[128], in[160], out[160], spec[160], err[256];
    snprintf(base, sizeof(base), "%s/p", tmpdir);
    snprintf(in, sizeof(in), "%s.in", base);
    snprintf(out, sizeof(out), "%s.out", base);
    assert_int_equal(mkfifo(in, 0600), 0);
    assert_int_equal(mkfifo(out, 0600), 0);
    snprintf(spec, sizeof(spec), "pipe:%s", base);
    Chardev *c = chardev_open(spec, err, sizeof(err));
    assert_non_null(c);
    Sink s = { .room = 0 };
    chardev_set_handlers(c, sink_can_read, sink_read, &s);

    int wfd = open(in, O_WRONLY | O_NONBLOCK);
    assert_true(wfd >= 0);
    assert_int_equal(write(wfd, "abcdef", 6), 6);
    spin(&s, 1);
    assert_int_equal(s.len, 0);                 /* no room: nothing yet */
    s.room = 4;
    spin(&s, 4);
    assert_int_equal(s.len, 4);
    s.room = 100;
    spin(&s, 6);
    assert_int_equal(s.len, 6);
    assert_memory_equal(s.buf, "abcdef", 6);
    close(wfd);

    /* And the other way. */
    int rfd = open(out, O_RDONLY | O_NONBLOCK);
    assert_true(rfd >= 0);
    chardev_write(c, (const uint8_t *)"xyz", 3);
    char got[8] = "";
    assert_int_equal(read(rfd, got, sizeof(got)), 3);
    assert_memory_equal(got, "xyz", 3);
    close(rfd);
}

static void test_socket_server(void **state)
{
    char err[256];
    /* Port 0 would be ideal but the spec needs a number the client knows:
     * find a free one first. */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(probe, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(probe, (struct sockaddr *)&a, &alen), 0);
    int port = ntohs(a.sin_port);
    close(probe);

    char opt[128];
    snprintf(opt, sizeof(opt), "socket,id=net,port=%d,server=on,wait=off",
             port);
    assert_int_equal(chardev_define(opt, err, sizeof(err)), 0);
    Chardev *c = chardev_find("net");
    Sink s = { .room = sizeof(s.buf) };
    chardev_set_handlers(c, sink_can_read, sink_read, &s);
    chardev_write(c, (const uint8_t *)"lost", 4);   /* no client: dropped */

    int cl = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(cl, (struct sockaddr *)&a, sizeof(a)), 0);
    for (int i = 0; i < 20; i++)
        event_poll(5 * 1000 * 1000);              /* accept */
    assert_int_equal(send(cl, "ping", 4, 0), 4);
    spin(&s, 4);
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.buf, "ping", 4);
    chardev_write(c, (const uint8_t *)"pong", 4);
    char got[8] = "";
    assert_int_equal(recv(cl, got, sizeof(got), 0), 4);
    assert_memory_equal(got, "pong", 4);
    close(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_and_null),
        cmocka_unit_test(test_define),
        cmocka_unit_test(test_pipe_flow_control),
        cmocka_unit_test(test_socket_server),
    };
    return cmocka_run_group_tests_name("chardev", tests, setup, teardown);
}
