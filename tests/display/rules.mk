# Display tests: boot real guests headless (and in an SDL window under Xvfb
# when Xvfb and xdotool are installed), take screenshots through
# -screendump-at and the monitor's screendump, and read them back with
# tests/display/screentext (an independent PNG decoder that recognises text
# with the font inside SeaVGABIOS). sdlprobe runs the SDL front end without
# a machine; xgrab reads the real window pixels back from the X server.
DISPLAY_TOOLS := tests/display/bin/screentext
ifneq ($(shell command -v nasm 2>/dev/null),)
DISPLAY_TOOLS += tests/display/bin/vgatest.bin
endif
ifeq ($(CONFIG_SDL),yes)
DISPLAY_X11_LIBS := $(shell pkg-config --libs x11 2>/dev/null)
DISPLAY_TOOLS += tests/display/bin/sdlprobe
ifneq ($(DISPLAY_X11_LIBS),)
DISPLAY_TOOLS += tests/display/bin/xgrab
endif
endif

tests/display/bin/screentext: $(SRCDIR)/tests/display/screentext.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lz

tests/display/bin/vgatest.bin: $(SRCDIR)/tests/display/vgatest.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<

tests/display/bin/sdlprobe: $(SRCDIR)/tests/display/sdlprobe.c libkestrel.a config.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< libkestrel.a $(LIBS)

tests/display/bin/xgrab: $(SRCDIR)/tests/display/xgrab.c libkestrel.a config.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< libkestrel.a \
	    $(DISPLAY_X11_LIBS) $(LIBS)

# check-display: the SDL front end alone, SeaBIOS, and every display mode
# drawn by tests/display/vgatest.asm, compared with qemu-system-i386's
# picture when QEMU is installed (seconds);
# check-display-linux: one boot of the default guest showing tty0 (in the
# SDL window with typed input when Xvfb is there, else headless);
# check-display-full (check-full): both; check-display-modes (check-full):
# the remaining vgatest modes against QEMU.
.PHONY: check-display check-display-linux check-display-full \
        check-display-modes
check-display: kestrel $(DISPLAY_TOOLS)
	@sh $(SRCDIR)/tests/display/run.sh "$(MAKE)" ./kestrel tests/display/bin \
	    images/out bios
check-display-linux: kestrel $(DISPLAY_TOOLS)
	@sh $(SRCDIR)/tests/display/run.sh "$(MAKE)" ./kestrel tests/display/bin \
	    images/out linux
check-display-full: kestrel $(DISPLAY_TOOLS)
	@sh $(SRCDIR)/tests/display/run.sh "$(MAKE)" ./kestrel tests/display/bin \
	    images/out linux-full
check-display-modes: kestrel $(DISPLAY_TOOLS)
	@sh $(SRCDIR)/tests/display/run.sh "$(MAKE)" ./kestrel tests/display/bin \
	    images/out modes-full

CHECK_SUITES += check-display check-display-linux
FULL_SUITES += check-display-full check-display-modes
CLEAN_EXTRA += tests/display/bin
