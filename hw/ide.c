/* PIIX3 IDE: ATA register file, ATA commands (ATA/ATAPI-6), the PIO data
 * phase and the bus-master DMA engine. ATAPI packets: ide_atapi.c. */
#include "hw/ide_int.h"
#include "hw/pci.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static IDEDriveState *cur_drive(IDEChannel *ch)
{
    return &ch->st.drive[ch->st.cur & 1];
}

static int unit_of(IDEChannel *ch, IDEDriveState *d)
{
    int chan = ch->base == 0x1f0 ? 0 : 1;
    return chan * 2 + (int)(d - ch->st.drive);
}

static void update_irq(IDEChannel *ch)
{
    bus_set_irq(ch->bus, ch->irq,
                ch->st.irq_pending && !(ch->st.devctl & ATA_DC_NIEN));
}

void ide_raise_irq(IDEChannel *ch)
{
    ch->st.irq_pending = 1;
    update_irq(ch);
}

void ide_put_word(uint8_t *buf, int word, uint16_t v)
{
    buf[word * 2] = (uint8_t)v;
    buf[word * 2 + 1] = (uint8_t)(v >> 8);
}

/* ATA strings hold two characters per word, the first in the high byte,
 * padded with spaces. */
void ide_string(uint8_t *buf, int word, const char *s, int len)
{
    size_t sl = strlen(s);
    for (int i = 0; i < len; i++)
        buf[word * 2 + (i ^ 1)] = (size_t)i < sl ? (uint8_t)s[i] : ' ';
}

void ide_set_signature(IDEDriveState *d)
{
    d->nsector = 1;
    d->sector = 1;
    d->lcyl = d->is_cd ? 0x14 : 0;
    d->hcyl = d->is_cd ? 0xeb : 0;
    d->select &= 0xb0;
    d->error = 0x01;          /* diagnostics passed */
}

static void stop_transfer(IDEDriveState *d)
{
    d->data_pos = d->data_end = 0;
    d->end_op = END_NONE;
    d->dma_op = DMA_NONE;
}

static void ata_error(IDEChannel *ch, IDEDriveState *d, uint8_t err)
{
    stop_transfer(d);
    d->error = err;
    d->status = ATA_SR_DRDY | ATA_SR_ERR;
    ide_raise_irq(ch);
}

void ide_abort(IDEChannel *ch, IDEDriveState *d)
{
    ata_error(ch, d, ATA_ER_ABRT);
}

static void ata_done(IDEChannel *ch, IDEDriveState *d)
{
    stop_transfer(d);
    d->error = 0;
    d->status = ATA_SR_DRDY | ATA_SR_DSC;
    ide_raise_irq(ch);
}

/* ---- IDENTIFY DEVICE ---- */

static uint8_t integrity_sum(const uint8_t *b)
{
    uint8_t sum = 0;              /* bytes 0-510, signature included */
    for (int i = 0; i < 511; i++)
        sum = (uint8_t)(sum + b[i]);
    return (uint8_t)-sum;
}

/* Words common to disks and CD-ROMs: serial, firmware, model, and the
 * checksum in word 255 (ATA-6 8.15.61). */
void ide_identify_common(IDEDriveState *d, int unit, uint16_t *unused)
{
    char serial[21];
    (void)unused;
    snprintf(serial, sizeof(serial), "KST%05d", unit + 1);
    ide_string(d->buf, 10, serial, 20);
    ide_string(d->buf, 23, "1.0", 8);
    ide_string(d->buf, 27, d->is_cd ? "KESTREL DVD-ROM" : "KESTREL HARDDISK",
               40);
    /* DMA modes: word 63 multiword 0-2, word 88 Ultra 0-5, with the
     * mode SET FEATURES selected in the high byte. */
    ide_put_word(d->buf, 63, (uint16_t)(0x07 | (d->mdma_mode < 3 ?
                 0x100 << d->mdma_mode : 0)));
    ide_put_word(d->buf, 88, (uint16_t)(0x3f | (d->udma_mode < 6 ?
                 0x100 << d->udma_mode : 0)));
    ide_put_word(d->buf, 64, 0x03);                 /* PIO 3 and 4 */
    ide_put_word(d->buf, 65, 120);
    ide_put_word(d->buf, 66, 120);
    ide_put_word(d->buf, 67, 120);
    ide_put_word(d->buf, 68, 120);
    ide_put_word(d->buf, 80, 0x7e);                 /* ATA-1..6 */
    /* Hardware reset result, with the 80-conductor cable bit that lets
     * guests use UDMA modes above 2. */
    ide_put_word(d->buf, 93, unit & 1 ? 0x6100 : 0x6001);
    ide_put_word(d->buf, 255, 0x00a5);
    d->buf[511] = integrity_sum(d->buf);
}

static void ata_identify(IDEChannel *ch, IDEDriveState *d)
{
    uint8_t *b = d->buf;
    uint64_t lba28 = d->nb_sectors < 0x0fffffff ? d->nb_sectors : 0x0fffffff;
    uint64_t chs = (uint64_t)d->cur_heads * d->cur_secs * d->cyls;
    memset(b, 0, 512);
    ide_put_word(b, 0, 0x0040);                     /* fixed device */
    ide_put_word(b, 1, d->cyls);
    ide_put_word(b, 3, d->heads);
    ide_put_word(b, 6, d->secs);
    ide_put_word(b, 47, 0x8000 | IDE_MAX_MULT);
    ide_put_word(b, 49, 0x0b00);                    /* IORDY, LBA, DMA */
    ide_put_word(b, 50, 0x4000);
    ide_put_word(b, 51, 0x200);
    ide_put_word(b, 52, 0x200);
    ide_put_word(b, 53, 0x0007);                    /* 54-58, 64-70, 88 */
    if (chs > d->nb_sectors)
        chs = d->nb_sectors;
    ide_put_word(b, 54, (uint16_t)(d->cur_heads && d->cur_secs ?
                 chs / d->cur_heads / d->cur_secs : 0));
    ide_put_word(b, 55, d->cur_heads);
    ide_put_word(b, 56, d->cur_secs);
    ide_put_word(b, 57, (uint16_t)chs);
    ide_put_word(b, 58, (uint16_t)(chs >> 16));
    ide_put_word(b, 59, d->mult_sectors ? 0x100 | d->mult_sectors : 0);
    ide_put_word(b, 60, (uint16_t)lba28);
    ide_put_word(b, 61, (uint16_t)(lba28 >> 16));
    /* Supported / enabled command sets: write cache, NOP; FLUSH CACHE
     * (EXT) and the 48-bit feature set. */
    ide_put_word(b, 82, 0x4020);
    ide_put_word(b, 83, 0x7400);
    ide_put_word(b, 84, 0x4000);
    ide_put_word(b, 85, (uint16_t)(0x4000 | (d->write_cache ? 0x20 : 0)));
    ide_put_word(b, 86, 0x3400);
    ide_put_word(b, 87, 0x4000);
    for (int i = 0; i < 4; i++)
        ide_put_word(b, 100 + i, (uint16_t)(d->nb_sectors >> (16 * i)));
    ide_identify_common(d, unit_of(ch, d), NULL);
    d->data_pos = 0;
    d->data_end = 512;
    d->end_op = END_NONE;
    d->error = 0;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    ide_raise_irq(ch);
}

/* ---- addressing ---- */

static bool get_lba(IDEDriveState *d, uint64_t *lba)
{
    if (d->lba48) {
        *lba = (uint64_t)d->hob_hcyl << 40 | (uint64_t)d->hob_lcyl << 32 |
               (uint64_t)d->hob_sector << 24 | (uint64_t)d->hcyl << 16 |
               (uint64_t)d->lcyl << 8 | d->sector;
    } else if (d->select & 0x40) {
        *lba = (uint64_t)(d->select & 0x0f) << 24 | (uint64_t)d->hcyl << 16 |
               (uint64_t)d->lcyl << 8 | d->sector;
    } else {
        unsigned cyl = (unsigned)d->hcyl << 8 | d->lcyl;
        unsigned head = d->select & 0x0f;
        if (!d->sector || !d->cur_secs || head >= d->cur_heads ||
            d->sector > d->cur_secs)
            return false;
        *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_secs +
               d->sector - 1;
    }
    return true;
}

/* Leaves the address of `lba` in the registers, as the standard asks
 * after an error (the first failing sector). */
static void set_lba(IDEDriveState *d, uint64_t lba)
{
    if (d->lba48) {
        d->sector = (uint8_t)lba; d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16); d->hob_sector = (uint8_t)(lba >> 24);
        d->hob_lcyl = (uint8_t)(lba >> 32); d->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (d->select & 0x40) {
        d->sector = (uint8_t)lba; d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->select = (uint8_t)((d->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (d->cur_heads && d->cur_secs) {
        uint64_t cyl = lba / ((uint64_t)d->cur_heads * d->cur_secs);
        uint64_t r = lba % ((uint64_t)d->cur_heads * d->cur_secs);
        d->lcyl = (uint8_t)cyl; d->hcyl = (uint8_t)(cyl >> 8);
        d->select = (uint8_t)((d->select & 0xf0) | (r / d->cur_secs));
        d->sector = (uint8_t)(r % d->cur_secs + 1);
    }
}

static uint32_t get_count(IDEDriveState *d)
{
    if (d->lba48) {
        uint32_t n = (uint32_t)d->hob_nsector << 8 | d->nsector;
        return n ? n : 65536;
    }
    return d->nsector ? d->nsector : 256;
}

/* Checks the command's range; on failure posts IDNF and returns false. */
static bool start_range(IDEChannel *ch, IDEDriveState *d)
{
    uint64_t lba;
    uint32_t n = get_count(d);
    if (!get_lba(d, &lba) || lba >= d->nb_sectors ||
        n > d->nb_sectors - lba) {
        ata_error(ch, d, ATA_ER_IDNF | ATA_ER_ABRT);
        return false;
    }
    d->lba = lba;
    d->remaining = n;
    return true;
}

/* ---- PIO sector transfers ---- */

static void pio_read_block(IDEChannel *ch, IDEDriveState *d)
{
    BlockDriverState *bs = ch->bs[d - ch->st.drive];
    uint32_t n = d->remaining < d->block ? d->remaining : d->block;
    if (bdrv_pread(bs, d->lba * 512, d->buf, n * 512)) {
        set_lba(d, d->lba);
        ata_error(ch, d, ATA_ER_UNC);
        return;
    }
    d->data_pos = 0;
    d->data_end = n * 512;
    d->end_op = END_READ;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    ide_raise_irq(ch);
}

static void pio_write_ready(IDEDriveState *d)
{
    uint32_t n = d->remaining < d->block ? d->remaining : d->block;
    d->data_pos = 0;
    d->data_end = n * 512;
    d->end_op = END_WRITE;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
}

static int disk_write(IDEDriveState *d, BlockDriverState *bs, uint64_t off,
                      const void *buf, size_t len)
{
    int r = bdrv_pwrite(bs, off, buf, len);
    /* With the write cache disabled a write is complete only once it is
     * on the medium. */
    if (!r && !d->write_cache)
        r = bdrv_flush(bs);
    return r;
}

static void end_block(IDEChannel *ch, IDEDriveState *d)
{
    BlockDriverState *bs = ch->bs[d - ch->st.drive];
    uint32_t n = d->data_end / 512;
    switch (d->end_op) {
    case END_READ:
        d->lba += n;
        d->remaining -= n;
        if (d->remaining) {
            pio_read_block(ch, d);
        } else {
            set_lba(d, d->lba - 1);
            stop_transfer(d);
            d->status = ATA_SR_DRDY | ATA_SR_DSC;
        }
        break;
    case END_WRITE:
        if (disk_write(d, bs, d->lba * 512, d->buf, n * 512)) {
            set_lba(d, d->lba);
            ide_abort(ch, d);
            return;
        }
        d->lba += n;
        d->remaining -= n;
        if (d->remaining) {
            pio_write_ready(d);
            ide_raise_irq(ch);
        } else {
            set_lba(d, d->lba - 1);
            ata_done(ch, d);
        }
        break;
    case END_PACKET:
        atapi_packet_exec(ch, d, bs);
        break;
    case END_ATAPI_DATA:
        atapi_data_done(ch, d, bs);
        break;
    case END_ATAPI_OUT:
        atapi_finish(ch, d);
        break;
    default:
        stop_transfer(d);
        d->status = ATA_SR_DRDY | ATA_SR_DSC;
        if (d->is_cd)
            d->status = ATA_SR_DRDY;
        break;
    }
}

static uint32_t data_read(IDEChannel *ch, int size)
{
    IDEDriveState *d = cur_drive(ch);
    uint32_t v = 0;
    if (!(d->status & ATA_SR_DRQ) || d->data_pos >= d->data_end ||
        d->end_op == END_WRITE || d->end_op == END_PACKET ||
        d->end_op == END_ATAPI_OUT)
        return size == 4 ? 0xffffffffu : 0xffff;
    for (int i = 0; i < size && d->data_pos < d->data_end; i++)
        v |= (uint32_t)d->buf[d->data_pos++] << (8 * i);
    if (d->data_pos >= d->data_end)
        end_block(ch, d);
    return v;
}

static void data_write(IDEChannel *ch, uint32_t v, int size)
{
    IDEDriveState *d = cur_drive(ch);
    if (!(d->status & ATA_SR_DRQ) || d->data_pos >= d->data_end ||
        (d->end_op != END_WRITE && d->end_op != END_PACKET &&
         d->end_op != END_ATAPI_OUT))
        return;
    for (int i = 0; i < size && d->data_pos < d->data_end; i++)
        d->buf[d->data_pos++] = (uint8_t)(v >> (8 * i));
    if (d->data_pos >= d->data_end)
        end_block(ch, d);
}

/* ---- bus-master DMA ---- */

void ide_run_dma(IDEChannel *ch)
{
    IDEChannelState *st = &ch->st;
    IDEDriveState *d = cur_drive(ch);
    BlockDriverState *bs = ch->bs[st->cur & 1];
    if (!d->dma_op || !(st->bm_cmd & BM_CMD_START))
        return;
    int op = d->dma_op;
    bool to_mem = op != DMA_WRITE;
    uint64_t total, disk_off;
    bool from_buf = false;
    if (op == DMA_ATAPI) {
        total = d->cd_remaining;
        disk_off = d->cd_lba * 2048;
        from_buf = d->cd_buf_left != 0;
    } else {
        total = (uint64_t)d->remaining * 512;
        disk_off = d->lba * 512;
    }
    uint64_t done = 0;
    int io_err = 0;
    uint32_t prd = st->bm_prd & ~3u;
    /* A PRD table may not cross a 64 KiB boundary: 8192 entries at most. */
    for (int i = 0; i < 8192 && done < total && !io_err; i++) {
        uint8_t e[8];
        bus_mem_rw(ch->bus, (uint64_t)prd + 8u * (uint32_t)i, e, 8, false);
        uint32_t addr = (uint32_t)(e[0] | e[1] << 8 | e[2] << 16 |
                                   (uint32_t)e[3] << 24) & ~1u;
        uint32_t len = (uint32_t)(e[4] | e[5] << 8) & ~1u;
        bool eot = e[7] & 0x80;
        if (!len)
            len = 0x10000;
        while (len && done < total) {
            uint32_t n = len < IDE_BUF_SIZE ? len : IDE_BUF_SIZE;
            if (n > total - done)
                n = (uint32_t)(total - done);
            if (to_mem) {
                if (!from_buf && bdrv_pread(bs, disk_off + done, d->buf, n)) {
                    io_err = 1;
                    break;
                }
                bus_mem_rw(ch->bus, addr, from_buf ? d->buf + done : d->buf,
                           n, true);
            } else {
                bus_mem_rw(ch->bus, addr, d->buf, n, false);
                if (disk_write(d, bs, disk_off + done, d->buf, n)) {
                    io_err = 1;
                    break;
                }
            }
            done += n; addr += n; len -= n;
        }
        if (eot)
            break;
    }
    st->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    st->bm_status |= BM_ST_INTR;
    d->dma_op = DMA_NONE;
    if (op == DMA_ATAPI) {
        if (io_err) {
            atapi_fail(ch, d, 0x03, 0x11, 0x00);   /* unrecovered read */
        } else if (done < total) {
            st->bm_status |= BM_ST_ERROR;
            atapi_fail(ch, d, 0x05, 0x24, 0x00);
        } else {
            atapi_finish(ch, d);
        }
        return;
    }
    if (io_err || done < total) {
        set_lba(d, d->lba + done / 512);
        if (done < total && !io_err)
            st->bm_status |= BM_ST_ERROR;
        ata_error(ch, d, to_mem ? ATA_ER_UNC : ATA_ER_ABRT);
        return;
    }
    set_lba(d, d->lba + d->remaining - 1);
    ata_done(ch, d);
}

static void start_dma(IDEChannel *ch, IDEDriveState *d, int op)
{
    d->dma_op = (uint8_t)op;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    ide_run_dma(ch);
}

uint32_t ide_bm_read(void *opaque, uint16_t port, int size)
{
    IDEController *c = opaque;
    uint32_t off = (uint32_t)(port - pci_bar_addr(c->pci, 4)) & 15;
    IDEChannelState *st = &c->ch[off >> 3].st;
    uint8_t regs[8] = { st->bm_cmd, 0, st->bm_status, 0,
                        (uint8_t)st->bm_prd, (uint8_t)(st->bm_prd >> 8),
                        (uint8_t)(st->bm_prd >> 16),
                        (uint8_t)(st->bm_prd >> 24) };
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)regs[(off + (uint32_t)i) & 7] << (8 * i);
    return v;
}

void ide_bm_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    IDEController *c = opaque;
    uint32_t off = (uint32_t)(port - pci_bar_addr(c->pci, 4)) & 15;
    IDEChannel *ch = &c->ch[off >> 3];
    IDEChannelState *st = &ch->st;
    for (int i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint32_t r = (off + (uint32_t)i) & 7;
        if (r == 0) {
            bool was = st->bm_cmd & BM_CMD_START;
            st->bm_cmd = b & (BM_CMD_START | BM_CMD_READ);
            if (!was && (b & BM_CMD_START)) {
                st->bm_status |= BM_ST_ACTIVE;
                ide_run_dma(ch);
            } else if (was && !(b & BM_CMD_START)) {
                st->bm_status &= (uint8_t)~BM_ST_ACTIVE;
            }
        } else if (r == 2) {
            st->bm_status = (uint8_t)((st->bm_status & ~(b & 0x06) & 0x07) |
                                      (b & 0x60));
        } else if (r >= 4) {
            int sh = (int)(r - 4) * 8;
            st->bm_prd = (st->bm_prd & ~(0xffu << sh)) | (uint32_t)b << sh;
        }
    }
}

/* ---- commands ---- */

static void set_features(IDEChannel *ch, IDEDriveState *d)
{
    switch (d->feature) {
    case 0x02: d->write_cache = 1; break;
    case 0x82: d->write_cache = 0; break;
    case 0x03: {                          /* set transfer mode */
        uint8_t mode = d->nsector & 7;
        switch (d->nsector >> 3) {
        case 0: case 1: break;            /* PIO default / flow control */
        case 4:
            if (mode > 2)
                goto abort;
            d->mdma_mode = mode; d->udma_mode = 0xff;
            break;
        case 8:
            if (mode > 5)
                goto abort;
            d->udma_mode = mode; d->mdma_mode = 0xff;
            break;
        default:
            goto abort;
        }
        break;
    }
    case 0x55: case 0xaa: case 0x66: case 0xcc:   /* look-ahead, defaults */
        break;
    default:
        goto abort;
    }
    if (d->is_cd) {
        stop_transfer(d);
        d->status = ATA_SR_DRDY;
        ide_raise_irq(ch);
    } else {
        ata_done(ch, d);
    }
    return;
abort:
    ide_abort(ch, d);
}

static void diagnostic(IDEChannel *ch)
{
    for (int i = 0; i < 2; i++) {
        IDEDriveState *d = &ch->st.drive[i];
        stop_transfer(d);
        ide_set_signature(d);
        d->status = d->is_cd ? 0 : ATA_SR_DRDY | ATA_SR_DSC;
    }
    ch->st.cur = 0;
    ide_raise_irq(ch);
}

static void flush_cache(IDEChannel *ch, IDEDriveState *d)
{
    if (bdrv_flush(ch->bs[d - ch->st.drive]))
        ide_abort(ch, d);
    else
        ata_done(ch, d);
}

static void ata_command(IDEChannel *ch, IDEDriveState *d, uint8_t cmd)
{
    d->cmd = cmd;
    d->lba48 = 0;
    stop_transfer(d);
    if (d->is_cd) {
        switch (cmd) {
        case 0xa0: atapi_packet_start(ch, d); return;
        case 0xa1: atapi_identify(ch, d, unit_of(ch, d)); return;
        case 0x08:                          /* DEVICE RESET: no interrupt */
            ide_set_signature(d);
            d->status = 0;
            atapi_reset_sense(d);
            return;
        case 0x90: diagnostic(ch); return;
        case 0xef: set_features(ch, d); return;
        case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe5: case 0xe7:
            d->nsector = 0xff;
            d->status = ATA_SR_DRDY;
            ide_raise_irq(ch);
            return;
        case 0xec:
            /* An ATAPI device aborts IDENTIFY DEVICE and shows its
             * signature, which is how hosts tell it apart. */
            ide_set_signature(d);
            d->error = ATA_ER_ABRT;
            d->status = ATA_SR_DRDY | ATA_SR_ERR;
            ide_raise_irq(ch);
            return;
        default:
            ide_abort(ch, d);
            return;
        }
    }
    switch (cmd) {
    case 0xec: ata_identify(ch, d); return;
    case 0x24: case 0x29: case 0x34: case 0x39: case 0x25: case 0x35:
    case 0xea: case 0x42:
        d->lba48 = 1;
        break;
    }
    switch (cmd) {
    case 0x20: case 0x21: case 0x24:                  /* READ SECTORS */
        if (start_range(ch, d)) {
            d->block = 1;
            pio_read_block(ch, d);
        }
        return;
    case 0xc4: case 0x29:                             /* READ MULTIPLE */
        if (!d->mult_sectors)
            break;
        if (start_range(ch, d)) {
            d->block = d->mult_sectors;
            pio_read_block(ch, d);
        }
        return;
    case 0x30: case 0x31: case 0x34:                  /* WRITE SECTORS */
        if (start_range(ch, d)) {
            d->block = 1;
            pio_write_ready(d);
        }
        return;
    case 0xc5: case 0x39:                             /* WRITE MULTIPLE */
        if (!d->mult_sectors)
            break;
        if (start_range(ch, d)) {
            d->block = d->mult_sectors;
            pio_write_ready(d);
        }
        return;
    case 0xc8: case 0xc9: case 0x25:                  /* READ DMA */
        if (start_range(ch, d))
            start_dma(ch, d, DMA_READ);
        return;
    case 0xca: case 0xcb: case 0x35:                  /* WRITE DMA */
        if (start_range(ch, d))
            start_dma(ch, d, DMA_WRITE);
        return;
    case 0x40: case 0x41: case 0x42:                  /* READ VERIFY */
        if (start_range(ch, d))
            ata_done(ch, d);
        return;
    case 0xc6:                                        /* SET MULTIPLE MODE */
        if (d->nsector > IDE_MAX_MULT || (d->nsector & (d->nsector - 1)))
            break;
        d->mult_sectors = d->nsector;
        ata_done(ch, d);
        return;
    case 0xe7: case 0xea: flush_cache(ch, d); return;
    case 0xef: set_features(ch, d); return;
    case 0x91:                          /* INITIALIZE DEVICE PARAMETERS */
        if (!d->nsector)
            break;
        d->cur_secs = d->nsector;
        d->cur_heads = (uint16_t)((d->select & 0x0f) + 1);
        ata_done(ch, d);
        return;
    case 0xe0: case 0xe2: case 0x94: case 0x96:       /* STANDBY */
        d->power_standby = 1;
        ata_done(ch, d);
        return;
    case 0xe1: case 0xe3: case 0x95: case 0x97:       /* IDLE */
        d->power_standby = 0;
        ata_done(ch, d);
        return;
    case 0xe5: case 0x98:                             /* CHECK POWER MODE */
        ata_done(ch, d);
        d->nsector = d->power_standby ? 0x00 : 0xff;
        return;
    case 0x90: diagnostic(ch); return;
    case 0x70:                                        /* SEEK */
        ata_done(ch, d);
        return;
    default:
        if (cmd >= 0x10 && cmd <= 0x1f) {             /* RECALIBRATE */
            ata_done(ch, d);
            return;
        }
        break;
    }
    ide_abort(ch, d);
}

/* ---- registers ---- */

static void soft_reset(IDEChannel *ch)
{
    for (int i = 0; i < 2; i++) {
        IDEDriveState *d = &ch->st.drive[i];
        stop_transfer(d);
        ide_set_signature(d);
        d->status = d->is_cd ? 0 : ATA_SR_DRDY | ATA_SR_DSC;
        if (d->is_cd)
            atapi_reset_sense(d);
    }
    ch->st.cur = 0;
    ch->st.irq_pending = 0;
    update_irq(ch);
}

uint32_t ide_ioport_read(void *opaque, uint16_t port, int size)
{
    IDEChannel *ch = opaque;
    IDEChannelState *st = &ch->st;
    IDEDriveState *d = cur_drive(ch);
    bool hob = st->devctl & ATA_DC_HOB;
    if (port == ch->ctl)
        return d->present ? d->status : 0;
    int reg = port - ch->base;
    if (reg == 0)
        return d->present ? data_read(ch, size) : 0;
    if (!d->present) {
        /* No device answers for an absent slave; the master drives
         * the bus with zeros (as hosts expect when probing). */
        return reg == 6 ? d->select : 0;
    }
    switch (reg) {
    case 1: return hob ? d->hob_feature : d->error;
    case 2: return hob ? d->hob_nsector : d->nsector;
    case 3: return hob ? d->hob_sector : d->sector;
    case 4: return hob ? d->hob_lcyl : d->lcyl;
    case 5: return hob ? d->hob_hcyl : d->hcyl;
    case 6: return d->select;
    default:
        st->irq_pending = 0;
        update_irq(ch);
        return d->status;
    }
}

void ide_ioport_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    IDEChannel *ch = opaque;
    IDEChannelState *st = &ch->st;
    uint8_t v = (uint8_t)val;
    if (port == ch->ctl) {
        bool was = st->devctl & ATA_DC_SRST;
        st->devctl = v;
        if (!was && (v & ATA_DC_SRST)) {
            for (int i = 0; i < 2; i++) {
                stop_transfer(&st->drive[i]);
                st->drive[i].status = ATA_SR_BSY;
            }
        } else if (was && !(v & ATA_DC_SRST)) {
            soft_reset(ch);
        }
        update_irq(ch);
        return;
    }
    int reg = port - ch->base;
    if (reg == 0) {
        data_write(ch, val, size);
        return;
    }
    if (reg == 7) {
        IDEDriveState *d = cur_drive(ch);
        if (v == 0x90) {
            diagnostic(ch);
        } else if (d->present && !(d->status & ATA_SR_BSY)) {
            st->irq_pending = 0;
            update_irq(ch);
            ata_command(ch, d, v);
        }
        return;
    }
    /* Writes to the command block reach both devices; the previous
     * value moves to the "high order byte" for 48-bit commands. */
    st->devctl &= (uint8_t)~ATA_DC_HOB;
    for (int i = 0; i < 2; i++) {
        IDEDriveState *d = &st->drive[i];
        switch (reg) {
        case 1: d->hob_feature = d->feature; d->feature = v; break;
        case 2: d->hob_nsector = d->nsector; d->nsector = v; break;
        case 3: d->hob_sector = d->sector; d->sector = v; break;
        case 4: d->hob_lcyl = d->lcyl; d->lcyl = v; break;
        case 5: d->hob_hcyl = d->hcyl; d->hcyl = v; break;
        case 6: d->select = (uint8_t)(v | 0xa0); break;
        }
    }
    if (reg == 6)
        st->cur = (v >> 4) & 1;
}

/* ---- setup ---- */

static void channel_reset(void *opaque)
{
    IDEChannel *ch = opaque;
    IDEChannelState *st = &ch->st;
    st->devctl = 0;
    st->bm_cmd = st->bm_status = 0;
    st->bm_prd = 0;
    for (int i = 0; i < 2; i++) {
        IDEDriveState *d = &st->drive[i];
        d->mult_sectors = IDE_MAX_MULT;
        d->write_cache = 1;
        d->power_standby = 0;
        d->mdma_mode = 0xff;
        d->udma_mode = 5;
        d->cur_heads = d->heads;
        d->cur_secs = d->secs;
        d->feature = d->hob_feature = d->hob_nsector = 0;
        d->hob_sector = d->hob_lcyl = d->hob_hcyl = 0;
        d->select = 0xa0;
        d->locked = 0;
        if (d->is_cd)
            d->medium = ch->bs[i] != NULL;
    }
    soft_reset(ch);
}

IDEController *ide_init(Bus *b, struct PCIDevice *pci)
{
    static const struct { uint16_t base, ctl; int irq; const char *name; }
        chans[2] = { { 0x1f0, 0x3f6, 14, "ide0" }, { 0x170, 0x376, 15, "ide1" } };
    IDEController *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->pci = pci;
    for (int i = 0; i < 2; i++) {
        IDEChannel *ch = &c->ch[i];
        ch->bus = b;
        ch->base = chans[i].base;
        ch->ctl = chans[i].ctl;
        ch->irq = chans[i].irq;
        ch->dev.name = chans[i].name;
        ch->dev.opaque = ch;
        ch->dev.reset = channel_reset;
        ch->dev.state = &ch->st;
        ch->dev.state_size = sizeof(ch->st);
        bus_add_device(b, &ch->dev);
    }
    if (pci) {
        /* Bus-master IDE registers: 16 ports on BAR 4. */
        pci_set_bar_io(pci, 4, 16, ide_bm_read, ide_bm_write, c);
        /* IDETIM: both channels decoded (bit 15), as firmware leaves
         * them; Linux's ata_piix skips a channel whose bit is clear. */
        pci_set_byte(pci, 0x41, 0x80);
        pci_set_byte(pci, 0x43, 0x80);
        memcpy(pci->config_init, pci->config, 256);
    }
    return c;
}

static void pick_geometry(IDEDriveState *d)
{
    /* The usual translation: 16 heads, 63 sectors, cylinders capped at
     * 16383 (what BIOSes assume for disks beyond 8 GB). */
    uint64_t cyls = d->nb_sectors / (16 * 63);
    d->heads = 16;
    d->secs = 63;
    d->cyls = (uint16_t)(cyls > 16383 ? 16383 : cyls < 1 ? 1 : cyls);
}

void ide_attach(IDEController *c, int unit, BlockDriverState *bs, bool cd)
{
    IDEChannel *ch = &c->ch[(unit >> 1) & 1];
    IDEDriveState *d = &ch->st.drive[unit & 1];
    if (!ch->bs[0] && !ch->bs[1] && !ch->st.drive[0].present &&
        !ch->st.drive[1].present) {
        bus_pio_register(ch->bus, ch->base, 8, ide_ioport_read,
                         ide_ioport_write, ch, ch->dev.name);
        bus_pio_register(ch->bus, ch->ctl, 1, ide_ioport_read,
                         ide_ioport_write, ch, ch->dev.name);
    }
    ch->bs[unit & 1] = bs;
    d->present = 1;
    d->is_cd = cd;
    d->nb_sectors = bs ? bdrv_size(bs) / 512 : 0;
    if (!cd)
        pick_geometry(d);
    channel_reset(ch);
}

int ide_flush_all(IDEController *c)
{
    int r = 0;
    for (int i = 0; i < 4; i++) {
        BlockDriverState *bs = c->ch[i >> 1].bs[i & 1];
        if (bs && bdrv_flush(bs))
            r = -1;
    }
    return r;
}

void ide_free(IDEController *c)
{
    if (!c)
        return;
    for (int i = 0; i < 2; i++) {
        IDEChannel *ch = &c->ch[i];
        bus_del_device(ch->bus, &ch->dev);
        if (ch->st.drive[0].present || ch->st.drive[1].present) {
            bus_pio_unregister(ch->bus, ch->base, 8);
            bus_pio_unregister(ch->bus, ch->ctl, 1);
        }
        bdrv_close(ch->bs[0]);
        bdrv_close(ch->bs[1]);
    }
    free(c);
}
