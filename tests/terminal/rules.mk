# The terminal and the monitor as users drive them (a pty for -nographic
# with Ctrl-A escapes; a pipe for -monitor stdio; `make run` to the guest
# shell and poweroff). Needs python3.
.PHONY: check-terminal
check-terminal: kestrel images/out/stamp
	@if command -v python3 >/dev/null 2>&1; then \
	    python3 $(SRCDIR)/tests/terminal/session.py ./kestrel "$(MAKE)"; \
	else echo "terminal: python3 not installed, skipped"; echo "terminal: 0 passed, 0 failed"; fi

CHECK_SUITES += check-terminal
