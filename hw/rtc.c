/* Motorola MC146818 RTC and CMOS RAM (see hw/rtc.h).
 *
 * The time is not stored as ticking registers: it is base_sec plus the
 * virtual time since base_ns, and the time registers are produced from it
 * when read. While SET is on, the registers hold still in cmos[] and the
 * guest may rewrite them; clearing SET makes them the new base.
 *
 * Register C flags are brought up to date lazily (on read) or by a timer
 * when an enabled interrupt needs to fire at a given moment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hw/rtc.h"
#include "system/event.h"

enum {
    REG_SEC = 0, REG_SEC_ALARM = 1, REG_MIN = 2, REG_MIN_ALARM = 3,
    REG_HOUR = 4, REG_HOUR_ALARM = 5, REG_WDAY = 6, REG_MDAY = 7,
    REG_MONTH = 8, REG_YEAR = 9, REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C,
    REG_D = 0x0D, REG_CENTURY = 0x32,
};
/* Register A */
#define A_UIP 0x80
/* Register B */
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
/* Register C */
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
/* Register D */
#define D_VRT 0x80

/* UIP rises 244 us before the update cycle, which takes 1984 us; the new
 * time shows at the end of the cycle, on the second boundary. */
#define UIP_NS (244000 + 1984000)

struct RTC {
    RTCState s;
    Bus *bus;
    Timer *periodic_timer, *second_timer;
    bool irq_level;
    Device dev;
};

/* ---------------- calendar arithmetic ---------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (any month/day
 * overflow simply carries, as the hardware's registers might hold). */
static int64_t days_from_date(int64_t y, int m, int d)
{
    /* Count years from March so the leap day ends the year. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int to_bcd(int v) { return ((v / 10) << 4) | (v % 10); }
static int from_bcd(int v) { return ((v >> 4) & 0xF) * 10 + (v & 0xF); }

static int enc(const RTC *r, int v)
{
    return (r->s.cmos[REG_B] & B_DM_BINARY) ? v : to_bcd(v);
}

static int dec(const RTC *r, int v)
{
    return (r->s.cmos[REG_B] & B_DM_BINARY) ? v : from_bcd(v);
}

static bool divider_running(const RTC *r)
{
    /* DV = 010 is the 32.768 kHz time base; 11x holds the divider reset. */
    return ((r->s.cmos[REG_A] >> 4) & 7) == 2;
}

static bool clock_running(const RTC *r)
{
    return divider_running(r) && !(r->s.cmos[REG_B] & B_SET);
}

static int64_t sec_at(const RTC *r, int64_t now)
{
    int64_t d = now - r->s.base_ns;
    int64_t q = d / NS_PER_SEC;
    if (d < 0 && q * NS_PER_SEC != d)
        q--;
    return r->s.base_sec + q;
}

/* The time registers for time t in the current format, at their register
 * indexes in f (only the time indexes are filled). */
static void encode_time(const RTC *r, int64_t t, uint8_t f[RTC_CMOS_SIZE])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        memset(&tm, 0, sizeof(tm));
    f[REG_SEC] = (uint8_t)enc(r, tm.tm_sec);
    f[REG_MIN] = (uint8_t)enc(r, tm.tm_min);
    if (r->s.cmos[REG_B] & B_24H) {
        f[REG_HOUR] = (uint8_t)enc(r, tm.tm_hour);
    } else {
        int h = tm.tm_hour % 12;
        f[REG_HOUR] = (uint8_t)(enc(r, h ? h : 12) |
                                (tm.tm_hour >= 12 ? 0x80 : 0));
    }
    f[REG_WDAY] = (uint8_t)enc(r, tm.tm_wday + 1);
    f[REG_MDAY] = (uint8_t)enc(r, tm.tm_mday);
    f[REG_MONTH] = (uint8_t)enc(r, tm.tm_mon + 1);
    int year = tm.tm_year + 1900;
    f[REG_YEAR] = (uint8_t)enc(r, year % 100);
    f[REG_CENTURY] = (uint8_t)enc(r, (year / 100) % 100);
}

static const uint8_t time_regs[] = { REG_SEC, REG_MIN, REG_HOUR, REG_WDAY,
                                     REG_MDAY, REG_MONTH, REG_YEAR,
                                     REG_CENTURY };

/* Write the time t into the time registers. */
static void time_to_regs(RTC *r, int64_t t)
{
    uint8_t f[RTC_CMOS_SIZE];
    encode_time(r, t, f);
    for (size_t i = 0; i < sizeof(time_regs); i++)
        r->s.cmos[time_regs[i]] = f[time_regs[i]];
}

/* Read the time registers back as Unix seconds. */
static int64_t regs_to_time(const RTC *r)
{
    const uint8_t *c = r->s.cmos;
    int sec = dec(r, c[REG_SEC] & 0x7F);
    int min = dec(r, c[REG_MIN] & 0x7F);
    int hour;
    if (c[REG_B] & B_24H) {
        hour = dec(r, c[REG_HOUR] & 0x3F);
    } else {
        hour = dec(r, c[REG_HOUR] & 0x7F) % 12;
        if (c[REG_HOUR] & 0x80)
            hour += 12;
    }
    int mday = dec(r, c[REG_MDAY] & 0x3F);
    int mon = dec(r, c[REG_MONTH] & 0x1F);
    if (mon < 1 || mon > 12)
        mon = 1;
    int year = dec(r, c[REG_YEAR]) % 100;
    int century = dec(r, c[REG_CENTURY]);
    if (century < 19 || century > 99)
        century = year < 70 ? 20 : 19;
    int64_t days = days_from_date(century * 100 + year, mon, mday);
    return days * 86400 + hour * 3600 + min * 60 + sec;
}

/* ---------------- interrupts ---------------- */

static int64_t periodic_ns(const RTC *r)
{
    int rs = r->s.cmos[REG_A] & 0x0F;
    if (!rs || !divider_running(r))
        return 0;
    if (rs <= 2)
        rs += 7;                /* 256 Hz and 128 Hz on a 32 kHz base */
    return ((int64_t)1 << (rs - 1)) * NS_PER_SEC / 32768;
}

static void update_irq(RTC *r)
{
    uint8_t *c = &r->s.cmos[REG_C];
    uint8_t en = r->s.cmos[REG_B] & (B_PIE | B_AIE | B_UIE);
    if (*c & en & (C_PF | C_AF | C_UF))
        *c |= C_IRQF;
    else
        *c &= (uint8_t)~C_IRQF;
    bool level = *c & C_IRQF;
    if (level != r->irq_level) {
        r->irq_level = level;
        bus_set_irq(r->bus, 8, level);
    }
}

static bool alarm_field(uint8_t alarm, uint8_t now)
{
    /* 0xC0-0xFF in an alarm byte means "don't care". */
    return (alarm & 0xC0) == 0xC0 || alarm == now;
}

static bool alarm_matches(const RTC *r, int64_t t)
{
    uint8_t f[RTC_CMOS_SIZE];
    encode_time(r, t, f);
    const uint8_t *c = r->s.cmos;
    return alarm_field(c[REG_SEC_ALARM], f[REG_SEC]) &&
           alarm_field(c[REG_MIN_ALARM], f[REG_MIN]) &&
           alarm_field(c[REG_HOUR_ALARM], f[REG_HOUR]);
}

/* Set PF/UF/AF for everything that happened in (last_flag_ns, now]. */
static void refresh_flags(RTC *r, int64_t now)
{
    int64_t last = r->s.last_flag_ns;
    if (now <= last)
        return;
    uint8_t *c = &r->s.cmos[REG_C];
    int64_t per = periodic_ns(r);
    if (per && now / per != last / per)
        *c |= C_PF;
    if (clock_running(r)) {
        int64_t s0 = sec_at(r, last), s1 = sec_at(r, now);
        if (s1 != s0) {
            *c |= C_UF;
            /* Only the seconds actually reached matter; a long gap checks
             * at most a day of them. */
            int64_t from = s1 - s0 > 86400 ? s1 - 86400 : s0 + 1;
            for (int64_t t = from; t <= s1; t++) {
                if (alarm_matches(r, t)) {
                    *c |= C_AF;
                    break;
                }
            }
        }
    }
    r->s.last_flag_ns = now;
    update_irq(r);
}

static void arm_timers(RTC *r, int64_t now)
{
    int64_t per = periodic_ns(r);
    if (per && (r->s.cmos[REG_B] & B_PIE))
        timer_mod(r->periodic_timer, (now / per + 1) * per);
    else
        timer_del(r->periodic_timer);
    if (clock_running(r) && (r->s.cmos[REG_B] & (B_UIE | B_AIE))) {
        int64_t next = r->s.base_ns +
                       (sec_at(r, now) - r->s.base_sec + 1) * NS_PER_SEC;
        timer_mod(r->second_timer, next);
    } else {
        timer_del(r->second_timer);
    }
}

static void rtc_timer(void *opaque)
{
    RTC *r = opaque;
    int64_t now = clock_ns();
    refresh_flags(r, now);
    arm_timers(r, now);
}

/* ---------------- register access ---------------- */

static bool is_time_reg(int idx)
{
    return idx == REG_SEC || idx == REG_MIN || idx == REG_HOUR ||
           (idx >= REG_WDAY && idx <= REG_YEAR) || idx == REG_CENTURY;
}

static uint8_t rtc_read_reg(RTC *r, int idx, int64_t now)
{
    uint8_t *c = r->s.cmos;
    if (is_time_reg(idx) && clock_running(r))
        time_to_regs(r, sec_at(r, now));
    switch (idx) {
    case REG_A: {
        uint8_t v = c[REG_A] & 0x7F;
        if (clock_running(r)) {
            int64_t phase = (now - r->s.base_ns) % NS_PER_SEC;
            if (phase < 0)
                phase += NS_PER_SEC;
            if (phase >= NS_PER_SEC - UIP_NS)
                v |= A_UIP;
        }
        return v;
    }
    case REG_C: {
        refresh_flags(r, now);
        uint8_t v = c[REG_C];
        c[REG_C] = 0;
        update_irq(r);
        return v;
    }
    case REG_D:
        return D_VRT;
    default:
        return c[idx];
    }
}

static void rtc_write_reg(RTC *r, int idx, uint8_t val, int64_t now)
{
    uint8_t *c = r->s.cmos;
    refresh_flags(r, now);
    if (is_time_reg(idx)) {
        if (clock_running(r)) {
            /* Change one field of the running clock, keeping the phase
             * within the current second. */
            int64_t cur = sec_at(r, now);
            time_to_regs(r, cur);
            c[idx] = val;
            int64_t frac = (now - r->s.base_ns) -
                           (cur - r->s.base_sec) * NS_PER_SEC;
            r->s.base_sec = regs_to_time(r);
            r->s.base_ns = now - frac;
            r->s.last_flag_ns = now;
        } else {
            c[idx] = val;
        }
        arm_timers(r, now);
        return;
    }
    switch (idx) {
    case REG_A: {
        bool was = clock_running(r);
        if (was)
            time_to_regs(r, sec_at(r, now));
        c[REG_A] = (c[REG_A] & A_UIP) | (val & 0x7F);
        if (!was && clock_running(r)) {
            /* The divider leaves reset: the first update is half a
             * second away. */
            r->s.base_sec = regs_to_time(r);
            r->s.base_ns = now - NS_PER_SEC / 2;
            r->s.last_flag_ns = now;
        }
        break;
    }
    case REG_B: {
        bool was = clock_running(r);
        if (was && (val & B_SET))
            time_to_regs(r, sec_at(r, now));     /* freeze what shows */
        if (val & B_SET)
            val &= (uint8_t)~B_UIE;              /* SET clears UIE */
        c[REG_B] = val;
        if (!was && clock_running(r)) {
            r->s.base_sec = regs_to_time(r);
            r->s.base_ns = now;
            r->s.last_flag_ns = now;
        }
        update_irq(r);
        break;
    }
    case REG_C:
    case REG_D:
        break;                                  /* read-only */
    default:
        c[idx] = val;
        break;
    }
    arm_timers(r, now);
}

static uint32_t rtc_pio_read(void *opaque, uint16_t port, int size)
{
    RTC *r = opaque;
    if ((port & 1) == 0)
        return 0xFF;                        /* the index is write-only */
    (void)size;
    return rtc_read_reg(r, r->s.index, clock_ns());
}

static void rtc_pio_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    RTC *r = opaque;
    (void)size;
    if ((port & 1) == 0) {
        r->s.index = val & 0x7F;
        r->s.nmi_disabled = val & 0x80;
        return;
    }
    rtc_write_reg(r, r->s.index, (uint8_t)val, clock_ns());
}

/* ---------------- API ---------------- */

void rtc_set_cmos(RTC *r, int index, uint8_t val)
{
    if (index < 0 || index >= RTC_CMOS_SIZE)
        return;
    rtc_write_reg(r, index, val, clock_ns());
}

uint8_t rtc_get_cmos(RTC *r, int index)
{
    if (index < 0 || index >= RTC_CMOS_SIZE)
        return 0xFF;
    if (index == REG_C) {                   /* look without clearing */
        refresh_flags(r, clock_ns());
        return r->s.cmos[REG_C];
    }
    return rtc_read_reg(r, index, clock_ns());
}

void rtc_update_checksum(RTC *r)
{
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2D; i++)
        sum += r->s.cmos[i];
    r->s.cmos[0x2E] = (uint8_t)(sum >> 8);
    r->s.cmos[0x2F] = (uint8_t)sum;
}

void rtc_set_memory(RTC *r, uint64_t below_4g, uint64_t above_4g)
{
    uint8_t *c = r->s.cmos;
    c[0x15] = 640 & 0xFF;
    c[0x16] = 640 >> 8;
    uint64_t ext = below_4g > (1 << 20) ? (below_4g >> 10) - 1024 : 0;
    if (ext > 0xFFFF)
        ext = 0xFFFF;
    c[0x17] = c[0x30] = (uint8_t)ext;
    c[0x18] = c[0x31] = (uint8_t)(ext >> 8);
    uint64_t hi = below_4g > (16 << 20) ? (below_4g - (16 << 20)) >> 16 : 0;
    if (hi > 0xFFFF)
        hi = 0xFFFF;
    c[0x34] = (uint8_t)hi;
    c[0x35] = (uint8_t)(hi >> 8);
    uint64_t top = above_4g >> 16;
    if (top > 0xFFFFFF)
        top = 0xFFFFFF;
    c[0x5B] = (uint8_t)top;
    c[0x5C] = (uint8_t)(top >> 8);
    c[0x5D] = (uint8_t)(top >> 16);
    rtc_update_checksum(r);
}

int64_t rtc_get_time(RTC *r)
{
    if (clock_running(r))
        return sec_at(r, clock_ns());
    return regs_to_time(r);
}

/* Parses -rtc base=. Returns false on a malformed or out-of-range value. */
static bool parse_base(const char *arg, int64_t *out)
{
    time_t now = time(NULL);
    /* The value may be followed by more -rtc suboptions (",clock=..."). */
    char base[32];
    if (arg) {
        size_t n = strcspn(arg, ",");
        if (n >= sizeof(base))
            return false;
        memcpy(base, arg, n);
        base[n] = 0;
    }
    if (!arg || !strcmp(base, "utc")) {
        *out = (int64_t)now;
        return true;
    }
    if (!strcmp(base, "localtime")) {
        struct tm tm;
        localtime_r(&now, &tm);
        *out = (int64_t)now + tm.tm_gmtoff;
        return true;
    }
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    size_t len = strlen(base);
    if (sscanf(base, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 &&
        (size_t)n == len) {
        /* date only */
    } else if (sscanf(base, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h,
                      &mi, &s, &n) == 6 && (size_t)n == len) {
        /* date and time */
    } else {
        return false;
    }
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                                   30, 31 };
    if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] || h > 23 || mi > 59 || s > 59 || h < 0 ||
        mi < 0 || s < 0)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    *out = days_from_date(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

void rtc_reset(void *opaque)
{
    RTC *r = opaque;
    int64_t now = clock_ns();
    /* RESET clears the interrupt enables and flags; time, format and
     * CMOS RAM are battery-backed and survive. */
    refresh_flags(r, now);
    r->s.cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->s.cmos[REG_C] = 0;
    r->s.last_flag_ns = now;
    update_irq(r);
    arm_timers(r, now);
}

static void rtc_post_load(void *opaque)
{
    RTC *r = opaque;
    r->s.index &= 0x7F;             /* from the saved image: keep in range */
    state_fix_bool(&r->s.nmi_disabled);
    /* Years 1970-9999 keep every calendar conversion defined. */
    if (r->s.base_sec < 0 || r->s.base_sec > 253402300799LL)
        r->s.base_sec = 0;
    r->s.base_ns = state_clamp_time(r->s.base_ns);
    r->s.last_flag_ns = state_clamp_time(r->s.last_flag_ns);
    r->irq_level = !(r->s.cmos[REG_C] & C_IRQF);
    update_irq(r);
    arm_timers(r, clock_ns());
}

RTC *rtc_init(Bus *b, const char *base, char *err, size_t errlen)
{
    int64_t t;
    if (!parse_base(base, &t)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "invalid -rtc base '%s' (utc, localtime, YYYY-MM-DD or "
                     "YYYY-MM-DDTHH:MM:SS)", base ? base : "");
        return NULL;
    }
    RTC *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->bus = b;
    r->periodic_timer = timer_new(rtc_timer, r);
    r->second_timer = timer_new(rtc_timer, r);
    int64_t now = clock_ns();
    r->s.cmos[REG_A] = 0x26;        /* 32.768 kHz base, 1024 Hz rate */
    r->s.cmos[REG_B] = B_24H;       /* BCD, 24 hour */
    r->s.cmos[REG_D] = D_VRT;
    r->s.base_sec = t;
    r->s.base_ns = now;
    r->s.last_flag_ns = now;
    time_to_regs(r, t);
    bus_pio_register(b, 0x70, 2, rtc_pio_read, rtc_pio_write, r, "rtc");
    r->dev = (Device){ .name = "rtc", .opaque = r, .reset = rtc_reset,
                       .state = &r->s, .state_size = sizeof(r->s),
                       .post_load = rtc_post_load };
    bus_add_device(b, &r->dev);
    return r;
}

void rtc_free(RTC *r)
{
    if (!r)
        return;
    timer_free(r->periodic_timer);
    timer_free(r->second_timer);
    bus_del_device(r->bus, &r->dev);
    free(r);
}
