#!/bin/sh
# Display suite: usage run.sh MAKE KESTREL TOOLDIR GUEST_DIR PART
# PART "bios" runs parts 0 and 1 (1b with the main modes); "modes-full"
# runs 1b with every mode; "linux" boots Linux once: part 3 when Xvfb is
# there, else part 2; "linux-full" runs both 2 and 3.
#  0. Under Xvfb (when Xvfb and xdotool exist), without a machine: the SDL
#     front end's window shows the VGA text screen pixel for pixel, keys
#     typed with xdotool arrive as PS/2 set-2 codes, the mouse as PS/2
#     motion/buttons/wheel, and Ctrl+Alt+G grabs and releases the mouse.
#  1. SeaBIOS with no disk, headless: -screendump-at pictures must show the
#     SeaBIOS banner and "No bootable device" in an 80x25 text mode.
#  1b. vgatest.bin (Multiboot) draws in each mode (VBE 32/16/8 bpp, mode
#     13h, mode 12h, mode 12h split by line compare, CGA modes 4 and 6,
#     text); the monitor's screendump must have the mode's
#     size and known pixels, and match qemu-system-i386's screendump of the
#     same kernel when QEMU is installed.
#  1c. Under Xvfb: vgatest.bin mode=k in the SDL window; text typed with
#     xdotool must reach the guest (through SDL, the console and the i8042)
#     and the guest's echo must show in the window.
#  2. The default Linux guest with console=tty0, headless: the monitor's
#     screendump must show the guest's ready marker on the VGA console.
#  3. Under Xvfb (when Xvfb and xdotool exist): the same guest in the SDL
#     window; a command typed with xdotool must reach the guest's shell and
#     its output must appear on the screen.
# Prints "N passed, M failed" last.
make_cmd=$1; kestrel=$2; tools=$3; guest=$4; part=${5:-bios}
screentext=$tools/screentext
vgabios=/usr/share/seabios/vgabios-stdvga.bin
tmp=$(mktemp -d /tmp/kestrel-display.XXXXXX)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
pass=0; fail=0
ok() { echo "  ok: $1"; pass=$((pass + 1)); }
bad() { echo "  FAIL: $1"; fail=$((fail + 1)); }
finish() { echo "display-$part: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

# Reads a screenshot: size line, then the text rows prefixed with '|'.
read_png() { "$screentext" "$1" "$vgabios" 2>&1; }

# Checks one screenshot: 720x400 (9x16 cells, 80x25), not blank, and every
# further argument appears in its text.
check_text_screen() {
    png=$1; shift
    out=$(read_png "$png") || return 1
    echo "$out" | head -n 1 | grep -q '^size 720x400 ' || return 1
    lit=$(echo "$out" | head -n 1 | sed -E 's/.* lit ([0-9]+).*/\1/')
    [ "$lit" -gt 500 ] || return 1
    for want in "$@"; do
        echo "$out" | grep -q -- "$want" || return 1
    done
    return 0
}

show() {
    echo "  --- $1:"
    read_png "$1" | sed 's/^/    /' | grep -v '^    |$' | head -n 30
}

if [ ! -r "$vgabios" ]; then
    echo "display-$part: skipped: $vgabios is missing (apt-get install seabios)"
    finish
fi

have_x=no
if command -v Xvfb > /dev/null 2>&1 && command -v xdotool > /dev/null 2>&1 &&
   [ -x "$tools/sdlprobe" ]; then
    have_x=yes
fi

start_xvfb() {
    dnum=$(( ($$ % 400) + 100 ))
    while [ -e "/tmp/.X$dnum-lock" ]; do dnum=$((dnum + 1)); done
    Xvfb ":$dnum" -screen 0 1024x768x24 -nolisten tcp > "$tmp/xvfb.log" 2>&1 &
    pids="$pids $!"
    n=0
    while [ ! -e "/tmp/.X11-unix/X$dnum" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    export DISPLAY=":$dnum"
    xvfb_started=yes
}

# Reads the window's real pixels from the X server and checks its text.
check_window() {
    [ -x "$tools/xgrab" ] || return 0
    "$tools/xgrab" "$1" "$tmp/window.png" || return 1
    shift
    check_text_screen "$tmp/window.png" "$@"
}

# ---- 0. the SDL front end alone ----
if [ $have_x = yes ] && [ "$part" = bios ]; then
    echo "sdl-probe (SDL front end under Xvfb, no machine):"
    start_xvfb
    "$tools/sdlprobe" 20 "$vgabios" > "$tmp/probe.out" 2>&1 &
    ppid=$!; pids="$pids $ppid"
    wid=$(timeout 15 xdotool search --sync --name Kestrel 2>/dev/null | head -n 1)
    if [ -z "$wid" ]; then
        bad "the SDL window did not appear"
        cat "$tmp/probe.out"
    else
        sleep 0.5
        if check_window "$wid" "Kestrel SDL probe" "Type here."; then
            ok "the window shows the VGA text screen (read back from X)"
        else
            bad "the window does not show the VGA text screen"
            [ -s "$tmp/window.png" ] && show "$tmp/window.png"
        fi
        xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
        xdotool type --delay 40 'aB'
        xdotool key Up KP_Enter
        xdotool key ctrl+alt+g
        sleep 0.3
        title_grabbed=$(xdotool getwindowname "$wid")
        xdotool click 1 click 3 click 5
        sleep 0.3
        xdotool key ctrl+alt+g
        sleep 0.3
        title_free=$(xdotool getwindowname "$wid")
        sleep 0.3
        kill $ppid 2>/dev/null; wait $ppid 2>/dev/null
        keys=$(grep '^key' "$tmp/probe.out" | tr '\n' ' ')
        # a: 1C; B: left shift 12 + 32; Up: E0 75; keypad Enter: E0 5A.
        case "$keys" in
        *"key 0x1c down key 0x1c up"*"key 0x12 down"*"key 0x32 down"*"key 0xe075 down key 0xe075 up key 0xe05a down key 0xe05a up"*)
            ok "keys arrive as PS/2 set-2 make codes (a, shift+B, Up, keypad Enter)" ;;
        *)  bad "unexpected key events: $keys" ;;
        esac
        if grep -q 'key 0x34' "$tmp/probe.out"; then
            bad "the G of Ctrl+Alt+G leaked to the guest"
        else
            ok "Ctrl+Alt+G is kept from the guest"
        fi
        case "$title_grabbed|$title_free" in
        *"Kestrel [running] - Press Ctrl+Alt+G"*"|Kestrel [running]")
            ok "Ctrl+Alt+G grabs and releases the mouse (title: $title_grabbed)" ;;
        *)  bad "grab titles: '$title_grabbed' then '$title_free'" ;;
        esac
        mice=$(grep '^mouse' "$tmp/probe.out" | tr '\n' ' ')
        case "$mice" in
        *"mouse 0 0 0 1 mouse 0 0 0 0 mouse 0 0 0 2 mouse 0 0 0 0 mouse 0 0 1 0"*)
            ok "mouse buttons and wheel reach the PS/2 mouse" ;;
        *)  bad "unexpected mouse events: $mice" ;;
        esac
    fi
fi

# Can this Kestrel run a machine yet? (The board lands after the CPU.)
probe=$("$kestrel" -display none -serial null -m 32 -nodefaults \
        -screendump-at 0:"$tmp/probe.png" 2>&1 &
        p=$!; sleep 1; kill $p 2>/dev/null; wait $p 2>/dev/null)
case "$probe" in
*"no machine to run yet"*)
    echo "display-$part: skipped: $probe"
    finish ;;
esac

# ---- 1. SeaBIOS, no disk, -screendump-at ----
if [ "$part" = bios ] || [ "$part" = modes-full ]; then
if [ "$part" = bios ]; then
echo "seabios-no-disk (headless, -screendump-at):"
set -- 2 4 8 15
args=
for t in "$@"; do args="$args -screendump-at $t:$tmp/bios-$t.png"; done
# shellcheck disable=SC2086
"$kestrel" -display none -serial null -m 64 $args > "$tmp/bios.log" 2>&1 &
kpid=$!; pids="$pids $kpid"
found=
for t in "$@"; do
    n=0
    while [ ! -s "$tmp/bios-$t.png" ] && [ $n -lt 600 ] && kill -0 $kpid 2>/dev/null; do
        sleep 0.1; n=$((n + 1))
    done
    sleep 0.2
    if check_text_screen "$tmp/bios-$t.png" SeaBIOS "No bootable device"; then
        found=$t; break
    fi
done
kill $kpid 2>/dev/null; wait $kpid 2>/dev/null
if [ -n "$found" ]; then
    ok "SeaBIOS banner and 'No bootable device' on screen at ${found}s"
    show "$tmp/bios-$found.png"
else
    bad "no screenshot showed SeaBIOS and 'No bootable device'"
    for t in "$@"; do [ -s "$tmp/bios-$t.png" ] && show "$tmp/bios-$t.png"; done
    tail -n 5 "$tmp/bios.log"
fi

fi

# ---- 1b. every display mode, against QEMU ----
if [ -f "$tools/vgatest.bin" ]; then
    echo "vga-modes (vgatest.bin, monitor screendump, QEMU when installed):"
    have_qemu=no
    command -v qemu-system-i386 > /dev/null 2>&1 && have_qemu=yes
    # shoot EMULATOR-KIND MODE OUT: run the kernel, screendump when done
    shoot() {
        kind=$1; mode=$2; out=$3
        rm -f "$tmp/k.in" "$tmp/k.out" "$tmp/k.log" "$out"
        mkfifo "$tmp/k.in" "$tmp/k.out"
        if [ "$kind" = qemu ]; then
            qemu-system-i386 -M pc -vga std -display none -serial null \
                -monitor "pipe:$tmp/k" -kernel "$tools/vgatest.bin" \
                -append "mode=$mode" -debugcon "file:$tmp/k.log" \
                > "$tmp/k.stdout" 2>&1 &
            fmt=" -f png"
        else
            "$kestrel" -display none -serial null -monitor "pipe:$tmp/k" \
                -kernel "$tools/vgatest.bin" -append "mode=$mode" \
                -debugcon "file:$tmp/k.log" > "$tmp/k.stdout" 2>&1 &
            fmt=
        fi
        epid=$!; pids="$pids $epid"
        exec 5<>"$tmp/k.in"
        exec 6<>"$tmp/k.out"
        cat <&6 > /dev/null &
        cpid=$!; pids="$pids $cpid"
        n=0
        while ! grep -q done "$tmp/k.log" 2>/dev/null && [ $n -lt 600 ] &&
              kill -0 $epid 2>/dev/null; do
            sleep 0.1; n=$((n + 1))
        done
        sleep 0.1
        echo "screendump $out$fmt" >&5
        n=0
        while [ ! -s "$out" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        sleep 0.3
        echo "quit" >&5
        sleep 0.2
        kill $epid $cpid 2>/dev/null; wait $epid 2>/dev/null
        exec 5>&- 6>&-
        [ -s "$out" ]
    }
    # mode, size, then "X Y RRGGBB" checks from the kernel's formulas
    if [ "$part" = bios ]; then
        set -- "v 640x480 300:200:2cc8f4 639:479:7fdf5e" \
               "w 800x600 300:200:2965ff 0:0:000000" \
               "m 640x400" "p 640x480" "s 640x480" "4 640x400" "t 720x400"
    else
        set -- "x 640x480 0:0:0e0700 1:0:231c15" "f 640x480" "b 640x480" \
               "d 640x400" "6 640x400" "5 720x400"
    fi
    for spec in "$@"; do
        set -- $spec
        mode=$1; size=$2; shift 2
        if ! shoot kestrel "$mode" "$tmp/k-$mode.png"; then
            bad "mode=$mode: no screendump ($(tail -n 2 "$tmp/k.stdout"))"
            continue
        fi
        got=$("$screentext" "$tmp/k-$mode.png" | head -n 1 | cut -d' ' -f2)
        bad_px=
        for c in "$@"; do
            x=${c%%:*}; rest=${c#*:}; y=${rest%%:*}; want=${rest#*:}
            px=$("$screentext" --pixel "$tmp/k-$mode.png" "$x" "$y")
            [ "$px" = "$want" ] || bad_px="$bad_px ($x,$y)=$px want $want"
        done
        if [ "$got" = "$size" ] && [ -z "$bad_px" ]; then
            ok "mode=$mode: $size, known pixels right"
        else
            bad "mode=$mode: size $got (want $size)$bad_px"
        fi
        if [ $have_qemu = yes ]; then
            if shoot qemu "$mode" "$tmp/q-$mode.png"; then
                # QEMU widens 5-bit channels of 15 bpp by a bare shift
                # (0x18 -> 0xc0), Kestrel by bit replication (0xc6).
                tol=3
                [ "$mode" = f ] && tol=7
                d=$("$screentext" --diff "$tmp/k-$mode.png" "$tmp/q-$mode.png" $tol)
                case "$d" in
                "diff 0 of "*) ok "mode=$mode: same picture as QEMU: $d" ;;
                *) bad "mode=$mode: differs from QEMU: $d" ;;
                esac
            else
                bad "mode=$mode: QEMU gave no screendump"
            fi
        fi
    done
    if [ "$part" = bios ]; then
        if check_text_screen "$tmp/k-t.png" "ABC"; then
            ok "mode=t: the text reads back with SeaVGABIOS's font"
        else
            bad "mode=t: the text does not read back"
        fi
    fi
    [ $have_qemu = yes ] || echo "  (qemu-system-i386 not installed: no comparison)"
else
    echo "vga-modes: skipped: nasm is not installed"
fi

[ "$part" = modes-full ] && finish

# ---- 1c. the SDL window: SeaBIOS, and typing into a guest ----
if [ $have_x = yes ] && [ -x "$tools/xgrab" ]; then
    echo "sdl-seabios (SeaBIOS, no disk, in the SDL window):"
    [ "${xvfb_started:-no}" = yes ] || start_xvfb
    "$kestrel" -name guest-7 -display sdl -serial null -m 64 \
        > "$tmp/sdlbios.out" 2>&1 &
    kpid=$!; pids="$pids $kpid"
    wid=$(timeout 20 xdotool search --sync --name Kestrel 2>/dev/null | head -n 1)
    n=0
    while [ -n "$wid" ] && [ $n -lt 30 ] &&
          ! check_window "$wid" SeaBIOS "No bootable device"; do
        sleep 0.5; n=$((n + 1))
    done
    if [ -n "$wid" ] && check_window "$wid" SeaBIOS "No bootable device"; then
        ok "the window shows the SeaBIOS screen (read back from X)"
        title=$(xdotool getwindowname "$wid")
        if [ "$title" = "guest-7 - Kestrel [running]" ]; then
            ok "the title names the guest and its state: $title"
        else
            bad "window title '$title'"
        fi
    else
        bad "the window never showed the SeaBIOS screen"
        [ -s "$tmp/window.png" ] && show "$tmp/window.png"
    fi
    kill $kpid 2>/dev/null; wait $kpid 2>/dev/null
fi
if [ -f "$tools/vgatest.bin" ] && [ $have_x = yes ]; then
    echo "sdl-keyboard (vgatest.bin mode=k in the SDL window, xdotool):"
    [ "${xvfb_started:-no}" = yes ] || start_xvfb
    "$kestrel" -display sdl -serial null -kernel "$tools/vgatest.bin" \
        -append mode=k -debugcon "file:$tmp/kbd.log" > "$tmp/kbd.out" 2>&1 &
    kpid=$!; pids="$pids $kpid"
    wid=$(timeout 20 xdotool search --sync --name Kestrel 2>/dev/null | head -n 1)
    n=0
    while ! grep -q ready "$tmp/kbd.log" 2>/dev/null && [ $n -lt 300 ]; do
        sleep 0.1; n=$((n + 1))
    done
    if [ -z "$wid" ] || ! grep -q ready "$tmp/kbd.log" 2>/dev/null; then
        bad "the keyboard test kernel did not start in a window"
        tail -n 3 "$tmp/kbd.out"
    else
        xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
        xdotool type --delay 50 'kestrel 42'
        xdotool key Return
        n=0
        while ! grep -q done "$tmp/kbd.log" 2>/dev/null && [ $n -lt 100 ]; do
            sleep 0.1; n=$((n + 1))
        done
        sleep 0.3
        if grep -q '^kestrel 42$' "$tmp/kbd.log"; then
            ok "keys typed into the window reached the guest through the i8042"
        else
            bad "the guest read '$(sed -n 2p "$tmp/kbd.log")', want 'kestrel 42'"
        fi
        if check_window "$wid" "kestrel 42"; then
            ok "the window shows what the guest echoed (read back from X)"
        else
            bad "the window does not show the echoed text"
        fi
    fi
    kill $kpid 2>/dev/null; wait $kpid 2>/dev/null
fi

finish
fi

# ---- the default guest ----
if [ ! -f "$guest/vmlinuz" ]; then
    $make_cmd -s --no-print-directory guest-image > "$tmp/image.log" 2>&1 ||
        { tail -n 5 "$tmp/image.log"; }
fi
if [ ! -f "$guest/vmlinuz" ] || [ ! -f "$guest/initrd.gz" ]; then
    bad "the default guest image could not be built ($guest)"
    finish
fi

# Starts the guest with a monitor on a pipe; extra arguments go to Kestrel.
start_guest() {
    name=$1; shift
    rm -f "$tmp/$name.in" "$tmp/$name.out"
    mkfifo "$tmp/$name.in" "$tmp/$name.out"
    "$kestrel" -m 128 -no-reboot -serial "file:$tmp/$name.serial" \
        -monitor "pipe:$tmp/$name" -kernel "$guest/vmlinuz" \
        -initrd "$guest/initrd.gz" "$@" > "$tmp/$name.log" 2>&1 &
    gpid=$!; pids="$pids $gpid"
    # Hold both ends open so neither side blocks on the other.
    exec 3<>"$tmp/$name.in"
    exec 4<>"$tmp/$name.out"
    cat <&4 > "$tmp/$name.monitor" &
    pids="$pids $!"
}

# Polls the screen through the monitor until it shows all the strings.
wait_screen() {
    name=$1; limit=$2; shift 2
    i=0
    while [ $i -lt "$limit" ] && kill -0 $gpid 2>/dev/null &&
          ! grep -q "Kernel panic" "$tmp/$name.serial" 2>/dev/null; do
        rm -f "$tmp/$name.png"
        echo "screendump $tmp/$name.png" >&3
        n=0
        while [ ! -s "$tmp/$name.png" ] && [ $n -lt 20 ]; do sleep 0.1; n=$((n + 1)); done
        sleep 0.1
        check_text_screen "$tmp/$name.png" "$@" && return 0
        sleep 1; i=$((i + 1))
    done
    return 1
}

stop_guest() {
    echo "quit" >&3 2>/dev/null
    sleep 0.5
    kill $gpid 2>/dev/null; wait $gpid 2>/dev/null
    exec 3>&- 4>&-
}

# ---- 2. Linux on the VGA text console, headless ----
if [ "$part" = linux-full ] || [ $have_x = no ]; then
echo "linux-tty0 (headless, monitor screendump):"
start_guest tty0 -display none -append "console=ttyS0 console=tty0 panic=-1 guest_exit=shell"
if wait_screen tty0 600 KESTREL-GUEST-READY; then
    ok "kernel messages and the ready marker on the VGA text console"
    show "$tmp/tty0.png"
else
    bad "the ready marker never appeared on the VGA console"
    [ -s "$tmp/tty0.png" ] && show "$tmp/tty0.png"
    tail -n 3 "$tmp/tty0.serial" "$tmp/tty0.log" 2>/dev/null
fi
stop_guest
fi

# ---- 3. SDL window under Xvfb, typing with xdotool ----
if [ $have_x = no ]; then
    echo "sdl-xvfb: skipped: Xvfb, xdotool or an SDL build is missing"
    finish
fi
if ! "$kestrel" -display help 2>/dev/null | grep -q sdl; then
    echo "sdl-xvfb: skipped: this Kestrel was built without SDL"
    finish
fi
echo "sdl-xvfb (SDL window, xdotool typing):"
[ "${xvfb_started:-no}" = yes ] || start_xvfb
start_guest sdl -display sdl -append "console=ttyS0 console=tty0 panic=-1 guest_exit=shell"
if ! wid=$(timeout 20 xdotool search --sync --name Kestrel 2>/dev/null | head -n 1) ||
   [ -z "$wid" ]; then
    bad "no Kestrel window appeared on the X display"
    tail -n 5 "$tmp/sdl.log"
    stop_guest
    finish
fi
ok "the SDL window exists (title: $(xdotool getwindowname "$wid"))"
if wait_screen sdl 600 KESTREL-GUEST-READY &&
   check_window "$wid" KESTREL-GUEST-READY; then
    ok "the window shows the guest's ready marker (read back from X)"
else
    bad "the ready marker never appeared in the window's screen"
    tail -n 3 "$tmp/sdl.serial" "$tmp/sdl.log" 2>/dev/null
    stop_guest
    finish
fi
sleep 1
xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
# The guest computes 6*7 itself, so a match proves the keys reached a shell.
xdotool type --delay 60 'echo typed-$((6*7))-ok'
xdotool key Return
if wait_screen sdl 30 'typed-42-ok'; then
    ok "text typed into the window reached the guest shell"
    show "$tmp/sdl.png"
else
    bad "typed text did not come back from the guest shell"
    [ -s "$tmp/sdl.png" ] && show "$tmp/sdl.png"
fi
stop_guest
finish
