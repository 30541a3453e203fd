/* Shared between the ATA core (ide.c) and the ATAPI packet layer
 * (ide_atapi.c); not for other rooms. */
#ifndef HW_IDE_INT_H
#define HW_IDE_INT_H
#include "hw/ide.h"

/* What completing a PIO data block leads to. */
enum {
    END_NONE, END_READ, END_WRITE, END_PACKET, END_ATAPI_DATA,
    END_ATAPI_OUT,
};
/* A DMA command waiting for the bus master. */
enum { DMA_NONE, DMA_READ, DMA_WRITE, DMA_ATAPI };

void ide_raise_irq(IDEChannel *ch);
/* Runs a pending DMA command if the bus master is started. */
void ide_run_dma(IDEChannel *ch);
void ide_abort(IDEChannel *ch, IDEDriveState *d);
void ide_set_signature(IDEDriveState *d);
void ide_string(uint8_t *buf, int word, const char *s, int len);
void ide_identify_common(IDEDriveState *d, int unit, uint16_t *w);
void ide_put_word(uint8_t *buf, int word, uint16_t v);

/* ATAPI (ide_atapi.c) */
void atapi_identify(IDEChannel *ch, IDEDriveState *d, int unit);
void atapi_packet_start(IDEChannel *ch, IDEDriveState *d);
void atapi_packet_exec(IDEChannel *ch, IDEDriveState *d, BlockDriverState *bs);
void atapi_data_done(IDEChannel *ch, IDEDriveState *d, BlockDriverState *bs);
void atapi_finish(IDEChannel *ch, IDEDriveState *d);
void atapi_fail(IDEChannel *ch, IDEDriveState *d, uint8_t key, uint8_t asc,
                uint8_t ascq);
void atapi_reset_sense(IDEDriveState *d);
#endif
