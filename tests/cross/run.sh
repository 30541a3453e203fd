#!/bin/sh
# The aarch64 host port, checked on an amd64 machine: cross-build Kestrel
# with the portable backend(s) and run its unit tests and the real-CPU
# instruction tests under qemu-aarch64-static. Usage: run.sh SRCDIR
set -u
srcdir=$1
root=$(pwd)/cross-aarch64
if ! command -v clang >/dev/null 2>&1 ||
   ! command -v aarch64-linux-gnu-ld >/dev/null 2>&1 ||
   ! command -v qemu-aarch64-static >/dev/null 2>&1 ||
   ! dpkg -s libcapstone-dev:arm64 libcmocka-dev:arm64 zlib1g-dev:arm64 >/dev/null 2>&1; then
    sh "$srcdir/tests/cross/setup-arm64.sh" || {
        echo "cross-aarch64: cannot install the cross toolchain"; echo "0 passed, 1 failed"; exit 1; }
fi
run="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
pass=0; fail=0
for backend in interp aarch64; do
    [ "$backend" = aarch64 ] && [ ! -f "$srcdir/tcg/backend-aarch64.c" ] && continue
    dir=$root/$backend
    mkdir -p "$dir"
    if ! (cd "$dir" && CC="clang --target=aarch64-linux-gnu" \
            "$srcdir/configure" --cross-prefix=aarch64-linux-gnu- \
            --backend=$backend --disable-sdl --disable-slirp >/dev/null &&
          make -s -j2 kestrel tests/cpu/moo >build.log 2>&1 &&
          for t in "$srcdir"/tests/unit/test_*.c; do
              make -s "tests/unit/bin/$(basename "$t" .c)" >>build.log 2>&1 || exit 1
          done); then
        echo "cross-aarch64/$backend: build failed:"; tail -20 "$dir/build.log"
        fail=$((fail + 1)); continue
    fi
    for t in "$dir"/tests/unit/bin/test_*; do
        case "$t" in *.d|*.log) continue ;; esac
        if (cd "$dir" && KESTREL="$run ./kestrel" $run "$t" >"$t.log" 2>&1); then
            pass=$((pass + 1))
        else
            echo "cross-aarch64/$backend: $(basename "$t") failed:"; tail -15 "$t.log"
            fail=$((fail + 1))
        fi
    done
    # A sample of the real-CPU tests: the whole set takes long under qemu-user.
    data="$srcdir/../shared/testdata/80286-real"
    if [ -d "$data" ]; then
        # With the native backend, run the data through the translator.
        accel=interp; [ "$backend" = aarch64 ] && accel=tcg
        if (cd "$dir" && MOO_ACCEL=$accel $run ./tests/cpu/moo "$data"/0*.MOO.gz "$data"/8*.MOO.gz "$data"/F*.MOO.gz >moo.log 2>&1); then
            pass=$((pass + 1)); tail -1 "$dir/moo.log" | sed "s/^/cross-aarch64\/$backend moo ($accel): /"
        else
            echo "cross-aarch64/$backend: moo failed:"; grep -v ' 250/250' "$dir/moo.log" | tail -15
            fail=$((fail + 1))
        fi
    fi
    if (cd "$dir" && $run ./kestrel -version >/dev/null 2>&1); then pass=$((pass + 1)); else
        echo "cross-aarch64/$backend: kestrel -version failed"; fail=$((fail + 1)); fi
done
echo "cross-aarch64: $pass passed, $fail failed"
[ $fail -eq 0 ]
