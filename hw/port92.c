/* System Control Port A at 0x92 (see hw/port92.h): the "fast A20" gate in
 * bit 1 and an alternate CPU reset in bit 0. */
#include <string.h>
#include "hw/port92.h"

/* One PC has one port 0x92; static storage also keeps it off the heap, so
 * nothing is left to free when the machine goes. */
static struct {
    Bus *bus;
    uint8_t reset_bit;
    Device dev;
} p92;

static uint32_t port92_read(void *opaque, uint16_t port, int size)
{
    (void)opaque; (void)port; (void)size;
    bool a20 = p92.bus->a20_mask & (1u << 20);
    return (a20 ? 0x02 : 0x00) | p92.reset_bit;
}

static void port92_write(void *opaque, uint16_t port, uint32_t val, int size)
{
    (void)opaque; (void)port; (void)size;
    bus_set_a20(p92.bus, val & 0x02);
    /* A 0 -> 1 transition of bit 0 pulses the reset line. */
    bool pulse = (val & 1) && !p92.reset_bit;
    p92.reset_bit = val & 1;
    if (pulse)
        bus_request_reset(p92.bus);
}

static void port92_reset(void *opaque)
{
    (void)opaque;
    p92.reset_bit = 0;
}

void port92_init(Bus *b)
{
    /* Again on the same bus: take the old entry out of its device list.
     * (A different, earlier bus may be gone; it is not touched.) */
    if (p92.bus == b)
        bus_del_device(b, &p92.dev);
    memset(&p92, 0, sizeof(p92));
    p92.bus = b;
    bus_pio_register(b, 0x92, 1, port92_read, port92_write, NULL, "port92");
    p92.dev = (Device){ .name = "port92", .opaque = NULL,
                        .reset = port92_reset, .state = &p92.reset_bit,
                        .state_size = sizeof(p92.reset_bit) };
    bus_add_device(b, &p92.dev);
}
