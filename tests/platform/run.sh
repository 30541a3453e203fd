#!/bin/sh
# Runs the platform test kernel under Kestrel (interpreter and translator)
# and, when installed, qemu-system-i386; each must power off through ACPI
# (exit status 0) after printing the expected lines on port 0xE9.
#   run.sh KESTREL OUTDIR   (OUTDIR holds platform.elf)
k=$1
d=$2
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

printf 'first module\n' > "$d/mod1.txt"
printf 'second one, longer\n' > "$d/mod2.txt"
expect="ok   Multiboot magic in EAX
ok   Multiboot info: memory, cmdline, modules, mmap
cmdline: $d/platform.elf hello world
module: '$d/mod1.txt arg1 a,b' 13 bytes, page-aligned, first modu
module: '$d/mod2.txt' 19 bytes, page-aligned, second one
ok   Multiboot memory map: RAM at 0 and at 1 MiB
"'ok   RSDP in the BIOS area, checksum
ok   RSDT signature and checksum
ok   FADT found, checksum
ok   MADT found, checksum
ok   DSDT found, checksum
ok   FACS found, 64-byte aligned
ok   SCI on IRQ 9
ok   PM1a control block
ok   \_S5 package in the DSDT
ok   PCI 00:00.0 is the i440FX (8086:1237)
ok   PCI 00:01.0 is the PIIX3 ISA bridge (8086:7000)
ok   PCI 00:01.3 is the PIIX4 PM function (8086:7113)
ok   PCI 00:01.0 is multi-function
ok   empty slot reads all ones
ok   fw_cfg signature
ok   ACPI PM timer counts
ok   MADT lists an I/O APIC
ok   MADT routes ISA IRQ 0 to GSI 2
ok   local APIC timer interrupt
ok   one-shot count ends at zero
ok   PIT interrupts through the I/O APIC
ok   no spurious APIC interrupts
platform: all checks passed'

# reset_run NAME EMULATOR [ARGS...]: the same checks, then a reset through
# the FADT reset register (0xCF9 on QEMU, whose "pc" FADT has none); with
# -no-reboot that ends the emulator with status 0.
reset_run() {
    name=$1
    shift
    rm -f "$d/$name.e9"
    timeout 60 "$@" -M pc -nodefaults -display none -m 128 -no-reboot \
        -kernel "$d/platform.elf" -append "acpi-reset" \
        -debugcon "file:$d/$name.e9" </dev/null >"$d/$name.out" 2>&1
    st=$?
    if [ $st -eq 0 ] && tail -n 2 "$d/$name.e9" | head -n 1 | grep -q '^platform: all checks passed$' &&
       tail -n 1 "$d/$name.e9" | grep -q '^platform: resetting$'; then
        ok "$name: ACPI reset ends -no-reboot with status 0"
    else
        bad "$name: reset run: status $st, output tail '$(tail -n 2 "$d/$name.e9" 2>/dev/null)'"
    fi
}

# run NAME EMULATOR [ARGS...]
run() {
    name=$1
    shift
    rm -f "$d/$name.e9"
    timeout 60 "$@" -M pc -nodefaults -display none -m 128 \
        -kernel "$d/platform.elf" -append "hello world" \
        -initrd "$d/mod1.txt arg1 a,,b,$d/mod2.txt" \
        -debugcon "file:$d/$name.e9" \
        </dev/null >"$d/$name.out" 2>&1
    st=$?
    if [ $st -eq 0 ]; then ok "$name: ACPI power-off, exit status 0"
    else bad "$name: exit status $st, want 0 ($(head -c 300 "$d/$name.out"))"; fi
    if [ "$(cat "$d/$name.e9" 2>/dev/null)" = "$expect" ]; then
        ok "$name: all platform checks passed"
    else
        bad "$name: output differs:"
        printf '%s\n' "$expect" > "$d/expect.e9"
        diff "$d/expect.e9" "$d/$name.e9" | head -20
    fi
}

run kestrel-interp "$k" -accel interp
run kestrel-tcg "$k" -accel tcg
reset_run kestrel-reset "$k"
if command -v qemu-system-i386 >/dev/null 2>&1; then
    run qemu qemu-system-i386 -accel tcg
    reset_run qemu-reset qemu-system-i386 -accel tcg
else
    echo "skip qemu: qemu-system-i386 not installed"
fi
echo "platform: $pass passed, $fail failed"
[ $fail -eq 0 ]
