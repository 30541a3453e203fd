/* Character devices: the host end of a serial port, monitor, debug console
 * or gdb connection. Backends: stdio, file, null, pipe, socket (QEMU's
 * names). A frontend (a UART, say) writes bytes and registers a handler
 * for bytes arriving from the host. */
#ifndef SYSTEM_CHARDEV_H
#define SYSTEM_CHARDEV_H
#include <stddef.h>
#include <stdint.h>

typedef struct Chardev Chardev;
/* Returns how many bytes the frontend can take now (0: hold them). */
typedef size_t ChrCanRead(void *opaque);
typedef void ChrRead(void *opaque, const uint8_t *buf, size_t len);

/* spec in the -serial form: "stdio", "file:PATH", "null", "pipe:PATH",
 * "tcp:HOST:PORT,server,nowait", or "chardev:ID". On error returns NULL and
 * writes one line into err. */
Chardev *chardev_open(const char *spec, char *err, size_t errlen);
/* -chardev BACKEND,id=ID,... ; returns 0 or -1 with err set. */
int chardev_define(const char *optarg, char *err, size_t errlen);
Chardev *chardev_find(const char *id);
void chardev_write(Chardev *c, const uint8_t *buf, size_t len);
void chardev_set_handlers(Chardev *c, ChrCanRead *can_read, ChrRead *read,
                          void *opaque);
void chardev_flush_all(void);
/* Hand buffered input to frontends that can take it now (the machine loop
 * calls this between slices). */
void chardev_pump(void);
/* Ctrl-A x on the terminal calls fn (default: exit(0)). */
void chardev_set_quit_handler(void (*fn)(void *opaque), void *opaque);
void chardev_close_all(void);
#endif
