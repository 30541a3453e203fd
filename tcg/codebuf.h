/* The code buffer: host memory for generated code that is never writable
 * and executable through the same mapping. The preferred layout maps one
 * memfd twice (a writable view for the emitter, an executable view that
 * runs); without memfd it falls back to one mapping whose protection is
 * toggled around every write. Allocation is a bump pointer; the owner
 * flushes everything when it fills. */
#ifndef TCG_CODEBUF_H
#define TCG_CODEBUF_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct CodeBuf {
    uint8_t *rw;         /* writable view (== rx when toggling) */
    uint8_t *rx;         /* executable view */
    size_t size;
    size_t used;
    bool dual;           /* two views; false: mprotect toggling */
    bool writable;       /* toggling mode: currently RW (not executable) */
    bool exec;           /* the memory may be executed (false for the
                            IR-interpreter backend, which only reads it) */
    size_t mark;         /* `used` at begin_write: end_write makes
                            [mark, used) visible to instruction fetch */
} CodeBuf;

/* Returns 0, or -1 when no memory could be mapped. */
int codebuf_init(CodeBuf *cb, size_t size, bool exec);
void codebuf_free(CodeBuf *cb);
/* Make the buffer writable (a no-op with dual mapping). Every write into
 * the buffer happens between begin_write and end_write. */
void codebuf_begin_write(CodeBuf *cb);
void codebuf_end_write(CodeBuf *cb);
/* Convert between the views. */
static inline uint8_t *codebuf_rw(const CodeBuf *cb, const void *rx)
{ return cb->rw + ((const uint8_t *)rx - cb->rx); }
static inline const uint8_t *codebuf_rx(const CodeBuf *cb, const void *rw)
{ return cb->rx + ((const uint8_t *)rw - cb->rw); }
static inline size_t codebuf_room(const CodeBuf *cb) { return cb->size - cb->used; }
static inline void codebuf_reset(CodeBuf *cb) { cb->used = 0; }
#endif
