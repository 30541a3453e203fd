/* W^X code memory: see codebuf.h. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include <string.h>
#include <stdio.h>
#include "tcg/codebuf.h"

static int map_dual(CodeBuf *cb, size_t size)
{
#ifdef MFD_CLOEXEC
    int fd = memfd_create("kestrel-code", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) < 0) {
        close(fd);
        return -1;
    }
    void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void *rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    close(fd);
    if (rw == MAP_FAILED || rx == MAP_FAILED) {
        if (rw != MAP_FAILED)
            munmap(rw, size);
        if (rx != MAP_FAILED)
            munmap(rx, size);
        return -1;
    }
    cb->rw = rw;
    cb->rx = rx;
    cb->dual = true;
    return 0;
#else
    (void)cb; (void)size;
    return -1;
#endif
}

int codebuf_init(CodeBuf *cb, size_t size, bool exec)
{
    memset(cb, 0, sizeof(*cb));
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0)
        pg = 4096;
    size = (size + (size_t)pg - 1) & ~((size_t)pg - 1);
    cb->size = size;
    cb->exec = exec;
    if (!exec) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return -1;
        cb->rw = cb->rx = p;
        cb->dual = true;     /* always writable, never executed */
        return 0;
    }
    if (map_dual(cb, size) == 0)
        return 0;
    void *p = mmap(NULL, size, PROT_READ | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    cb->rw = cb->rx = p;
    cb->dual = false;
    return 0;
}

void codebuf_free(CodeBuf *cb)
{
    if (!cb->rx)
        return;
    if (cb->rw != cb->rx)
        munmap(cb->rw, cb->size);
    munmap(cb->rx, cb->size);
    memset(cb, 0, sizeof(*cb));
}

void codebuf_begin_write(CodeBuf *cb)
{
    cb->mark = cb->used;
    if (cb->dual || cb->writable)
        return;
    if (mprotect(cb->rx, cb->size, PROT_READ | PROT_WRITE) < 0) {
        perror("kestrel: mprotect code buffer");
        _exit(1);
    }
    cb->writable = true;
}

void codebuf_end_write(CodeBuf *cb)
{
    /* Only what was appended since begin_write needs the instruction
     * cache cleaned (a backend's jump patch cleans its own few bytes):
     * cleaning the whole used buffer made every translation cost more than
     * the one before on hosts where cleaning is real work (aarch64). */
    size_t from = cb->mark <= cb->used ? cb->mark : 0;
    if (cb->dual) {
        if (cb->exec && cb->used > from)
            __builtin___clear_cache((char *)cb->rx + from, (char *)cb->rx + cb->used);
        return;
    }
    if (!cb->writable)
        return;
    if (mprotect(cb->rx, cb->size, PROT_READ | PROT_EXEC) < 0) {
        perror("kestrel: mprotect code buffer");
        _exit(1);
    }
    if (cb->used > from)
        __builtin___clear_cache((char *)cb->rx + from, (char *)cb->rx + cb->used);
    cb->writable = false;
}
