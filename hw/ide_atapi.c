/* ATAPI CD-ROM: the PACKET protocol (command packet, byte-count-limited
 * data blocks, completion with the interrupt reason in the sector count
 * register) and the MMC commands SeaBIOS and Linux use. 2048-byte
 * blocks; one data track. */
#include "hw/ide_int.h"
#include <string.h>

/* Sense keys and additional sense codes (SPC/MMC). */
#define SK_NOT_READY       0x02
#define SK_MEDIUM_ERROR    0x03
#define SK_ILLEGAL_REQUEST 0x05
#define SK_UNIT_ATTENTION  0x06
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD  0x24
#define ASC_NO_MEDIUM      0x3a
#define ASC_REMOVAL_PREVENTED 0x53

/* Interrupt reason (sector count register): CoD bit 0, IO bit 1. */
#define IR_COD 0x01
#define IR_IO  0x02

#define CD_BLOCK 2048

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static uint32_t cd_blocks(IDEDriveState *d)
{
    uint64_t n = d->nb_sectors / 4;
    return n > 0xffffffffu ? 0xffffffffu : (uint32_t)n;
}

void atapi_reset_sense(IDEDriveState *d)
{
    d->sense_key = d->asc = d->ascq = 0;
}

void atapi_identify(IDEChannel *ch, IDEDriveState *d, int unit)
{
    uint8_t *b = d->buf;
    memset(b, 0, 512);
    /* ATAPI, CD-ROM class, removable, 50 us DRQ, 12-byte packets. */
    ide_put_word(b, 0, 0x85c0);
    ide_put_word(b, 49, 0x0300);                /* LBA, DMA */
    ide_put_word(b, 53, 0x0007);
    ide_put_word(b, 71, 30);
    ide_put_word(b, 72, 30);
    ide_identify_common(d, unit, NULL);
    d->data_pos = 0;
    d->data_end = 512;
    d->end_op = END_NONE;
    d->error = 0;
    d->status = ATA_SR_DRDY | ATA_SR_DRQ;
    ide_raise_irq(ch);
}

void atapi_packet_start(IDEChannel *ch, IDEDriveState *d)
{
    (void)ch;
    d->cd_dma = d->feature & 1;
    d->byte_limit = (uint16_t)(d->lcyl | d->hcyl << 8);
    d->nsector = IR_COD;
    d->data_pos = 0;
    d->data_end = 12;
    d->end_op = END_PACKET;
    d->error = 0;
    d->status = ATA_SR_DRDY | ATA_SR_DRQ;
}

void atapi_finish(IDEChannel *ch, IDEDriveState *d)
{
    d->data_pos = d->data_end = 0;
    d->end_op = END_NONE;
    d->dma_op = 0;
    d->nsector = IR_IO | IR_COD;
    d->error = 0;
    d->status = ATA_SR_DRDY;
    ide_raise_irq(ch);
}

void atapi_fail(IDEChannel *ch, IDEDriveState *d, uint8_t key, uint8_t asc,
                uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->data_pos = d->data_end = 0;
    d->end_op = END_NONE;
    d->dma_op = 0;
    d->nsector = IR_IO | IR_COD;
    d->error = (uint8_t)(key << 4 | ATA_ER_ABRT);
    d->status = ATA_SR_DRDY | ATA_SR_ERR;
    ide_raise_irq(ch);
}

/* Offers the next data block to the host, at most byte_limit bytes. */
static void send_chunk(IDEChannel *ch, IDEDriveState *d, BlockDriverState *bs)
{
    if (d->cd_disk && !d->cd_buf_left) {
        uint32_t n = d->cd_remaining < IDE_BUF_SIZE ? d->cd_remaining
                                                    : IDE_BUF_SIZE;
        if (!bs || bdrv_pread(bs, d->cd_lba * CD_BLOCK, d->buf, n)) {
            atapi_fail(ch, d, SK_MEDIUM_ERROR, 0x11, 0);
            return;
        }
        d->cd_lba += n / CD_BLOCK;
        d->cd_buf_left = n;
        d->data_pos = 0;
    }
    uint32_t limit = d->byte_limit;
    if (limit == 0 || limit == 0xffff)
        limit = 0xfffe;
    limit &= ~1u;
    uint32_t chunk = d->cd_buf_left < limit ? d->cd_buf_left : limit;
    d->data_end = d->data_pos + chunk;
    d->lcyl = (uint8_t)chunk;
    d->hcyl = (uint8_t)(chunk >> 8);
    d->nsector = IR_IO;
    d->end_op = END_ATAPI_DATA;
    d->status = ATA_SR_DRDY | ATA_SR_DRQ;
    ide_raise_irq(ch);
}

void atapi_data_done(IDEChannel *ch, IDEDriveState *d, BlockDriverState *bs)
{
    uint32_t chunk = (uint32_t)(d->lcyl | d->hcyl << 8);
    if (chunk > d->cd_buf_left)
        chunk = d->cd_buf_left;
    d->cd_buf_left -= chunk;
    d->cd_remaining -= chunk < d->cd_remaining ? chunk : d->cd_remaining;
    if (!d->cd_remaining)
        atapi_finish(ch, d);
    else
        send_chunk(ch, d, bs);
}

static void start_reply(IDEChannel *ch, IDEDriveState *d, BlockDriverState *bs)
{
    if (!d->cd_remaining) {
        atapi_finish(ch, d);
        return;
    }
    if (d->cd_dma) {
        d->dma_op = DMA_ATAPI;      /* the bus master moves it */
        d->status = ATA_SR_DRDY | ATA_SR_DRQ;
        ide_run_dma(ch);
        return;
    }
    d->data_pos = 0;
    send_chunk(ch, d, bs);
}

/* Small replies built in buf, cut to the host's allocation length. */
static void reply(IDEChannel *ch, IDEDriveState *d, uint32_t len,
                  uint32_t alloc)
{
    d->cd_disk = 0;
    d->cd_remaining = d->cd_buf_left = len < alloc ? len : alloc;
    start_reply(ch, d, NULL);
}

static bool need_medium(IDEChannel *ch, IDEDriveState *d)
{
    if (d->medium)
        return true;
    atapi_fail(ch, d, SK_NOT_READY, ASC_NO_MEDIUM, 0);
    return false;
}

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    lba += 150;
    p[0] = (uint8_t)(lba / (75 * 60));
    p[1] = (uint8_t)(lba / 75 % 60);
    p[2] = (uint8_t)(lba % 75);
}

static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        p[0] = 0;
        lba_to_msf(p + 1, lba);
    } else {
        put32(p, lba);
    }
}

/* READ TOC/PMA/ATIP formats 0 (TOC), 1 (session info), 2 (full TOC). */
static int read_toc(IDEDriveState *d, uint8_t *b)
{
    const uint8_t *c = d->cdb;
    bool msf = c[1] & 2;
    int format = c[2] & 0x0f;
    int start = c[6];
    uint32_t end = cd_blocks(d);
    int n = 4;
    if (!format && (c[9] >> 6))
        format = c[9] >> 6;                /* the older encoding */
    switch (format) {
    case 0:
        if (start > 1 && start != 0xaa)
            return -1;
        b[2] = 1; b[3] = 1;
        if (start <= 1) {
            memset(b + n, 0, 8);
            b[n + 1] = 0x14;               /* ADR 1, data track */
            b[n + 2] = 1;
            put_addr(b + n + 4, 0, msf);
            n += 8;
        }
        memset(b + n, 0, 8);
        b[n + 1] = 0x14;
        b[n + 2] = 0xaa;                   /* lead-out */
        put_addr(b + n + 4, end, msf);
        n += 8;
        break;
    case 1:
        b[2] = 1; b[3] = 1;
        memset(b + 4, 0, 8);
        b[5] = 0x14;
        b[6] = 1;
        put_addr(b + 8, 0, msf);
        n = 12;
        break;
    case 2: {
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };
        b[2] = 1; b[3] = 1;
        for (int i = 0; i < 4; i++) {
            uint8_t *e = b + n;
            memset(e, 0, 11);
            e[0] = 1;                       /* session */
            e[1] = 0x14;
            e[3] = points[i];
            if (points[i] == 0xa0) {
                e[8] = 1;                   /* first track */
            } else if (points[i] == 0xa1) {
                e[8] = 1;                   /* last track */
            } else if (points[i] == 0xa2) {
                lba_to_msf(e + 8, end);
            } else {
                lba_to_msf(e + 8, 0);
            }
            n += 11;
        }
        break;
    }
    default:
        return -1;
    }
    put16(b, (uint32_t)n - 2);
    return n;
}

static int mode_sense(IDEDriveState *d, uint8_t *b)
{
    int page = d->cdb[2] & 0x3f, pc = d->cdb[2] >> 6;
    int n = 8;
    if (pc == 3)
        return -2;                          /* saved values: not supported */
    memset(b, 0, 8);
    b[2] = d->medium ? 0x01 : 0x70;         /* 120 mm data disc / no disc */
    if (page == 0x01 || page == 0x3f) {     /* read error recovery */
        memset(b + n, 0, 8);
        b[n] = 0x01; b[n + 1] = 6;
        b[n + 3] = 5;                       /* read retry count */
        n += 8;
    }
    if (page == 0x2a || page == 0x3f) {     /* capabilities */
        uint8_t *p = b + n;
        memset(p, 0, 22);
        p[0] = 0x2a; p[1] = 20;
        p[2] = 0x3b;                        /* reads CD-R/RW, DVD-ROM/R */
        p[4] = 0x71;                        /* audio play, mode 2, multi */
        p[5] = 0x03;                        /* CD-DA commands */
        p[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0)); /* tray, lock, eject */
        put16(p + 8, 706);                  /* max speed, kB/s (4x) */
        put16(p + 10, 256);                 /* volume levels */
        put16(p + 12, 512);                 /* buffer, KiB */
        put16(p + 14, 706);
        n += 22;
    }
    if (n == 8)
        return -1;
    put16(b, (uint32_t)n - 2);
    return n;
}

static int get_configuration(IDEDriveState *d, uint8_t *b)
{
    int rt = d->cdb[1] & 3;
    uint16_t first = be16(d->cdb + 2);
    bool dvd = d->medium && cd_blocks(d) > 360000;   /* beyond a CD */
    uint16_t profile = !d->medium ? 0 : dvd ? 0x0010 : 0x0008;
    int n = 8;
    memset(b, 0, 8);
    put16(b + 6, profile);
    /* Feature 0: profile list (DVD-ROM, CD-ROM); feature 1: core
     * (ATAPI interface); feature 3: removable medium (tray, lockable). */
    if ((rt == 2 && first == 0) || (rt != 2 && first == 0)) {
        uint8_t *f = b + n;
        memset(f, 0, 12);
        f[2] = 0x03; f[3] = 8;
        put16(f + 4, 0x0010); f[6] = profile == 0x0010;
        put16(f + 8, 0x0008); f[10] = profile == 0x0008;
        n += 12;
    }
    if ((rt == 2 && first == 1) || (rt != 2 && first <= 1)) {
        uint8_t *f = b + n;
        memset(f, 0, 12);
        put16(f, 1); f[2] = 0x07; f[3] = 8;
        put32(f + 4, 2);                    /* physical interface: ATAPI */
        n += 12;
    }
    if ((rt == 2 && first == 3) || (rt != 2 && first <= 3)) {
        uint8_t *f = b + n;
        memset(f, 0, 8);
        put16(f, 3); f[2] = 0x03; f[3] = 4;
        f[4] = 0x29;                        /* tray, eject, lock */
        n += 8;
    }
    put32(b, (uint32_t)n - 4);
    return n;
}

static void request_sense(IDEDriveState *d, uint8_t *b)
{
    memset(b, 0, 18);
    b[0] = 0x70;
    b[2] = d->sense_key;
    b[7] = 10;
    b[12] = d->asc;
    b[13] = d->ascq;
    if (d->sense_key == SK_UNIT_ATTENTION)
        d->media_event = 0;
    atapi_reset_sense(d);
}

void atapi_packet_exec(IDEChannel *ch, IDEDriveState *d, BlockDriverState *bs)
{
    const uint8_t *c = d->buf;
    uint8_t *b = d->buf;
    memcpy(d->cdb, c, 12);
    c = d->cdb;
    d->end_op = END_NONE;
    switch (c[0]) {
    case 0x00:                                          /* TEST UNIT READY */
        if (need_medium(ch, d))
            atapi_finish(ch, d);
        return;
    case 0x03:                                          /* REQUEST SENSE */
        request_sense(d, b);
        reply(ch, d, 18, c[4]);
        return;
    case 0x12: {                                        /* INQUIRY */
        uint16_t alloc = be16(c + 3);
        memset(b, 0, 36);
        b[0] = 0x05;                                    /* CD/DVD device */
        b[1] = 0x80;                                    /* removable */
        b[2] = 0x00;
        b[3] = 0x21;                                    /* ATAPI, format 1 */
        b[4] = 31;
        memcpy(b + 8, "KESTREL ", 8);
        memcpy(b + 16, "DVD-ROM         ", 16);
        memcpy(b + 32, "1.0 ", 4);
        reply(ch, d, 36, alloc);
        return;
    }
    case 0x25:                                          /* READ CAPACITY */
        if (!need_medium(ch, d))
            return;
        put32(b, cd_blocks(d) ? cd_blocks(d) - 1 : 0);
        put32(b + 4, CD_BLOCK);
        reply(ch, d, 8, 8);
        return;
    case 0x28: case 0xa8: {                             /* READ(10), (12) */
        uint32_t lba = be32(c + 2);
        uint32_t count = c[0] == 0x28 ? be16(c + 7) : be32(c + 6);
        if (!need_medium(ch, d))
            return;
        if (lba > cd_blocks(d) || count > cd_blocks(d) - lba) {
            atapi_fail(ch, d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
            return;
        }
        if (count > 0xffffffffu / CD_BLOCK) {
            atapi_fail(ch, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        d->cd_disk = 1;
        d->cd_lba = lba;
        d->cd_remaining = count * CD_BLOCK;
        d->cd_buf_left = 0;
        start_reply(ch, d, bs);
        return;
    }
    case 0x43: {                                        /* READ TOC */
        if (!need_medium(ch, d))
            return;
        int n = read_toc(d, b);
        if (n < 0)
            atapi_fail(ch, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        else
            reply(ch, d, (uint32_t)n, be16(c + 7));
        return;
    }
    case 0x5a: {                                        /* MODE SENSE(10) */
        int n = mode_sense(d, b);
        if (n < 0)
            atapi_fail(ch, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        else
            reply(ch, d, (uint32_t)n, be16(c + 7));
        return;
    }
    case 0x46:                                          /* GET CONFIGURATION */
        reply(ch, d, (uint32_t)get_configuration(d, b), be16(c + 7));
        return;
    case 0x4a: {                                        /* GET EVENT STATUS */
        if (!(c[1] & 1)) {                              /* polled only */
            atapi_fail(ch, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        int n = 4;
        memset(b, 0, 8);
        b[3] = 0x10;                                    /* media class */
        if (c[4] & 0x10) {
            b[2] = 4;
            b[4] = d->media_event ? 2 : 0;              /* new media */
            b[5] = d->medium ? 0x02 : 0x00;
            d->media_event = 0;
            n = 8;
        } else {
            b[2] = 0x80;                                /* no event class */
        }
        put16(b, (uint32_t)n - 2);
        reply(ch, d, (uint32_t)n, be16(c + 7));
        return;
    }
    case 0x1b: {                                        /* START STOP UNIT */
        bool loej = c[4] & 2, start = c[4] & 1;
        if (loej && !start && d->locked) {
            atapi_fail(ch, d, SK_NOT_READY, ASC_REMOVAL_PREVENTED, 2);
            return;
        }
        if (loej)
            d->medium = start && ch->bs[d - ch->st.drive];
        atapi_finish(ch, d);
        return;
    }
    case 0x1e:                                          /* PREVENT ALLOW */
        d->locked = c[4] & 1;
        atapi_finish(ch, d);
        return;
    case 0xbb:                                          /* SET CD SPEED */
        atapi_finish(ch, d);
        return;
    default:
        atapi_fail(ch, d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        return;
    }
}
