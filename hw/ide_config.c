/* From the command line's drives to attached IDE units: index rules as
 * QEMU's (-hda 0, -hdb 1, -cdrom 2, -drive index= or the next free
 * unit), image opening modes, and the CMOS hard-disk bytes. */
#include "hw/ide_int.h"
#include "hw/piix.h"
#include "hw/rtc.h"
#include "system/machine.h"
#include <stdio.h>
#include <stdlib.h>
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
    /* A disk that fits plain CHS needs no translation; bigger ones get
     * LBA-assisted translation, as SeaBIOS expects. */
    bool lba = d->cyls > 1024 || d->heads > 16 || d->secs > 63;
    rtc_set_cmos(rtc, 0x39, (uint8_t)(x | (lba ? 1 : 0) << (unit * 2)));
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

/* Option strings are split in place in this pool, so the config can
 * point into it for the life of the process. */
static char drive_args[MAX_DRIVES][1024];

static int parse_onoff(const char *key, const char *v, bool *out, char *err,
                       size_t errlen)
{
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
        return 0;
    }
    if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
        return 0;
    }
    snprintf(err, errlen, "%s=%s: use on or off", key, v);
    return -1;
}

int drive_config_add(MachineConfig *cfg, int legacy_unit, bool cdrom,
                     const char *arg, char *err, size_t errlen)
{
    if (cfg->ndrives >= MAX_DRIVES) {
        snprintf(err, errlen, "at most %d drives", MAX_DRIVES);
        return -1;
    }
    char *s = drive_args[cfg->ndrives];
    if (strlen(arg) >= sizeof(drive_args[0])) {
        snprintf(err, errlen, "drive description too long");
        return -1;
    }
    strcpy(s, arg);
    DriveConfig dc = { .index = legacy_unit };
    if (cdrom)
        dc.media = "cdrom";
    if (legacy_unit >= 0) {
        dc.file = s;                  /* -hda FILE: the whole argument */
    } else {
        char *save = NULL;
        for (char *kv = strtok_r(s, ",", &save); kv;
             kv = strtok_r(NULL, ",", &save)) {
            char *v = strchr(kv, '=');
            if (!v) {
                snprintf(err, errlen, "'%s': expected key=value", kv);
                return -1;
            }
            *v++ = 0;
            if (!strcmp(kv, "file")) {
                dc.file = v;
            } else if (!strcmp(kv, "format")) {
                if (strcmp(v, "raw") && strcmp(v, "qcow2")) {
                    snprintf(err, errlen, "format=%s: raw or qcow2", v);
                    return -1;
                }
                dc.format = v;
            } else if (!strcmp(kv, "if")) {
                dc.interface = v;
            } else if (!strcmp(kv, "media")) {
                if (strcmp(v, "disk") && strcmp(v, "cdrom")) {
                    snprintf(err, errlen, "media=%s: disk or cdrom", v);
                    return -1;
                }
                dc.media = v;
            } else if (!strcmp(kv, "index")) {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || !*v || n < 0 || n > 3) {
                    snprintf(err, errlen, "index=%s: 0 to 3", v);
                    return -1;
                }
                dc.index = (int)n;
            } else if (!strcmp(kv, "snapshot")) {
                if (parse_onoff(kv, v, &dc.snapshot, err, errlen))
                    return -1;
            } else if (!strcmp(kv, "readonly")) {
                if (parse_onoff(kv, v, &dc.readonly, err, errlen))
                    return -1;
            } else {
                snprintf(err, errlen, "'%s': unknown drive option "
                         "(file, format, if, media, index, snapshot, "
                         "readonly)", kv);
                return -1;
            }
        }
        if (dc.interface && strcmp(dc.interface, "ide")) {
            snprintf(err, errlen, "if=%s: only if=ide is supported",
                     dc.interface);
            return -1;
        }
    }
    if (!dc.file && !(dc.media && !strcmp(dc.media, "cdrom"))) {
        snprintf(err, errlen, "a disk drive needs file=");
        return -1;
    }
    cfg->drives[cfg->ndrives++] = dc;
    return 0;
}
