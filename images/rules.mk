# The default guest (images/build-default-guest.sh) and `make run`.
# The image is cached in the build tree under images/out; it is rebuilt
# only when the script changes (delete images/out to fetch afresh).
GUEST_DIR := images/out
GUEST_KERNEL := $(GUEST_DIR)/vmlinuz
GUEST_INITRD := $(GUEST_DIR)/initrd.gz
GUEST_STAMP := $(GUEST_DIR)/stamp
GUEST_RAM := 128

.PHONY: guest-image
guest-image: $(GUEST_STAMP)
$(GUEST_STAMP): $(SRCDIR)/images/build-default-guest.sh
	sh $(SRCDIR)/images/build-default-guest.sh $(GUEST_DIR)
	touch $@

# A window when there is a display to show it on; the terminal otherwise.
# In the window the shell lives on the VGA console (tty0) and the kernel log
# also goes to the terminal through COM1.
ifneq ($(DISPLAY)$(WAYLAND_DISPLAY),)
RUN_FLAGS := -display sdl -serial stdio
RUN_CONSOLE := console=ttyS0 console=tty0
else
RUN_FLAGS := -nographic
RUN_CONSOLE := console=ttyS0
endif

run: kestrel $(GUEST_STAMP)
	./kestrel -m $(GUEST_RAM) $(RUN_FLAGS) -kernel $(GUEST_KERNEL) \
	    -initrd $(GUEST_INITRD) -append '$(RUN_CONSOLE) quiet'
