#!/bin/sh
# Fetches Debian 12's PAE kernel (linux-image-686-pae:i386) into OUTDIR,
# the same way images/build-default-guest.sh fetches the default kernel:
# apt-get download + dpkg-deb -x, cached in the build tree, never committed.
#   fetch-pae.sh OUTDIR   ->  OUTDIR/vmlinuz-pae
set -eu
out=$1
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
say() { echo "fetch-pae: $*" >&2; }
if ! apt-cache show linux-image-686-pae:i386 >/dev/null 2>&1; then
    say "no i386 package index; run images/build-default-guest.sh as root first"
    say "(it does: dpkg --add-architecture i386 && apt-get update)"
    exit 1
fi
# The metapackage depends on the versioned kernel package.
kpkg=$(apt-cache depends linux-image-686-pae:i386 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-686-pae\).*/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then
    say "cannot resolve the kernel package behind linux-image-686-pae:i386"
    exit 1
fi
deb=$(ls "$out/debs/${kpkg}"_*_i386.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
    say "apt-get download $kpkg:i386"
    (cd "$out/debs" && apt-get download -q "$kpkg:i386" >&2)
    deb=$(ls "$out/debs/${kpkg}"_*_i386.deb | head -n 1)
fi
rm -rf "$out/x"
mkdir -p "$out/x"
dpkg-deb -x "$deb" "$out/x"
cp "$(ls "$out"/x/boot/vmlinuz-* | head -n 1)" "$out/vmlinuz-pae.tmp"
mv "$out/vmlinuz-pae.tmp" "$out/vmlinuz-pae"
rm -rf "$out/x"
say "$out/vmlinuz-pae ($kpkg)"
