/* From the command line's drives to attached IDE units: index rules as
 * QEMU's (-hda 0, -hdb 1, -cdrom 2, -drive index= or the next free
 * unit), image opening modes, and the CMOS hard-disk bytes. */
#include "hw/ide_int.h"
#include "hw/piix.h"
#include "hw/rtc.h"
#include "system/machine.h"
#include <stdio.h>
#include <string.h>

/* Bochs/QEMU CMOS layout for two fixed disks: type nibbles at 0x12,
 * extended type 47 at 0x19/0x1A, geometry blocks at 0x1B and 0x24, and
 * the LBA translation hint at 0x39 (2 bits per disk). */
static void set_cmos_disk(RTC *rtc, int unit, const IDEDriveState *d)
{
    int base = unit ? 0x24 : 0x1b;
    uint8_t t = rtc_get_cmos(rtc, 0x12);
    t |= unit ? 0x0f : 0xf0;
    rtc_set_cmos(rtc, 0x12, t);
    rtc_set_cmos(rtc, 0x19 + unit, 47);
    rtc_set_cmos(rtc, base, (uint8_t)d->cyls);
    rtc_set_cmos(rtc, base + 1, (uint8_t)(d->cyls >> 8));
    rtc_set_cmos(rtc, base + 2, (uint8_t)d->heads);
    rtc_set_cmos(rtc, base + 3, 0xff);
    rtc_set_cmos(rtc, base + 4, 0xff);
    rtc_set_cmos(rtc, base + 5, (uint8_t)(0xc0 | ((d->heads > 8) << 3)));
    rtc_set_cmos(rtc, base + 6, (uint8_t)d->cyls);
    rtc_set_cmos(rtc, base + 7, (uint8_t)(d->cyls >> 8));
    rtc_set_cmos(rtc, base + 8, (uint8_t)d->secs);
    uint8_t x = rtc_get_cmos(rtc, 0x39);
    rtc_set_cmos(rtc, 0x39, (uint8_t)(x | 1 << (unit * 2)));   /* LBA */
}

IDEController *ide_init_from_config(Bus *b, PIIX *piix,
                                    const MachineConfig *cfg, RTC *rtc,
                                    char *err, size_t errlen)
{
    bool used[4] = { false };
    int unit_of[MAX_DRIVES];
    for (int i = 0; i < cfg->ndrives; i++) {
        const DriveConfig *dc = &cfg->drives[i];
        if (dc->interface && strcmp(dc->interface, "ide")) {
            snprintf(err, errlen, "-drive if=%s: only if=ide is supported",
                     dc->interface);
            return NULL;
        }
        if (dc->index >= 4) {
            snprintf(err, errlen, "-drive index=%d: IDE has units 0-3",
                     dc->index);
            return NULL;
        }
        unit_of[i] = dc->index;
        if (dc->index >= 0) {
            if (used[dc->index]) {
                snprintf(err, errlen, "drive index %d is used twice",
                         dc->index);
                return NULL;
            }
            used[dc->index] = true;
        }
    }
    for (int i = 0; i < cfg->ndrives; i++) {
        if (unit_of[i] >= 0)
            continue;
        int u = 0;
        while (u < 4 && used[u])
            u++;
        if (u == 4) {
            snprintf(err, errlen, "too many IDE drives (at most 4)");
            return NULL;
        }
        used[u] = true;
        unit_of[i] = u;
    }
    PCIDevice *pd = piix ? piix_add_ide(piix) : NULL;
    IDEController *c = ide_init(b, pd);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < cfg->ndrives; i++) {
        const DriveConfig *dc = &cfg->drives[i];
        bool cd = dc->media && !strcmp(dc->media, "cdrom");
        if (dc->media && !cd && strcmp(dc->media, "disk")) {
            snprintf(err, errlen, "-drive media=%s: use disk or cdrom",
                     dc->media);
            goto fail;
        }
        BlockDriverState *bs = NULL;
        if (dc->file && *dc->file) {
            int flags = 0;
            char sub[512];
            if (cd || dc->readonly)
                flags |= BDRV_O_RDONLY;
            if (!cd && (dc->snapshot || cfg->snapshot))
                flags |= BDRV_O_SNAPSHOT;
            bs = bdrv_open(dc->file, dc->format, flags, sub, sizeof(sub));
            if (!bs) {
                snprintf(err, errlen, "%s", sub);
                goto fail;
            }
        } else if (!cd) {
            snprintf(err, errlen, "a disk drive needs file=");
            goto fail;
        }
        ide_attach(c, unit_of[i], bs, cd);
        if (!cd && unit_of[i] < 2 && rtc)
            set_cmos_disk(rtc, unit_of[i],
                          &c->ch[0].st.drive[unit_of[i]]);
    }
    if (rtc)
        rtc_update_checksum(rtc);
    return c;
fail:
    ide_free(c);
    return NULL;
}
