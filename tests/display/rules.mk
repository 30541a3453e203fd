# Display tests: boot real guests headless (and in an SDL window under Xvfb
# when Xvfb and xdotool are installed), take screenshots through
# -screendump-at and the monitor's screendump, and read them back with
# tests/display/screentext (an independent PNG decoder that recognises text
# with the font inside SeaVGABIOS).
tests/display/bin/screentext: $(SRCDIR)/tests/display/screentext.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lz

.PHONY: check-display
check-display: kestrel tests/display/bin/screentext
	@sh $(SRCDIR)/tests/display/run.sh "$(MAKE)" ./kestrel \
	    tests/display/bin/screentext images/out

CHECK_SUITES += check-display
CLEAN_EXTRA += tests/display/bin
