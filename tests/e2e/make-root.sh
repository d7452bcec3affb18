#!/usr/bin/env bash
# Builds the Debian bookworm root the end-to-end test boots, once, and caches it as a tarball outside the
# checkout; every test run unpacks a fresh copy. Prints the tarball's path. The package list is part of the
# cache key, so changing it builds a new root.
set -euo pipefail
cache=${OUTPOST_CACHE:-$HOME/.cache/outpost}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# systemd as PID 1 and the tools the checks call; outpost's own dependencies are installed too, so installing
# the .deb inside needs no network.
packages=systemd,systemd-sysv,dbus,procps,curl,libsodium23,libsystemd0,libcurl4
key=$(printf '%s %s' "$packages" bookworm | sha256sum | cut -c1-12)
tarball=$cache/bookworm-root-$key.tar.zst
if [ -s "$tarball" ]; then
    echo "$tarball"
    exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/bookworm-root.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "debootstrap: bookworm from $mirror into $work (once; cached as $tarball)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
# Package lists inside, so that apt can resolve a dependency the list above lacks.
chroot "$work/root" apt-get update -qq >&2
chroot "$work/root" apt-get clean
# A machine id and no root password: the container boots without first-boot questions.
echo "outpost-e2e" > "$work/root/etc/hostname"
: > "$work/root/etc/machine-id"
chroot "$work/root" systemd-machine-id-setup >/dev/null 2>&1
chroot "$work/root" passwd -d root >/dev/null
tar -C "$work/root" --numeric-owner --xattrs -cf - . | zstd -q -T0 -3 -o "$work/root.tar.zst"
mv "$work/root.tar.zst" "$tarball"
# Roots made from another package list are stale now.
find "$cache" -maxdepth 1 -name 'bookworm-root-*.tar.zst' ! -path "$tarball" -delete
echo "$tarball"
