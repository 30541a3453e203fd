/* The human monitor (-monitor DEV): QEMU's command names and output
 * shapes for what Kestrel has — help, info registers/tlb/status/version,
 * x and xp memory dumps, stop, cont, system_reset, quit, screendump. */
#ifndef DEBUG_MONITOR_H
#define DEBUG_MONITOR_H
#include "system/chardev.h"
#include "system/machine.h"

typedef struct Monitor Monitor;
/* Reads commands from chr. Prints the banner and prompt now, or, when
 * quiet (the monitor shares the terminal with a serial port), once the
 * terminal's focus comes to it (Ctrl-A c). */
Monitor *monitor_new(Chardev *chr, Machine *m, bool quiet);
void monitor_free(Monitor *mon);
/* Run one command line (what typing it and Enter does). */
void monitor_command(Monitor *mon, const char *line);
#endif
