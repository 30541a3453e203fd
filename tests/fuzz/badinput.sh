#!/bin/sh
# Bad host input: broken kernels, BIOS images and command lines. Each must
# end with a non-zero status and one clear "kestrel: ..." line on stderr
# (at most a couple of lines in all), never a signal or a sanitizer report;
# where QEMU accepts the input (-m huge is refused, a 100 KB -append is cut
# by the boot protocol) the run must at least end in a controlled way.
#   badinput.sh KESTREL OUTDIR CHAOS_ELF [LINUX-BZIMAGE]
k=$1; d=$2; elf=$3; linux=${4:-}
pass=0; fail=0
mkdir -p "$d"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# expect_error NAME ARGS...: non-zero, not a crash, one-line message
expect_error() {
    name=$1; shift
    timeout 30 "$k" -display none -nodefaults -no-reboot "$@" \
        </dev/null >"$d/$name.stdout" 2>"$d/$name.err"
    st=$?
    lines=$(grep -c . "$d/$name.err")
    if grep -q -a 'Sanitizer\|runtime error:' "$d/$name.err"; then
        bad "$name: sanitizer report: $(grep -a -m1 'Sanitizer\|runtime error:' "$d/$name.err")"
    elif [ $st -eq 0 ] || [ $st -ge 124 ] || [ $st -eq 98 ] || [ $st -eq 99 ]; then
        bad "$name: exit status $st, want an error exit ($(head -c 200 "$d/$name.err"))"
    elif [ "$lines" -lt 1 ] || [ "$lines" -gt 2 ]; then
        bad "$name: $lines lines on stderr, want one: $(head -c 300 "$d/$name.err")"
    else
        ok "$name: status $st: $(head -n 1 "$d/$name.err" | head -c 110)"
    fi
}

# expect_controlled NAME ARGS...: any ending but a crash or sanitizer report
expect_controlled() {
    name=$1; shift
    timeout 6 "$k" -display none -nodefaults -no-reboot "$@" \
        </dev/null >"$d/$name.stdout" 2>"$d/$name.err"
    st=$?
    if grep -q -a 'Sanitizer\|runtime error:' "$d/$name.err"; then
        bad "$name: sanitizer report: $(grep -a -m1 'Sanitizer\|runtime error:' "$d/$name.err")"
    elif [ $st -gt 124 ] || [ $st -eq 98 ] || [ $st -eq 99 ]; then
        bad "$name: exit status $st ($(head -c 200 "$d/$name.err"))"
    else
        ok "$name: controlled ending, status $st"
    fi
}

# ---- images built here ----
: > "$d/empty"
head -c 100 /dev/urandom > "$d/garbage100"
head -c 70000 /dev/urandom > "$d/garbage70k"
# bzImage setup header cut short: "HdrS" at 0x202, boot flag 0xAA55 at 0x1FE
python3 - "$d" <<'PY'
import struct, sys, os
d = sys.argv[1]
def w(name, data):
    open(os.path.join(d, name), 'wb').write(data)
# a boot sector with the Linux signatures, cut right after the header magic
bs = bytearray(0x210)
bs[0x1f1] = 4                      # setup_sects
bs[0x1fe:0x200] = b'\x55\xaa'
bs[0x202:0x206] = b'HdrS'
struct.pack_into('<H', bs, 0x206, 0x020f)
w('bz-cut', bytes(bs[:0x208]))
w('bz-nokernel', bytes(bs))        # header says 4 setup sectors, file ends
big = bytearray(0x1000)            # setup_sects 255: setup beyond the file
big[:len(bs)] = bs
big[0x1f1] = 255
w('bz-setup-big', bytes(big))
old = bytearray(bs) + bytearray(0x1000)
struct.pack_into('<H', old, 0x206, 0x0100)   # protocol 1.00: no bzImage
w('bz-old-proto', bytes(old))
# Multiboot a.out kludge with absurd addresses and lengths
def mb(name, header_addr, load_addr, load_end, bss_end, entry, size=0x2000):
    img = bytearray(size)
    flags = 0x00010000
    struct.pack_into('<8I', img, 0, 0x1BADB002, flags,
                     (-(0x1BADB002 + flags)) & 0xffffffff,
                     header_addr, load_addr, load_end, bss_end, entry)
    w(name, bytes(img))
mb('mb-load-high', 0xfffff000, 0xfffff000, 0, 0, 0xfffff000)
mb('mb-end-before-start', 0x100000, 0x100000, 0x80000, 0, 0x100000)
mb('mb-bss-huge', 0x100000, 0x100000, 0, 0xfffffff0, 0x100000)
mb('mb-header-before-load', 0x100000, 0x200000, 0, 0, 0x100000)
mb('mb-load-zero', 0x0, 0x0, 0, 0, 0x0)
mb('mb-end-beyond-file', 0x100000, 0x100000, 0x900000, 0, 0x100000)
mb('mb-entry-outside', 0x100000, 0x100000, 0, 0, 0xdead0000)
bad_ck = bytearray(0x2000)
struct.pack_into('<3I', bad_ck, 0, 0x1BADB002, 0, 0x12345678)
w('mb-bad-checksum', bytes(bad_ck))
# ELF Multiboot kernels: header with flags 0 at the start of the first page
def elf(name, phoff, phnum, p_offset, p_vaddr, p_filesz, p_memsz, entry=0x100000, size=0x3000, phentsize=32):
    img = bytearray(size)
    img[0:4] = b'\x7fELF'
    img[4] = 1; img[5] = 1; img[6] = 1
    struct.pack_into('<HHIIIIIHHHHHH', img, 16, 2, 3, 1, entry, phoff, 0, 0,
                     52, phentsize, phnum, 40, 0, 0)
    if phoff + 32 <= size:
        struct.pack_into('<8I', img, phoff, 1, p_offset, p_vaddr, p_vaddr,
                         p_filesz, p_memsz, 7, 0x1000)
    struct.pack_into('<3I', img, 0x1000, 0x1BADB002, 0, (-0x1BADB002) & 0xffffffff)
    w(name, bytes(img))
elf('elf-ph-outside-file', 52, 1, 0x1000, 0x100000, 0x100000, 0x100000)
elf('elf-ph-offset-huge', 52, 1, 0xfffff000, 0x100000, 0x2000, 0x2000)
elf('elf-vaddr-outside-ram', 52, 1, 0x1000, 0xf0000000, 0x1000, 0x1000)
elf('elf-vaddr-wrap', 52, 1, 0x1000, 0xfffff800, 0x1000, 0x1000)
elf('elf-memsz-huge', 52, 1, 0x1000, 0x100000, 0x1000, 0xfff00000)
elf('elf-phoff-outside', 0x7ffffff0, 1, 0x1000, 0x100000, 0x1000, 0x1000)
elf('elf-phnum-huge', 52, 0xffff, 0x1000, 0x100000, 0x1000, 0x1000)
elf('elf-phentsize-0', 52, 1, 0x1000, 0x100000, 0x1000, 0x1000, phentsize=0)
elf('elf-filesz-gt-memsz', 52, 1, 0x1000, 0x100000, 0x2000, 0x10)
w('bios-odd-size', os.urandom(70000))
w('bios-64k-zero', bytes(65536))
PY

for f in empty garbage100 garbage70k bz-cut bz-nokernel bz-setup-big bz-old-proto \
         mb-load-high mb-end-before-start mb-bss-huge mb-header-before-load \
         mb-end-beyond-file mb-bad-checksum \
         elf-ph-outside-file elf-ph-offset-huge elf-vaddr-outside-ram \
         elf-vaddr-wrap elf-memsz-huge elf-phoff-outside elf-phnum-huge \
         elf-phentsize-0 elf-filesz-gt-memsz; do
    expect_error "kernel-$f" -m 32 -kernel "$d/$f"
done
# These may be accepted by a loader (QEMU loads some): only no crash
expect_controlled kernel-mb-load-zero -m 32 -kernel "$d/mb-load-zero"
expect_controlled kernel-mb-entry-outside -m 32 -kernel "$d/mb-entry-outside"

expect_error kernel-missing -kernel "$d/does-not-exist"
expect_error kernel-directory -kernel "$d"
expect_error initrd-missing -kernel "$elf" -initrd "$d/does-not-exist"
expect_error initrd-bad-module-list -kernel "$elf" -initrd ",,,"
expect_error bios-empty -bios "$d/empty"
expect_error bios-truncated -bios "$d/garbage100"
expect_error bios-wrong-size -bios "$d/bios-odd-size"
expect_error bios-missing -bios "$d/does-not-exist"
expect_controlled bios-64k-zeros -bios "$d/bios-64k-zero"
expect_error mem-zero -m 0 -kernel "$elf"
expect_error mem-huge -m 99999999 -kernel "$elf"
expect_error mem-garbage -m 12Q -kernel "$elf"
expect_error mem-negative -m -5 -kernel "$elf"
expect_error drive-no-file -drive format=raw
expect_error drive-bad-key -drive file=$d/empty,bogus=1
expect_error drive-missing-file -drive file=$d/does-not-exist,format=raw
expect_error drive-bad-format -drive file=$d/garbage100,format=nonsense
expect_error drive-qcow2-garbage -drive file=$d/garbage70k,format=qcow2
expect_error drive-empty-string -drive ""
expect_error device-unknown -device no-such-device
expect_error device-bad-prop -device isa-debug-exit,iobase=zzz
expect_error device-empty -device ""
expect_error device-debugcon-nochardev -device isa-debugcon,chardev=nope
expect_error chardev-no-id -chardev file,path=$d/x
expect_error chardev-bad-backend -chardev nonsense,id=a
expect_error chardev-file-no-path -chardev file,id=a
expect_error chardev-socket-bad-port -chardev socket,id=a,port=99999999
expect_error global-bad -global nonsense
expect_error global-unknown-prop -global isa-debugcon.nope=1
expect_error serial-bad -serial nonsense:
expect_error accel-bad -accel warp
expect_error unknown-option -frobnicate
expect_error missing-argument -m
expect_error boot-bad -boot order=Z -kernel "$elf"

# A 100 KB command line: refused, or cut to what the boot protocol takes
long=$(head -c 102400 /dev/zero | tr '\0' 'a')
expect_controlled append-100k -m 32 -kernel "$elf" -append "ops=10 $long" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04

# With a real bzImage: a command line over its cmdline_size, too little
# RAM for it, and a garbage initrd (the kernel rejects that itself).
if [ -n "$linux" ] && [ -f "$linux" ]; then
    expect_error linux-append-100k -m 64 -kernel "$linux" -append "$long"
    expect_error linux-ram-too-small -m 3 -kernel "$linux"
    expect_controlled linux-garbage-initrd -m 64 -kernel "$linux" \
        -initrd "$d/garbage70k" -append "panic=-1"
fi

echo "badinput: $pass passed, $fail failed"
[ $fail -eq 0 ]
