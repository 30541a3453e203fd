/* The PC's 8237 DMA controller pair: DMA1 (8-bit channels 0-3) at
 * 0x00-0x0F, DMA2 (16-bit channels 4-7, channel 4 is the cascade) at
 * 0xC0-0xDF, and the page registers at 0x80-0x8F. */
#ifndef HW_DMA_H
#define HW_DMA_H
#include <stdbool.h>
#include <stdint.h>
#include "hw/bus.h"

typedef struct DMA DMA;
DMA *dma_init(Bus *b);
void dma_free(DMA *d);
/* Transfer for an ISA device (floppy, SB): moves up to len bytes on
 * channel ch between buf and guest memory in the direction the guest
 * programmed. Returns bytes moved; sets terminal count. */
int dma_transfer(DMA *d, int ch, uint8_t *buf, int len);
#endif
