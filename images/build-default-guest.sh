#!/bin/sh
# Builds Kestrel's default guest from Debian 12 packages alone: the i386
# kernel (linux-image-686) and a busybox initramfs. Nothing is committed;
# the packages and the result are cached in OUTDIR (default images/out).
#
#   build-default-guest.sh [OUTDIR]   ->  OUTDIR/vmlinuz, OUTDIR/initrd.gz
#
# The initramfs is reproducible: sorted names, owner 0:0, every mtime set to
# the epoch, cpio --reproducible and gzip -n, so a rebuild from the same
# packages is byte-identical.
#
# Its /init mounts proc, sys and dev, prints KESTREL-GUEST-READY on the
# console, then follows guest_exit= from the kernel command line:
#   shell (default)  a shell on the console (busybox init respawns it;
#                    `poweroff` / `reboot` work as usual)
#   poweroff         power off at once (boot tests, the benchmark)
#   reboot           reboot at once
set -eu
umask 022
export LC_ALL=C

out=${1:-images/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
debs=$out/debs
work=$out/work
mkdir -p "$debs"

say() { echo "build-default-guest: $*" >&2; }

# The i386 architecture must be known to dpkg/apt before i386 packages can
# be downloaded. That changes the host's apt configuration, so only root
# does it; anyone else gets the two commands to run.
if ! dpkg --print-foreign-architectures | grep -qx i386 ||
   ! apt-cache show busybox-static:i386 >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        say "the i386 package index is missing; run as root:"
        say "  dpkg --add-architecture i386 && apt-get update"
        exit 1
    fi
    if ! dpkg --print-foreign-architectures | grep -qx i386; then
        say "dpkg --add-architecture i386"
        dpkg --add-architecture i386
    fi
    say "apt-get update"
    # The security archive's i386 index may fail to download; the main
    # archive is what we need, so carry on and check for it below.
    apt-get update >&2 || say "apt-get update reported an error; continuing"
    if ! apt-cache show busybox-static:i386 >/dev/null 2>&1; then
        say "no i386 packages available after apt-get update"
        exit 1
    fi
fi

# linux-image-686 is a metapackage; the kernel is its versioned dependency.
kpkg=$(apt-cache depends linux-image-686:i386 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-686\).*/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then
    say "cannot resolve the kernel package behind linux-image-686:i386"
    exit 1
fi

fetch() {    # fetch PKG: download PKG:i386 into the cache unless present
    set -- "$1" "$(ls "$debs"/"$1"_*_i386.deb 2>/dev/null | head -n 1)"
    if [ -z "$2" ]; then
        say "apt-get download $1:i386"
        (cd "$debs" && apt-get download -q "$1:i386" >&2)
    fi
    ls "$debs"/"$1"_*_i386.deb | head -n 1
}
kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)

rm -rf "$work"
mkdir -p "$work/kernel" "$work/busybox" "$work/root"
dpkg-deb -x "$kdeb" "$work/kernel"
dpkg-deb -x "$bdeb" "$work/busybox"

vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -n 1)
cp "$vmlinuz" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"

root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" \
         "$root/dev" "$root/tmp" "$root/root"
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

cat > "$root/init" <<'INIT'
#!/bin/sh
# Kestrel default guest: set up the basics, announce readiness, then do
# what guest_exit= on the kernel command line asks.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
# The archive holds no device nodes, so the kernel may have found no
# /dev/console to give us; take it from devtmpfs now.
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin:/sbin HOME=/root
echo KESTREL-GUEST-READY
mode=shell
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    guest_exit=*) mode=${arg#guest_exit=} ;;
    esac
done
case "$mode" in
poweroff) exec poweroff -f ;;
reboot) exec reboot -f ;;
esac
exec /bin/busybox init
INIT
chmod 755 "$root/init"

# busybox init keeps a shell on the console and turns the `poweroff` and
# `reboot` commands into the real thing.
cat > "$root/etc/inittab" <<'TAB'
::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/bin/reboot
::shutdown:/bin/sync
TAB
cat > "$root/etc/profile" <<'PROFILE'
export PATH=/bin:/sbin HOME=/root
PS1='kestrel-guest:\w# '
echo "Kestrel default guest. 'poweroff' ends Kestrel."
PROFILE

find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | sort |
    cpio -o -H newc --owner=0:0 --reproducible --quiet) |
    gzip -n -9 > "$out/initrd.gz.tmp"
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
rm -rf "$work"
say "$out/vmlinuz ($kpkg), $out/initrd.gz"
