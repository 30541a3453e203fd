/* A minimal PC around Kestrel's CPU and the ISA devices, enough to run
 * irqtest.bin without the board: bus, CPU, PIC, PIT, RTC, i8042, COM1,
 * port 0x92, and test doubles for isa-debugcon (0xE9) and isa-debug-exit
 * (0xF4). The loop does what the board's must: run a slice, run due
 * timers, and when the CPU halts sleep in event_poll until the next timer.
 *
 * It checks the kernel's exit status and log, and that a guest waiting in
 * HLT costs little host CPU (no busy loop anywhere in the devices).
 *   harness KERNEL interp|tcg */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "hw/bus.h"
#include "hw/pic.h"
#include "hw/pit.h"
#include "hw/rtc.h"
#include "hw/kbc.h"
#include "hw/uart.h"
#include "hw/port92.h"
#include "cpu/cpu.h"
#include "cpu/translate.h"
#include "system/event.h"
#include "system/loader.h"

static Bus bus;
static CPUState *cpu;
static PIC *pic;
static char log_buf[4096];
static size_t log_len;
static int exit_status = -1;

static void intr_out(void *opaque, bool level)
{
    (void)opaque;
    cpu_set_irq(cpu, level);
}

static void irq_sink(void *opaque, int gsi, int level)
{
    (void)opaque;
    if (gsi < 16)
        pic_set_irq(pic, gsi, level);
}

static void code_write(void *opaque, uint64_t pa, size_t len)
{
    (void)opaque;
    interp_invalidate(cpu, pa, len);
    tcg_cpu_invalidate(cpu, pa, len);
}

static void on_a20(void *opaque, bool enabled)
{
    (void)opaque; (void)enabled;
    cpu_tlb_flush(cpu, true);
}

static uint32_t debug_read(void *opaque, uint16_t port, int size)
{
    (void)opaque; (void)size;
    return port == 0xE9 ? 0xE9 : 0;
}

static void debug_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    (void)opaque; (void)size;
    if (port == 0xE9) {
        if (log_len + 1 < sizeof(log_buf))
            log_buf[log_len++] = (char)val;
    } else if (exit_status < 0) {
        exit_status = (int)(((val & 0xFF) << 1) | 1);
        cpu_request_exit(cpu);
    }
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: harness KERNEL interp|tcg\n");
        return 2;
    }
    bus_init(&bus, 32 << 20);
    cpu = cpu_new(&bus);
    cpu->accel = strcmp(argv[2], "tcg") ? ACCEL_INTERP : ACCEL_TCG;
    pic = pic_init(&bus, intr_out, NULL);
    PIT *pit = pit_init(&bus);
    char err[256];
    RTC *rtc = rtc_init(&bus, NULL, err, sizeof(err));
    KBC *kbc = kbc_init(&bus);
    UART *uart = uart_init(&bus, 0x3F8, 4, NULL);
    port92_init(&bus);
    bus_pio_register(&bus, 0xE9, 1, debug_read, debug_write, NULL, "debugcon");
    bus_pio_register(&bus, 0xF4, 4, debug_read, debug_write, NULL, "debug-exit");
    bus.irq_sink = irq_sink;
    bus.code_write = code_write;
    bus.on_a20 = on_a20;
    cpu->intr_ack = pic_intr_ack;
    cpu->intr_opaque = pic;
    rtc_set_memory(rtc, bus.ram_below_4g, 0);
    cpu_reset(cpu);
    if (load_multiboot(&bus, cpu, argv[1], NULL, "", err, sizeof(err)) < 0) {
        fprintf(stderr, "harness: %s\n", err);
        return 2;
    }

    int64_t t0 = host_clock_ns();
    double c0 = cpu_seconds();
    while (exit_status < 0) {
        int r = cpu_exec(cpu, 200000);
        if (r == EXEC_HALTED)
            event_poll(timers_deadline() - clock_ns());
        else
            timers_run();
        if (host_clock_ns() - t0 > 60 * NS_PER_SEC) {
            fprintf(stderr, "harness: timed out\n");
            break;
        }
    }
    double wall = (host_clock_ns() - t0) / 1e9;
    double used = cpu_seconds() - c0;

    fwrite(log_buf, 1, log_len, stdout);
    int pass = 0, fail = 0;
    const char *mode = argv[2];
    if (exit_status == 33) {
        printf("ok   %s: exit status 33\n", mode);
        pass++;
    } else {
        printf("FAIL %s: exit status %d\n", mode, exit_status);
        fail++;
    }
    /* The kernel spends most of its ~1.5 s waiting in HLT. */
    if (wall > 0.3 && used < 0.5 * wall) {
        printf("ok   %s: idle guest cost %.2f s CPU in %.2f s\n", mode, used,
               wall);
        pass++;
    } else {
        printf("FAIL %s: %.2f s CPU in %.2f s: something spins\n", mode, used,
               wall);
        fail++;
    }
    printf("isa-harness-%s: %d passed, %d failed\n", mode, pass, fail);

    uart_free(uart);
    kbc_free(kbc);
    rtc_free(rtc);
    pit_free(pit);
    pic_free(pic);
    cpu_free(cpu);
    loader_free_bios(&bus);
    bus_free(&bus);
    return fail ? 1 : 0;
}
