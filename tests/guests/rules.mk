# Real guests beyond the default one (tests/guests). Kernels are fetched
# from Debian into the build tree (fetch-*.sh), never committed; they boot
# with the default guest's initramfs (images/rules.mk) to its marker.
# Debian 12's 686-pae kernel: PAE paging, NX, PGE.
GUESTS_SRC := $(SRCDIR)/tests/guests
GUESTS_OUT := tests/guests-out
CLEAN_EXTRA += $(GUESTS_OUT)

$(GUESTS_OUT)/vmlinuz-pae: $(GUESTS_SRC)/fetch-pae.sh
	sh $(GUESTS_SRC)/fetch-pae.sh $(GUESTS_OUT)

.PHONY: check-guests
# (images/rules.mk is read after this file: name its outputs literally)
check-guests: kestrel $(GUESTS_OUT)/vmlinuz-pae images/out/stamp
	@sh $(GUESTS_SRC)/run.sh ./kestrel $(GUESTS_OUT)/vmlinuz-pae \
	    images/out/initrd.gz $(GUESTS_OUT) debian-686-pae \
	    'NX (Execute Disable) protection: active'

FULL_SUITES += check-guests
