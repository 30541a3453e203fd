/* Motorola MC146818 real-time clock and its CMOS RAM (ports 0x70/0x71;
 * bit 7 of port 0x70 masks NMI). The time follows the virtual clock from
 * a base chosen by -rtc base= (host time by default). Periodic, alarm and
 * update-ended interrupts go to IRQ 8 through timers. */
#ifndef HW_RTC_H
#define HW_RTC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hw/bus.h"

typedef struct RTC RTC;

#define RTC_CMOS_SIZE 128

typedef struct RTCState {
    uint8_t cmos[RTC_CMOS_SIZE];  /* registers 0-0x0D and CMOS bytes */
    uint8_t index;                /* last index written to port 0x70 */
    bool nmi_disabled;            /* port 0x70 bit 7 */
    int64_t base_sec;             /* guest time (Unix seconds) at base_ns */
    int64_t base_ns;              /* virtual time base_sec refers to */
    int64_t last_flag_ns;         /* flags in register C are up to here */
} RTCState;

/* base: NULL, "utc" or "localtime" (host time; localtime applies the
 * host's time zone), or "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM:SS" (a fixed
 * start time, UTC). Returns NULL with one line in err on a bad base. */
RTC *rtc_init(Bus *b, const char *base, char *err, size_t errlen);
void rtc_free(RTC *r);
void rtc_set_cmos(RTC *r, int index, uint8_t val);
uint8_t rtc_get_cmos(RTC *r, int index);
/* Fill the CMOS memory-size bytes SeaBIOS reads: 0x15/0x16 base memory
 * (640 KiB), 0x17/0x18 and 0x30/0x31 extended KiB above 1 MiB (capped at
 * 63 MiB), 0x34/0x35 64 KiB units above 16 MiB (below 4 GiB), 0x5B-0x5D
 * 64 KiB units above 4 GiB, and the checksum at 0x2E/0x2F. */
void rtc_set_memory(RTC *r, uint64_t below_4g, uint64_t above_4g);
/* Recompute the standard checksum (0x10-0x2D into 0x2E/0x2F). */
void rtc_update_checksum(RTC *r);
/* Guest's current time in Unix seconds (for tests and the monitor). */
int64_t rtc_get_time(RTC *r);
void rtc_reset(void *opaque);
#endif
