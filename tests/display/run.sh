#!/bin/sh
# Display suite: usage run.sh MAKE KESTREL TOOLDIR GUEST_DIR PART
# PART "bios" runs parts 0 and 1; "linux" boots Linux once: part 3 when
# Xvfb is there, else part 2; "linux-full" runs both 2 and 3.
#  0. Under Xvfb (when Xvfb and xdotool exist), without a machine: the SDL
#     front end's window shows the VGA text screen pixel for pixel, keys
#     typed with xdotool arrive as PS/2 set-2 codes, the mouse as PS/2
#     motion/buttons/wheel, and Ctrl+Alt+G grabs and releases the mouse.
#  1. SeaBIOS with no disk, headless: -screendump-at pictures must show the
#     SeaBIOS banner and "No bootable device" in an 80x25 text mode.
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
if [ "$part" = bios ]; then
echo "seabios-no-disk (headless, -screendump-at):"
set -- 3 6 10 15 25
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
    "$kestrel" -m 128 -serial "file:$tmp/$name.serial" \
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
    while [ $i -lt "$limit" ] && kill -0 $gpid 2>/dev/null; do
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
start_guest tty0 -display none -append "console=ttyS0 console=tty0 guest_exit=shell"
if wait_screen tty0 600 KESTREL-GUEST-READY; then
    ok "kernel messages and the ready marker on the VGA text console"
    show "$tmp/tty0.png"
else
    bad "the ready marker never appeared on the VGA console"
    [ -s "$tmp/tty0.png" ] && show "$tmp/tty0.png"
    tail -n 5 "$tmp/tty0.serial" "$tmp/tty0.log" 2>/dev/null
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
start_guest sdl -display sdl -append "console=ttyS0 console=tty0 guest_exit=shell"
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
