/* -d items and the log sink. The item names and meanings follow QEMU so
 * that `-d in_asm,int -D log` means the same thing in both. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "debug/trace.h"

uint32_t trace_flags;
static FILE *logfile;

static const struct {
    const char *name;
    uint32_t mask;
    const char *help;
} items[] = {
    { "in_asm", TRACE_IN_ASM, "show guest code of each translated block" },
    { "out_asm", TRACE_OUT_ASM, "show host code generated for each block" },
    { "exec", TRACE_EXEC, "show a trace line for each executed block" },
    { "cpu", TRACE_CPU, "show CPU registers before entering a block" },
    { "int", TRACE_INT, "show interrupts and exceptions" },
    { "unimp", TRACE_UNIMP, "log unimplemented functionality (ports, MSRs)" },
    { "guest_errors", TRACE_GUEST_ERRORS,
      "log invalid guest operations on devices" },
    { "stats", TRACE_STATS, "print execution statistics at exit" },
};
#define NITEMS (sizeof(items) / sizeof(items[0]))

void trace_help(FILE *f)
{
    fprintf(f, "Log items (comma separated):\n");
    for (size_t i = 0; i < NITEMS; i++)
        fprintf(f, "%-14s %s\n", items[i].name, items[i].help);
}

int trace_parse(const char *list, uint32_t *out, char *err, size_t errlen)
{
    uint32_t mask = 0;
    const char *p = list;
    if (!strcmp(list, "help") || !strcmp(list, "?")) {
        trace_help(stdout);
        return 1;
    }
    while (*p) {
        size_t n = strcspn(p, ",");
        bool found = false;
        if (n == 3 && !strncmp(p, "all", 3)) {
            for (size_t i = 0; i < NITEMS; i++)
                mask |= items[i].mask;
            found = true;
        }
        for (size_t i = 0; !found && i < NITEMS; i++) {
            if (strlen(items[i].name) == n && !strncmp(p, items[i].name, n)) {
                mask |= items[i].mask;
                found = true;
            }
        }
        if (!found) {
            snprintf(err, errlen, "-d: unknown log item '%.*s' (see -d help)",
                     (int)n, p);
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    *out = mask;
    return 0;
}

int trace_set_logfile(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "-D %s: %s", path, strerror(errno));
        return -1;
    }
    if (logfile)
        fclose(logfile);
    logfile = f;
    return 0;
}

FILE *trace_file(void)
{
    return logfile ? logfile : stderr;
}

void kestrel_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(trace_file(), fmt, ap);
    va_end(ap);
}

void trace_close(void)
{
    if (logfile) {
        fclose(logfile);
        logfile = NULL;
    }
}
