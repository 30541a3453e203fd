/* cpurun: boots a test kernel on the CPU alone, without the PC board, so
 * the kernels check the CPU even before (or apart from) system/machine.c.
 *
 * It does what a Multiboot loader does for these kernels (flat a.out-kludge
 * image at its load address, flat 4 GiB segments, EAX = 0x2BADB002) and
 * provides the only two devices they use: COM1's THR/LSR and the
 * isa-debug-exit port 0xf4 (status (v << 1) | 1, as QEMU). Code writes go
 * to both engines' invalidation hooks, as the board routes them.
 *
 * usage: cpurun KERNEL.bin interp|tcg   (exit status: the kernel's) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/translate.h"

#define RAM_SIZE (32u << 20)
#define MB_MAGIC 0x1BADB002u

static int exit_status = -1;
static CPUState *cpu;

static uint32_t port_read(void *o, uint16_t port, int size)
{
    (void)o;
    (void)size;
    return port == 0x3fd ? 0x60 : 0;     /* LSR: THR empty, idle */
}

static void port_write(void *o, uint16_t port, uint32_t v, int size)
{
    (void)o;
    (void)size;
    if (port == 0x3f8) {
        putchar((int)(v & 0xff));
    } else if (port == 0xf4) {
        exit_status = (int)(((v & 0xff) << 1) | 1);
        cpu_request_exit(cpu);
    }
}

static void code_write(void *o, uint64_t pa, size_t len)
{
    (void)o;
    interp_invalidate(cpu, pa, len);
    tcg_cpu_invalidate(cpu, pa, len);
}

static void triple_fault(void *o)
{
    (void)o;
    printf("cpurun: triple fault\n");
    exit_status = 2;
    cpu_request_exit(cpu);
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "interp") && strcmp(argv[2], "tcg"))) {
        fprintf(stderr, "usage: cpurun KERNEL interp|tcg\n");
        return 1;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "cpurun: cannot open %s\n", argv[1]);
        return 1;
    }
    static uint8_t img[1 << 20];
    size_t n = fread(img, 1, sizeof(img), f);
    fclose(f);
    /* Multiboot header in the first 8 KiB, with the address fields. */
    uint32_t off = 0;
    while (off + 32 <= n && off < 8192 && rd32(img + off) != MB_MAGIC)
        off += 4;
    if (off + 32 > n || off >= 8192 || !(rd32(img + off + 4) & 0x10000)) {
        fprintf(stderr, "cpurun: %s: no a.out-kludge Multiboot header\n", argv[1]);
        return 1;
    }
    uint32_t header_addr = rd32(img + off + 12), load_addr = rd32(img + off + 16);
    uint32_t entry = rd32(img + off + 28);
    /* These kernels load from file offset 0 (header_addr - load_addr is
     * the header's offset in the file). */
    if (header_addr - load_addr != off || (uint64_t)load_addr + n > RAM_SIZE) {
        fprintf(stderr, "cpurun: %s: unsupported load address\n", argv[1]);
        return 1;
    }

    Bus b;
    bus_init(&b, RAM_SIZE);
    memcpy(b.ram + load_addr, img, n);
    bus_pio_register(&b, 0x3f8, 8, port_read, port_write, NULL, "com1");
    bus_pio_register(&b, 0xf4, 1, port_read, port_write, NULL, "debug-exit");
    b.code_write = code_write;
    cpu = cpu_new(&b);
    cpu->accel = strcmp(argv[2], "tcg") ? ACCEL_INTERP : ACCEL_TCG;
    cpu->on_triple_fault = triple_fault;

    cpu->cr0 = CR0_PE | CR0_ET;
    for (int s = R_ES; s <= R_GS; s++) {
        SegCache *sc = &cpu->seg[s];
        sc->sel = s == R_CS ? 0x08 : 0x10;
        sc->base = 0;
        sc->limit = 0xffffffffu;
        sc->flags = SEGF_P | SEGF_S | SEGF_DB | SEGF_G |
                    ((s == R_CS ? 11u : 3u) << 8);
    }
    cpu->eip = cpu->next_eip = entry;
    cpu->regs[R_EAX] = 0x2BADB002u;
    cpu->regs[R_EBX] = 0x9000;           /* empty Multiboot info */

    /* Generous bound: the kernels run well under a million instructions. */
    for (int slice = 0; slice < 2000 && exit_status < 0; slice++) {
        int r = cpu_exec(cpu, 100000);
        if (r == EXEC_HALTED) {
            printf("cpurun: halted with interrupts off at %08x\n", cpu->eip);
            exit_status = 3;
        }
    }
    fflush(stdout);
    cpu_free(cpu);
    bus_free(&b);
    return exit_status < 0 ? 4 : exit_status;
}
