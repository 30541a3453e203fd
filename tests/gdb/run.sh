#!/bin/sh
# Drives a real gdb against an emulator running tests/gdb/kernel.asm.
#   run.sh kestrel ./kestrel KERNEL.elf
#   run.sh qemu qemu-system-i386 KERNEL.elf   (the same script, for comparison)
# Two sessions: (1) connect, registers, breakpoints by symbol, stepi,
# register and memory writes, an unmapped address, a software watchpoint
# (gdb single-steps), kill; (2) continue into an endless loop and stop it
# with Ctrl-C (SIGINT to gdb, which sends 0x03). Each check greps gdb's
# output; the final line is "gdb-NAME: N passed, M failed".
name=$1 emu=$2 kernel=$3
pass=0 fail=0
if ! command -v gdb >/dev/null 2>&1; then
    echo "gdb-$name: gdb not installed, skipped"; echo "gdb-$name: 0 passed, 0 failed"; exit 0
fi
if [ "$name" = qemu ] && ! command -v "$emu" >/dev/null 2>&1; then
    echo "gdb-$name: $emu not installed, skipped"; echo "gdb-$name: 0 passed, 0 failed"; exit 0
fi
tmp=$(mktemp -d)
trap 'kill $epid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
port=$(( 20000 + ($$ % 20000) ))


check() {   # check DESCRIPTION REGEX FILE
    if grep -Eq -- "$2" "$3"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "gdb-$name: FAIL: $1 (no /$2/ in gdb output)"
    fi
}

gdbrun() {  # gdbrun OUTFILE -ex ... ; errors do not stop later -ex commands
    out=$1; shift
    timeout 120 gdb -batch -nx -ex 'set pagination off' -ex 'set confirm off' \
        -ex "target remote 127.0.0.1:$port" "$@" "$kernel" >"$out" 2>&1
}

wait_exit() {   # wait_exit SECONDS: true when the emulator has exited
    i=0
    while [ $i -lt $(($1 * 5)) ]; do
        kill -0 $epid 2>/dev/null || return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}

# ---- session 1 ----
start_emu_sh() {   # start_emu_sh [ARGS]: default, the test kernel
    port=$((port + 1))
    [ $# -eq 0 ] && set -- -device isa-debug-exit -kernel "$kernel"
    "$emu" -display none -nodefaults "$@" -gdb tcp::$port -S \
        >"$tmp/emu.out" 2>&1 &
    epid=$!
    # Until it listens (the machine is shared and loaded: be generous).
    i=0
    while [ $i -lt 150 ]; do
        if command -v ss >/dev/null 2>&1; then
            [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && break
        elif [ $i -ge 10 ]; then
            break
        fi
        sleep 0.2; i=$((i + 1))
    done
}
start_emu_sh
o=$tmp/s1.out
gdbrun "$o" \
    -ex 'p/x $eip' \
    -ex 'break start2' -ex 'continue' -ex 'p/x $eip' \
    -ex 'break step_here' -ex 'continue' \
    -ex 'stepi' -ex 'p/x $eip' -ex 'p/x $ebx' \
    -ex 'set $eax = 0x41' -ex 'stepi' -ex 'p/x $eax' -ex 'p/x $eip' \
    -ex 'x/2wx &scratch' \
    -ex 'set {int}&scratch = 0xdeadbeef' -ex 'x/2wx &scratch' \
    -ex 'x/wx 0x40000000' \
    -ex 'set can-use-hw-watchpoints 0' -ex 'watch *(int *)&counter' \
    -ex 'continue' -ex 'delete 3' \
    -ex 'set can-use-hw-watchpoints 1' -ex 'watch *(int *)&counter' \
    -ex 'continue' -ex 'delete 4' \
    -ex 'break done' -ex 'continue' -ex 'p/d *(int *)&counter' \
    -ex 'info registers' -ex 'rwatch *(int *)&spin_mode' -ex 'continue' \
    -ex 'p $pc' -ex 'p $st0' -ex 'p $xmm0.uint128' \
    -ex 'kill'
# Kestrel starts at the Multiboot entry; QEMU at the reset vector (its
# option ROM loads the kernel later).
check "connect: stopped at the entry" '^\$1 = 0x(100010|fff0)$' "$o"
check "break start2 / continue" 'Breakpoint 1, start2 \(\)' "$o"
check "EIP at start2" '^\$2 = 0x100048$' "$o"
check "break step_here" 'Breakpoint 2, step_here \(\)' "$o"
check "stepi over a 5-byte MOV" '^\$3 = 0x100052$' "$o"
check "the MOV ran" '^\$4 = 0x22222222$' "$o"
check "register write + stepi (INC)" '^\$5 = 0x42$' "$o"
check "stepi over a 1-byte INC" '^\$6 = 0x100053$' "$o"
check "memory read" '^0x100084( <scratch>)?:[[:space:]]+0x12345678[[:space:]]+0x9abcdef0' "$o"
check "memory write" '^0x100084( <scratch>)?:[[:space:]]+0xdeadbeef[[:space:]]+0x9abcdef0' "$o"
check "unmapped address" 'Cannot access memory at address 0x40000000' "$o"
check "software watchpoint" 'Old value = 0' "$o"
check "watchpoint new value" 'New value = 1' "$o"
check "hardware watchpoint" 'Hardware watchpoint 4: \*\(int \*\)&counter' "$o"
check "hardware watchpoint hit" 'Old value = 1' "$o"
check "hardware watchpoint value" 'New value = 2' "$o"
check "break done" 'Breakpoint 5, done \(\)' "$o"
check "read watchpoint" 'Hardware read watchpoint 6: \*\(int \*\)&spin_mode' "$o"
check "read watchpoint hit" '^Value = 0$' "$o"
check "stopped after the read" '^\$8 = \(void \(\*\)\(\)\) 0x10006b <done\+7>' "$o"
check "loop count in memory" '^\$7 = 1000$' "$o"
check "info registers: eip" '^eip[[:space:]]+0x100064[[:space:]]+0x100064 <done>' "$o"
check "info registers: eflags" '^eflags[[:space:]]+0x[0-9a-f]+[[:space:]]+\[.*\]' "$o"
check "x87 register" '^\$9 = 0$' "$o"
check "sse register" '^\$10 = 0$' "$o"
check "kill" 'Inferior 1 \(.*\) killed' "$o"
if wait_exit 20; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "gdb-$name: FAIL: emulator still running after kill"
    kill $epid 2>/dev/null
fi
[ "$fail" -gt 0 ] && sed 's/^/  | /' "$o"

# ---- session 2: Ctrl-C ----
start_emu_sh
o=$tmp/s2.out
# timeout (not a subshell) is the background job: it passes SIGINT on,
# and with --foreground only once (a second SIGINT makes gdb give up).
timeout --foreground 120 gdb -batch -nx -ex 'set pagination off' -ex 'set confirm off' \
    -ex "target remote 127.0.0.1:$port" -ex 'break paged' -ex 'continue' \
    -ex 'delete' -ex 'set {int}&spin_mode = 1' \
    -ex 'continue' -ex 'p $pc' -ex 'p *(int *)&counter > 0' -ex 'kill' \
    "$kernel" >"$o" 2>&1 &
gpid=$!
# Interrupt once gdb has resumed the guest and it has spun a while.
i=0
while ! grep -q 'Breakpoint 1, paged' "$o" 2>/dev/null && [ $i -lt 300 ]; do
    sleep 0.2; i=$((i + 1))
done
sleep 2
kill -INT $gpid 2>/dev/null
i=0
while kill -0 $gpid 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
kill $gpid 2>/dev/null
check "Ctrl-C stops with SIGINT" 'received signal SIGINT' "$o"
check "stopped in the endless loop" '^\$1 = \(void \(\*\)\(\)\) 0x10007[0-9a-f] <spin' "$o"
check "the loop ran" '^\$2 = 1$' "$o"
if wait_exit 20; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "gdb-$name: FAIL: emulator still running after kill"
    kill $epid 2>/dev/null
fi
[ "$fail" -gt 0 ] && sed 's/^/  | /' "$o"

# ---- session 5: real mode at the reset vector (SeaBIOS) ----
start_emu_sh -m 32
o=$tmp/s5.out
gdbrun "$o" -ex 'p/x $eip' -ex 'p/x $cs' -ex 'x/bx 0xffff0' -ex 'stepi' \
    -ex 'p/x $eip' -ex 'p/x $cs' -ex 'kill'
check "reset vector EIP" '^\$1 = 0xfff0$' "$o"
check "reset vector CS" '^\$2 = 0xf000$' "$o"
check "linear memory at CS*16+IP" '^0xffff0:[[:space:]]+0xea$' "$o"
check "stepi: the far JMP (SeaBIOS entry)" '^\$3 = 0xe05b$' "$o"
check "CS after the JMP" '^\$4 = 0xf000$' "$o"
wait_exit 20 || kill $epid 2>/dev/null

# ---- session 4 (Kestrel only; QEMU just drops the line): the guest
# exits while gdb waits, and gdb hears the exit status (0x21 = 041).
if [ "$name" = kestrel ]; then
    start_emu_sh
    o=$tmp/s4.out
    gdbrun "$o" -ex 'continue'
    check "guest exit reported" 'exited with code 041' "$o"
    wait_exit 20
fi

# ---- session 3 (Kestrel only): malformed and out-of-range packets ----
if [ "$name" = kestrel ] && command -v python3 >/dev/null 2>&1; then
    start_emu_sh
    timeout 120 python3 "$(dirname "$0")/raw.py" "$name" $port >"$tmp/raw.out" 2>&1
    grep FAIL "$tmp/raw.out"
    set -- $(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$tmp/raw.out")
    if [ $# -eq 2 ]; then
        pass=$((pass + $1)); fail=$((fail + $2))
    else
        fail=$((fail + 1)); echo "gdb-$name: FAIL: raw.py did not finish"
        sed 's/^/  | /' "$tmp/raw.out"
    fi
    if wait_exit 20; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "gdb-$name: FAIL: emulator still running after k"
        kill $epid 2>/dev/null
    fi
fi

echo "gdb-$name: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
