# Disk and CD-ROM boots through SeaBIOS: a boot sector (-hda, raw and
# qcow2, writable and -snapshot) and an El Torito ISO (-cdrom), both
# assembled from tests/block/boot.asm; compared with QEMU when installed.
BLOCK_OUT := tests/block

$(BLOCK_OUT)/disk.img: $(SRCDIR)/tests/block/boot.asm
	@mkdir -p $(BLOCK_OUT)
	nasm -f bin -o $@ $<

$(BLOCK_OUT)/cd.iso: $(SRCDIR)/tests/block/boot.asm
	@mkdir -p $(BLOCK_OUT)
	nasm -f bin -DCDROM -o $@ $<

.PHONY: check-block
check-block: kestrel $(BLOCK_OUT)/disk.img $(BLOCK_OUT)/cd.iso
	@sh $(SRCDIR)/tests/block/run.sh ./kestrel $(BLOCK_OUT)

CHECK_SUITES += check-block

CLEAN_EXTRA += $(BLOCK_OUT)/*.img $(BLOCK_OUT)/*.iso $(BLOCK_OUT)/*.qcow2 \
    $(BLOCK_OUT)/*.out

# The Debian kernel's ata_piix/sd/sr drivers reading and writing the disk
# and CD-ROM (needs the default guest's .debs; about 20 s per run).
.PHONY: check-block-linux
check-block-linux: kestrel images/out/stamp $(BLOCK_OUT)/cd.iso
	@sh $(SRCDIR)/tests/block/linux.sh ./kestrel images/out/debs \
	    images/out/vmlinuz $(BLOCK_OUT) $(BLOCK_OUT)/cd.iso tcg

FULL_SUITES += check-block-linux
CLEAN_EXTRA += $(BLOCK_OUT)/linux-*.log
