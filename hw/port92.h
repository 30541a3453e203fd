/* System Control Port A (0x92): fast A20 in bit 1, and a reset pulse when
 * bit 0 goes from 0 to 1. */
#ifndef HW_PORT92_H
#define HW_PORT92_H
#include <stdbool.h>
#include <stdint.h>
#include "hw/bus.h"

void port92_init(Bus *b);

#endif
