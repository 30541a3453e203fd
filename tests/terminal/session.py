#!/usr/bin/env python3
"""The terminal as a user drives it: Kestrel under -nographic on a pty
(serial console and monitor multiplexed, Ctrl-A escapes), and the monitor
on a pipe (-monitor stdio). Prints 'ok'/'FAIL' lines and a summary.
usage: session.py KESTREL [MAKE]   (with MAKE: also `make run`)"""
import os, pty, select, subprocess, sys, time

k = sys.argv[1]
passed = failed = 0

def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what + (": " + detail[-600:] if detail else ""))

def read_until(fd, buf, needle, timeout):
    end = time.time() + timeout
    while needle not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
    return buf

# 1. -nographic on a pty: fw_cfg tells SeaBIOS there is no screen, so it
# mirrors its text to COM1, which is the terminal.
pid, fd = pty.fork()
if pid == 0:
    os.execv(k, [k, "-nographic", "-accel", "tcg"])
out = read_until(fd, b"", b"SeaBIOS", 60)
check(b"SeaBIOS" in out, "-nographic: SeaBIOS on the terminal", out.decode(errors="replace"))
os.write(fd, b"\x01c")
out = read_until(fd, out, b"(qemu) ", 10)
check(b"monitor - type 'help'" in out and b"(qemu) " in out,
      "Ctrl-A c: the monitor takes the terminal", out.decode(errors="replace"))
os.write(fd, b"info status\r")
out = read_until(fd, out, b"VM status: running", 10)
check(b"VM status: running" in out, "monitor answers 'info status'",
      out.decode(errors="replace"))
os.write(fd, b"\x01x")
out = read_until(fd, out, b"terminated", 10)
status = None
for _ in range(100):
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1
        break
    time.sleep(0.1)
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
check(status == 0, "Ctrl-A x quits with status 0", "status %r" % status)

# 2. -monitor stdio on a pipe (scripts): commands in, answers out.
p = subprocess.Popen([k, "-accel", "tcg", "-display", "none", "-nodefaults",
                      "-monitor", "stdio", "-S"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
try:
    out, _ = p.communicate(b"info status\ninfo registers\nxp/4xb 0xffff0\n"
                           b"cont\ninfo status\nquit\n", timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
    out, _ = p.communicate()
text = out.decode(errors="replace")
check("VM status: paused" in text, "-S starts paused", text)
check("EIP=0000fff0" in text and "CS  =f000 ffff0000" in text,
      "info registers shows the reset state", text)
check("00000000000ffff0: 0xea" in text,
      "xp reads the BIOS reset vector (a far JMP)", text)
check("VM status: running" in text, "cont runs", text)
check(p.returncode == 0, "quit exits with status 0", "status %r" % p.returncode)

# 3. The README's first command: `make run` (headless here) boots the
# default guest to a shell that runs commands, and `poweroff` in the guest
# ends Kestrel with status 0.
if len(sys.argv) > 2:
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(sys.argv[2], [sys.argv[2], "-s", "--no-print-directory",
                                 "run"], env)
    out = read_until(fd, b"", b"kestrel-guest:", 300)
    check(b"KESTREL-GUEST-READY" in out and b"kestrel-guest:" in out,
          "make run: the default guest reaches its shell",
          out.decode(errors="replace"))
    os.write(fd, b"echo sum=$((40+2))\r")
    out = read_until(fd, out, b"sum=42", 30)
    check(b"sum=42" in out, "make run: the guest shell runs a command",
          out.decode(errors="replace"))
    os.write(fd, b"poweroff\r")
    out = read_until(fd, out, b"Power down", 60)
    status = None
    for _ in range(300):
        p_, st = os.waitpid(pid, os.WNOHANG)
        if p_:
            status = os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1
            break
        time.sleep(0.1)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    check(status == 0, "make run: poweroff in the guest returns status 0",
          "status %r; %s" % (status, out.decode(errors="replace")))

# 4. The keyboard path of the board (monitor sendkey -> i8042 -> IRQ 1
# through the I/O APIC -> Linux's tty0): typing `poweroff` at the shell on
# the VGA console powers the guest off.
if os.path.exists("images/out/vmlinuz"):
    p = subprocess.Popen([k, "-accel", "tcg", "-m", "128", "-display", "none",
                          "-serial", "file:tests/terminal-kbd.serial",
                          "-monitor", "stdio",
                          "-kernel", "images/out/vmlinuz",
                          "-initrd", "images/out/initrd.gz",
                          "-append", "console=ttyS0 console=tty0 panic=-1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    ser = ""
    for _ in range(3000):
        time.sleep(0.1)
        try:
            with open("tests/terminal-kbd.serial", errors="replace") as f:
                ser = f.read()
        except OSError:
            pass
        # /init's own marker goes to /dev/console, which is tty0 (the last
        # console= wins), so the serial log only shows the kernel's lines.
        if "Run /init" in ser or p.poll() is not None:
            break
    time.sleep(5)                    # the shell starts soon after /init
    try:
        keys = "".join("sendkey %s\n" % c for c in "poweroff") + "sendkey ret\n"
        out, _ = p.communicate(keys.encode(), timeout=120)
    except (subprocess.TimeoutExpired, BrokenPipeError):
        p.kill()
        out, _ = p.communicate()
    with open("tests/terminal-kbd.serial", errors="replace") as f:
        ser = f.read()
    check("reboot: Power down" in ser and p.returncode == 0,
          "sendkey types 'poweroff' into Linux on tty0 (i8042, IRQ 1)",
          "status %r; %s" % (p.returncode, ser))

print("terminal: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
