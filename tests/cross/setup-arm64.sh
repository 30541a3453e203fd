#!/bin/sh
# Installs what the aarch64 cross build needs on Debian 12 (amd64 host):
# clang with the GNU cross binutils and libraries, qemu-user-static to run
# the result, and the arm64 -dev packages of Kestrel's libraries through
# multiarch. Idempotent.
# Not gcc-aarch64-linux-gnu: Debian 12 makes it conflict with gcc-multilib,
# which the 32-bit test programs need, and apt would remove that silently.
# The security archive gets "Architectures: amd64 arm64" first so that its
# (sometimes broken) i386 index is not fetched; other index errors are
# tolerated because the main archive has everything needed.
set -eu
export DEBIAN_FRONTEND=noninteractive
pkgs="clang binutils-aarch64-linux-gnu libgcc-12-dev-arm64-cross libc6-dev-arm64-cross qemu-user-static libcapstone-dev:arm64 zlib1g-dev:arm64 libcmocka-dev:arm64"
missing=
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "setup-arm64: as root run: dpkg --add-architecture arm64 && apt-get install -y$missing" >&2
    exit 1
fi
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ] && ! grep -q '^Architectures:' "$src"; then
    # Only the security stanza gets the restriction.
    awk '{print} /^Suites: .*-security/ {print "Architectures: amd64 arm64"}' "$src" > "$src.new" &&
        mv "$src.new" "$src"
fi
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
apt-get -o DPkg::Lock::Timeout=300 update >/dev/null 2>&1 || true
apt-get -o DPkg::Lock::Timeout=300 install -y $missing
