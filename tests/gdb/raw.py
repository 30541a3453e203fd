#!/usr/bin/env python3
"""Raw-protocol robustness check of a gdb stub: malformed, oversized and
out-of-range packets get error replies (never a crash), and the stub
still answers afterwards. Usage: raw.py NAME PORT. The emulator runs
tests/gdb/kernel.asm stopped at its entry (-S).  Prints "gdb-raw-NAME:
N passed, M failed"."""
import re
import socket
import sys
import time

name, port = sys.argv[1], int(sys.argv[2])
passed = failed = 0


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#%02x" % (sum(payload) & 0xff)


def connect():
    for _ in range(150):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gdb-raw-{name}: cannot connect to port {port}")


s = connect()
buf = b""


def read_reply():
    """The next packet's payload (acks before it are skipped)."""
    global buf
    while True:
        m = re.search(rb"\$([^#]*)#[0-9a-fA-F]{2}", buf, re.S)
        if m:
            buf = buf[m.end():]
            return m.group(1)
        data = s.recv(65536)
        if not data:
            raise EOFError("connection closed")
        buf += data


def read_ack():
    global buf
    while not buf:
        data = s.recv(65536)
        if not data:
            raise EOFError("connection closed")
        buf += data
    ch, buf = buf[:1], buf[1:]
    return ch


def check(what, ok, got=b""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"gdb-raw-{name}: FAIL: {what} (got {got[:80]!r})")


def ask(payload: bytes) -> bytes:
    s.sendall(frame(payload))
    return read_reply()


r = ask(b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
check("qSupported", b"PacketSize=" in r, r)
r = ask(b"?")
check("stop reason", r.startswith(b"T05"), r)
# Run to "paged" (0x10003c): from there only the first 4 MiB are mapped.
check("Z0", ask(b"Z0,10003c,1") == b"OK")
s.sendall(frame(b"c"))
r = read_reply()
check("breakpoint hit", r.startswith(b"T05") and b"swbreak" in r, r)
check("z0", ask(b"z0,10003c,1") == b"OK")
# Bad checksum and an oversized packet: a '-' each, no reply packet.
s.sendall(b"$g#00")
check("bad checksum NAKed", read_ack() == b"-")
s.sendall(frame(b"m" + b"0" * 9000))
check("oversized packet NAKed", read_ack() == b"-")
r = ask(b"m100010,1")
check("still answering", r == b"fa", r)
r = ask(b"m0,ffffffff")
check("huge length: partial answer", 0 < len(r) <= 8192 and
      re.fullmatch(rb"[0-9a-f]+", r) is not None, r)
check("unmapped read", ask(b"m40000000,4").startswith(b"E"))
check("read past 4 GiB", ask(b"m1ffffffff,4").startswith(b"E"))
check("read at the top", ask(b"mffffffff,10").startswith(b"E"))
check("bad hex in M", ask(b"M100084,4:zzzzzzzz").startswith(b"E"))
check("short M data", ask(b"M100084,4:11").startswith(b"E"))
check("unmapped M", ask(b"M40000000,1:11").startswith(b"E"))
check("M", ask(b"M100084,2:1122") == b"OK")
r = ask(b"m100084,2")
check("M landed", r == b"1122", r)
# X with escaped binary: } ] is 0x7d, then a raw NUL byte.
check("X", ask(b"X100084,2:}]\x00") == b"OK")
r = ask(b"m100084,2")
check("X landed", r == b"7d00", r)
check("X length mismatch", ask(b"X100084,3:ab").startswith(b"E"))
check("X lone escape", ask(b"X100084,1:}").startswith(b"E"))
check("unknown register", ask(b"p99") == b"")
r = ask(b"p8")
check("p eip", r == b"3c001000", r)
check("bad P", ask(b"P8=zz").startswith(b"E"))
check("short G", ask(b"G00").startswith(b"E"))
r = ask(b"g")
check("g size", len(r) == 2 * (16 * 4 + 8 * 10 + 8 * 4 + 8 * 16 + 4), r)
check("G round trip", ask(b"G" + r) == b"OK")
check("Z0 without kind", ask(b"Z0,100048").startswith(b"E"))
check("Z9", ask(b"Z9,100048,1").startswith(b"E"))
check("z0 of nothing", ask(b"z0,100048,1").startswith(b"E"))
check("too many breakpoints", any(ask(b"Z0,%x,1" % (0x200000 + i)).startswith(b"E")
                                 for i in range(100)))
for i in range(100):
    ask(b"z0,%x,1" % (0x200000 + i))
check("watch too long", ask(b"Z2,100080,100000").startswith(b"E"))
check("vCont?", ask(b"vCont?").startswith(b"vCont;"))
check("bad vCont", ask(b"vCont;x").startswith(b"E"))
check("unknown packet", ask(b"Jjunk") == b"")
r = ask(b"qXfer:features:read:target.xml:0,ffff")
check("target.xml", r.startswith(b"l<?xml") and b"i386.core" in r, r)
check("target.xml past end", ask(b"qXfer:features:read:target.xml:ffff,10") == b"l")
r = ask(b"m100010,1")
check("alive at the end", r == b"fa", r)
s.sendall(frame(b"k"))
s.close()
print(f"gdb-raw-{name}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
