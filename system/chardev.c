/* Character device backends: stdio, file, null, pipe and a TCP socket
 * server, with QEMU's option names.
 *
 * Input is read when the event loop says a host fd is ready, into a small
 * buffer per device, and handed to the frontend as fast as it accepts it
 * (chardev_pump, called by the machine loop between slices). While that
 * buffer is full the fd is taken out of the poll set, so a slow guest never
 * makes the loop spin on a readable fd.
 *
 * stdio is shared: every frontend that opens "stdio" gets its own Chardev
 * over the one terminal, like QEMU's mux. Output from all of them goes to
 * the terminal; input goes to the one with the focus. Ctrl-A is the escape:
 * Ctrl-A x quits, Ctrl-A c moves the focus (serial <-> monitor), Ctrl-A h
 * lists the keys, Ctrl-A Ctrl-A sends one Ctrl-A. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <termios.h>
#include <unistd.h>
#include "system/chardev.h"
#include "system/event.h"

enum { CHR_NULL, CHR_STDIO, CHR_FILE, CHR_PIPE, CHR_SOCKET };

#define INBUF 4096

struct Chardev {
    int type;
    char *id;                  /* -chardev id, or NULL for anonymous */
    int in_fd, out_fd;         /* -1 when absent */
    int listen_fd;             /* socket server */
    bool polling;              /* in_fd is registered with the event loop */
    ChrCanRead *can_read;
    ChrRead *read;
    void *opaque;
    uint8_t in[INBUF];
    size_t in_start, in_len;
    Chardev *next;
};

static Chardev *all_chardevs;

/* The terminal behind every stdio chardev. */
static struct {
    bool raw, reading, escape;
    struct termios saved;
    Chardev *focus;
} stdio_mux;

static void (*quit_handler)(void *opaque);
static void *quit_opaque;

void chardev_set_quit_handler(void (*fn)(void *opaque), void *opaque)
{
    quit_handler = fn;
    quit_opaque = opaque;
}

static void write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;             /* EAGAIN or a closed peer: drop output */
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void socket_write(Chardev *c, const uint8_t *buf, size_t len)
{
    while (len && c->out_fd >= 0) {
        ssize_t n = send(c->out_fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;         /* a client that does not read loses data */
            event_del_fd(c->out_fd);
            close(c->out_fd);
            c->in_fd = c->out_fd = -1;
            c->polling = false;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

void chardev_write(Chardev *c, const uint8_t *buf, size_t len)
{
    if (!c || !len)
        return;
    if (c->type == CHR_SOCKET) {
        socket_write(c, buf, len);
        return;
    }
    if (c->out_fd < 0)
        return;
    write_all(c->out_fd, buf, len);
}

/* ---- input ---- */

static void on_readable(void *opaque);

static void poll_input(Chardev *c, bool on)
{
    if (c->in_fd < 0 || c->polling == on)
        return;
    if (on)
        event_add_fd(c->in_fd, on_readable, c);
    else
        event_del_fd(c->in_fd);
    c->polling = on;
}

static void deliver(Chardev *c)
{
    while (c->in_len && c->read) {
        size_t n = c->can_read ? c->can_read(c->opaque) : c->in_len;
        if (!n)
            break;
        if (n > c->in_len)
            n = c->in_len;
        c->read(c->opaque, c->in + c->in_start, n);
        c->in_start += n;
        c->in_len -= n;
    }
    if (!c->in_len)
        c->in_start = 0;
}

static void queue_input(Chardev *c, const uint8_t *buf, size_t len)
{
    if (c->in_start + c->in_len + len > INBUF) {
        memmove(c->in, c->in + c->in_start, c->in_len);
        c->in_start = 0;
    }
    if (len > INBUF - c->in_len)
        len = INBUF - c->in_len;
    memcpy(c->in + c->in_start + c->in_len, buf, len);
    c->in_len += len;
}

static void stdio_help(void)
{
    static const char help[] =
        "\r\nC-a h    print this help\r\n"
        "C-a x    exit Kestrel\r\n"
        "C-a c    switch between the serial console and the monitor\r\n"
        "C-a C-a  send C-a\r\n";
    write_all(STDOUT_FILENO, (const uint8_t *)help, sizeof(help) - 1);
}

static void stdio_next_focus(void)
{
    Chardev *start = stdio_mux.focus, *c = start;
    do {
        c = c && c->next ? c->next : all_chardevs;
        if (c && c->type == CHR_STDIO && c->read) {
            static const uint8_t none;
            stdio_mux.focus = c;
            /* An empty read tells the frontend it has the terminal now
             * (the monitor prints its prompt). */
            c->read(c->opaque, &none, 0);
            return;
        }
    } while (c != start && c);
}

/* Bytes typed on the terminal: the escape sequences first, then the
 * focused frontend. */
static void stdio_input(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = buf[i];
        if (stdio_mux.escape) {
            stdio_mux.escape = false;
            if (ch == 'x' || ch == 'X') {
                static const char msg[] = "\r\nkestrel: terminated\r\n";
                write_all(STDOUT_FILENO, (const uint8_t *)msg,
                          sizeof(msg) - 1);
                if (quit_handler) {
                    quit_handler(quit_opaque);
                    continue;
                }
                exit(0);
            } else if (ch == 'c') {
                stdio_next_focus();
                continue;
            } else if (ch == 'h' || ch == '?') {
                stdio_help();
                continue;
            } else if (ch != 1) {
                continue;
            }
        } else if (ch == 1 && stdio_mux.raw) {
            stdio_mux.escape = true;
            continue;
        }
        if (stdio_mux.focus)
            queue_input(stdio_mux.focus, &ch, 1);
    }
}

static void socket_accept(Chardev *c)
{
    int fd = accept(c->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    if (c->out_fd >= 0) {       /* one client at a time, as QEMU */
        close(fd);
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->in_fd = c->out_fd = fd;
    c->polling = false;
    poll_input(c, true);
}

static void on_listen(void *opaque)
{
    socket_accept(opaque);
}

static void on_readable(void *opaque)
{
    Chardev *c = opaque;
    uint8_t buf[INBUF];
    size_t room = INBUF - c->in_len;
    if (c->type == CHR_STDIO && stdio_mux.focus)
        room = INBUF - stdio_mux.focus->in_len;
    if (!room) {
        poll_input(c, false);
        return;
    }
    ssize_t n = read(c->in_fd, buf, room);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        /* End of input: stop polling; a socket waits for a new client. */
        poll_input(c, false);
        if (c->type == CHR_SOCKET) {
            close(c->in_fd);
            c->in_fd = c->out_fd = -1;
        } else {
            c->in_fd = -1;
        }
        return;
    }
    if (c->type == CHR_STDIO)
        stdio_input(buf, (size_t)n);
    else
        queue_input(c, buf, (size_t)n);
}

void chardev_pump(void)
{
    for (Chardev *c = all_chardevs; c; c = c->next) {
        deliver(c);
        if (c->type == CHR_STDIO) {
            /* The terminal fd belongs to the first stdio chardev. */
            continue;
        }
        if (c->read && c->in_len < INBUF)
            poll_input(c, true);
    }
    for (Chardev *c = all_chardevs; c; c = c->next) {
        if (c->type == CHR_STDIO && c->in_fd >= 0) {
            bool room = !stdio_mux.focus || stdio_mux.focus->in_len < INBUF;
            poll_input(c, stdio_mux.focus && room);
            break;
        }
    }
}

void chardev_set_handlers(Chardev *c, ChrCanRead *can_read, ChrRead *read,
                          void *opaque)
{
    if (!c)
        return;
    c->can_read = can_read;
    c->read = read;
    c->opaque = opaque;
    if (c->type == CHR_STDIO && read && !stdio_mux.focus)
        stdio_mux.focus = c;
    chardev_pump();
}

/* ---- the terminal ---- */

static void stdio_restore(void)
{
    if (stdio_mux.raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &stdio_mux.saved);
        stdio_mux.raw = false;
    }
}

static void stdio_signal(int sig)
{
    stdio_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Raw input (no echo, no line editing, Ctrl-C goes to the guest) with the
 * terminal's output processing left on, restored however Kestrel ends. */
static void stdio_make_raw(void)
{
    struct termios t;
    if (stdio_mux.raw || !isatty(STDIN_FILENO) ||
        tcgetattr(STDIN_FILENO, &stdio_mux.saved))
        return;
    t = stdio_mux.saved;
    t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL |
                   IXON);
    t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
        return;
    stdio_mux.raw = true;
    atexit(stdio_restore);
    signal(SIGTERM, stdio_signal);
    signal(SIGHUP, stdio_signal);
    signal(SIGQUIT, stdio_signal);
}

/* ---- creation ---- */

static Chardev *chardev_new(int type, int in_fd, int out_fd)
{
    Chardev *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->type = type;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->listen_fd = -1;
    /* Keep creation order: the first stdio frontend gets the focus. */
    Chardev **pp = &all_chardevs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = c;
    return c;
}

static Chardev *open_stdio(void)
{
    /* Only the first stdio chardev reads the terminal; input is routed to
     * whichever has the focus. */
    int in_fd = stdio_mux.reading ? -1 : STDIN_FILENO;
    Chardev *c = chardev_new(CHR_STDIO, in_fd, STDOUT_FILENO);
    if (c && in_fd >= 0) {
        stdio_mux.reading = true;
        stdio_make_raw();
    }
    return c;
}

static Chardev *open_file(const char *path, bool append, char *err,
                          size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
                  (append ? O_APPEND : O_TRUNC), 0666);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    return chardev_new(CHR_FILE, -1, fd);
}

/* QEMU's pipe: PATH.in and PATH.out when both exist, else PATH both ways
 * (all FIFOs the user made with mkfifo). */
static Chardev *open_pipe(const char *path, char *err, size_t errlen)
{
    char in[4096], out[4096];
    int ifd, ofd;
    snprintf(in, sizeof(in), "%s.in", path);
    snprintf(out, sizeof(out), "%s.out", path);
    ifd = open(in, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ofd = open(out, O_RDWR | O_CLOEXEC);
    if (ifd < 0 || ofd < 0) {
        if (ifd >= 0)
            close(ifd);
        if (ofd >= 0)
            close(ofd);
        ifd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (ifd < 0) {
            snprintf(err, errlen, "pipe %s: %s", path, strerror(errno));
            return NULL;
        }
        ofd = dup(ifd);
    }
    return chardev_new(CHR_PIPE, ifd, ofd);
}

static Chardev *open_socket(const char *host, const char *port, bool wait,
                            char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *res = NULL;
    char *end;
    long pn = strtol(port, &end, 10);
    if (*end || end == port || pn < 1 || pn > 65535) {
        snprintf(err, errlen, "socket port '%s': expected a number 1-65535",
                 port);
        return NULL;
    }
    if (!host || !*host)
        host = "127.0.0.1";     /* loopback unless asked otherwise */
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "socket %s:%s: %s", host, port,
                 gai_strerror(rc));
        return NULL;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1)) {
        snprintf(err, errlen, "socket %s:%s: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return NULL;
    }
    freeaddrinfo(res);
    Chardev *c = chardev_new(CHR_SOCKET, -1, -1);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->listen_fd = fd;
    if (wait) {
        fprintf(stderr, "kestrel: waiting for a connection on %s:%s\n",
                host, port);
        socket_accept(c);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    event_add_fd(fd, on_listen, c);
    return c;
}

/* "tcp:HOST:PORT[,server=on|server][,wait=off|nowait]" */
static Chardev *open_tcp_spec(const char *spec, char *err, size_t errlen)
{
    char buf[256], *opts, *colon;
    bool server = false, wait = true;
    snprintf(buf, sizeof(buf), "%s", spec);
    opts = strchr(buf, ',');
    if (opts)
        *opts++ = 0;
    colon = strrchr(buf, ':');
    if (!colon || !colon[1]) {
        snprintf(err, errlen, "tcp:%s: expected tcp:HOST:PORT", spec);
        return NULL;
    }
    *colon = 0;
    for (char *save = NULL, *o = opts ? strtok_r(opts, ",", &save) : NULL; o;
         o = strtok_r(NULL, ",", &save)) {
        if (!strcmp(o, "server") || !strcmp(o, "server=on"))
            server = true;
        else if (!strcmp(o, "nowait") || !strcmp(o, "wait=off"))
            wait = false;
        else if (!strcmp(o, "wait=on") || !strcmp(o, "server=off"))
            ;
        else {
            snprintf(err, errlen, "tcp:%s: option '%s' is not supported",
                     spec, o);
            return NULL;
        }
    }
    if (!server) {
        snprintf(err, errlen, "tcp:%s: only server=on is supported", spec);
        return NULL;
    }
    return open_socket(buf, colon + 1, wait, err, errlen);
}

Chardev *chardev_open(const char *spec, char *err, size_t errlen)
{
    Chardev *c = NULL;
    if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio"))
        c = open_stdio();
    else if (!strcmp(spec, "null"))
        c = chardev_new(CHR_NULL, -1, -1);
    else if (!strncmp(spec, "file:", 5))
        return open_file(spec + 5, false, err, errlen);
    else if (!strncmp(spec, "pipe:", 5))
        return open_pipe(spec + 5, err, errlen);
    else if (!strncmp(spec, "tcp:", 4))
        return open_tcp_spec(spec + 4, err, errlen);
    else if (!strncmp(spec, "chardev:", 8)) {
        c = chardev_find(spec + 8);
        if (!c)
            snprintf(err, errlen, "no -chardev with id '%s'", spec + 8);
        return c;
    } else {
        snprintf(err, errlen, "'%s': unknown character device", spec);
        return NULL;
    }
    if (!c)
        snprintf(err, errlen, "out of memory");
    return c;
}

Chardev *chardev_find(const char *id)
{
    for (Chardev *c = all_chardevs; c; c = c->next)
        if (c->id && !strcmp(c->id, id))
            return c;
    return NULL;
}

/* -chardev BACKEND,id=ID,KEY=VAL... */
int chardev_define(const char *optarg, char *err, size_t errlen)
{
    char buf[1024];
    const char *backend, *id = NULL, *path = NULL, *host = NULL, *port = NULL;
    bool server = false, wait = true, append = false;
    if (strlen(optarg) >= sizeof(buf)) {
        snprintf(err, errlen, "-chardev: option string too long");
        return -1;
    }
    if (!strcmp(optarg, "help")) {
        printf("Available chardev backend types:\n  file\n  null\n  pipe\n"
               "  socket\n  stdio\n");
        exit(0);
    }
    strcpy(buf, optarg);
    char *save = NULL;
    backend = strtok_r(buf, ",", &save);
    for (char *o = strtok_r(NULL, ",", &save); o;
         o = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(o, '=');
        const char *v = eq ? eq + 1 : "on";
        if (eq)
            *eq = 0;
        if (!strcmp(o, "id")) id = v;
        else if (!strcmp(o, "path")) path = v;
        else if (!strcmp(o, "host")) host = v;
        else if (!strcmp(o, "port")) port = v;
        else if (!strcmp(o, "server")) server = !strcmp(v, "on");
        else if (!strcmp(o, "wait")) wait = !strcmp(v, "on");
        else if (!strcmp(o, "nowait")) wait = false;
        else if (!strcmp(o, "append")) append = !strcmp(v, "on");
        else if (!strcmp(o, "signal") || !strcmp(o, "mux") ||
                 !strcmp(o, "logfile") || !strcmp(o, "telnet")) {
            if (!strcmp(v, "off"))
                continue;
            snprintf(err, errlen, "-chardev %s: '%s' is not supported yet",
                     optarg, o);
            return -1;
        } else {
            snprintf(err, errlen, "-chardev %s: unknown option '%s'", optarg,
                     o);
            return -1;
        }
    }
    if (!backend || !id || !*id) {
        snprintf(err, errlen, "-chardev %s: needs BACKEND,id=ID", optarg);
        return -1;
    }
    if (chardev_find(id)) {
        snprintf(err, errlen, "-chardev %s: duplicate id '%s'", optarg, id);
        return -1;
    }
    char e[200] = "";
    Chardev *c = NULL;
    if (!strcmp(backend, "stdio")) {
        c = open_stdio();
    } else if (!strcmp(backend, "null")) {
        c = chardev_new(CHR_NULL, -1, -1);
    } else if (!strcmp(backend, "file") || !strcmp(backend, "pipe")) {
        if (!path) {
            snprintf(err, errlen, "-chardev %s: needs path=", optarg);
            return -1;
        }
        c = backend[0] == 'f' ? open_file(path, append, e, sizeof(e))
                              : open_pipe(path, e, sizeof(e));
    } else if (!strcmp(backend, "socket")) {
        if (!port) {
            snprintf(err, errlen, "-chardev %s: needs port= (unix sockets "
                     "are not supported yet)", optarg);
            return -1;
        }
        if (!server) {
            snprintf(err, errlen, "-chardev %s: only server=on is supported "
                     "yet", optarg);
            return -1;
        }
        c = open_socket(host, port, wait, e, sizeof(e));
    } else {
        snprintf(err, errlen, "-chardev %s: unknown backend '%s' (file, null, "
                 "pipe, socket, stdio)", optarg, backend);
        return -1;
    }
    if (!c) {
        snprintf(err, errlen, "-chardev %s: %s", optarg,
                 e[0] ? e : "out of memory");
        return -1;
    }
    c->id = strdup(id);
    return 0;
}

void chardev_flush_all(void)
{
    /* Backends write straight to their fds; only stdio's FILE buffer
     * (monitor output printed with stdio) can hold bytes back. */
    fflush(stdout);
}

void chardev_close_all(void)
{
    while (all_chardevs) {
        Chardev *c = all_chardevs;
        all_chardevs = c->next;
        if (c->polling)
            event_del_fd(c->in_fd);
        if (c->listen_fd >= 0) {
            event_del_fd(c->listen_fd);
            close(c->listen_fd);
        }
        if (c->type != CHR_STDIO) {
            if (c->in_fd >= 0 && c->in_fd != c->out_fd)
                close(c->in_fd);
            if (c->out_fd >= 0)
                close(c->out_fd);
        }
        free(c->id);
        free(c);
    }
    stdio_mux.focus = NULL;
    stdio_mux.reading = false;
    stdio_restore();
}
