/* The PC board. The CPU has not landed yet, so the board can only say so;
 * the wiring arrives device by device as each one is committed. */
#include <stdio.h>
#include <stdlib.h>
#include "system/machine.h"

struct Machine {
    MachineConfig cfg;
};

Machine *machine_create(const MachineConfig *cfg, char *err, size_t errlen)
{
    (void)cfg;
    snprintf(err, errlen, "no machine to run yet: the CPU is not built");
    return NULL;
}

int machine_run(Machine *m)
{
    (void)m;
    return 1;
}

void machine_destroy(Machine *m)
{
    free(m);
}

void machine_request_reset(Machine *m)
{
    (void)m;
}

void machine_request_shutdown(Machine *m, int exit_status)
{
    (void)m;
    (void)exit_status;
}

CPUState *machine_cpu(Machine *m)
{
    (void)m;
    return NULL;
}

Bus *machine_bus(Machine *m)
{
    (void)m;
    return NULL;
}

void machine_pause(Machine *m, bool pause)
{
    (void)m;
    (void)pause;
}

bool machine_paused(const Machine *m)
{
    (void)m;
    return false;
}
