#!/usr/bin/env bash
# Builds dist/outpost_<version>_amd64.deb with dpkg-deb from the release binaries and the files in packaging/
# and systemd/. The binaries must be built already (make release: --static-swift-stdlib). The version comes
# from Sources/BuildInfo/BuildInfo.swift unless VERSION is set (the end-to-end test builds a bumped one to test
# upgrades). Prints the path of the .deb.
#   BIN_DIR  where outpostd and outpost are (default .build/release)
#   OUT_DIR  where the .deb goes (default dist)
#   DEB_COMPRESSION  dpkg-deb -Z: xz (default, smallest) or gzip (fast, for test builds)
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
bin_dir=${BIN_DIR:-.build/release}
out_dir=${OUT_DIR:-dist}
upstream=$(sed -n 's/^ *public static let version = "\(.*\)"$/\1/p' Sources/BuildInfo/BuildInfo.swift)
[ -n "$upstream" ] || { echo "error: no version in Sources/BuildInfo/BuildInfo.swift" >&2; exit 1; }
version=${VERSION:-$upstream}
# Timestamps inside the package come from the commit, so the same tree gives the same package.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

for program in outpostd outpost; do
    [ -x "$bin_dir/$program" ] || { echo "error: $bin_dir/$program is missing; run make release first" >&2; exit 1; }
    # A binary that needs the toolchain's Swift libraries would not run on a site.
    if objdump -p "$bin_dir/$program" | grep 'NEEDED.*libswift\|NEEDED.*libFoundation\|NEEDED.*libdispatch' >/dev/null; then
        echo "error: $bin_dir/$program links Swift libraries dynamically; build with --static-swift-stdlib" >&2
        exit 1
    fi
done

# The shipped configuration documents every key the agent accepts: keys from the schema in Config+Loading.swift
# ([section] Setting(key:) and the [models.NAME] keys), against the commented "# key = ..." lines.
schema_keys=$(awk '
    /Section\(name: "/ { split($0, a, "\""); section = a[2] }
    /Setting\(key: "/ { split($0, a, "\""); print section "." a[2] }
    /modelSettings:/ { models = 1 }
    models && /^ *"[a-z_]+": \{/ { split($0, a, "\""); print "models." a[2] }
    models && /^ *\]$/ { models = 0 }' Sources/Config/Config+Loading.swift | sort)
documented_keys=$(awk '
    /^#? ?\[models\./ { section = "models"; next }
    /^#? ?\[[a-z_]+\]/ { gsub(/^#? ?\[|\].*$/, ""); section = $0; next }
    /^# [a-z_]+ = / { print section "." $2 }' packaging/outpost.toml | sort)
if [ -z "$schema_keys" ] || [ "$schema_keys" != "$documented_keys" ]; then
    echo "error: packaging/outpost.toml and Sources/Config/Config+Loading.swift disagree on the keys:" >&2
    diff <(echo "$schema_keys") <(echo "$documented_keys") | sed -n 's/^< /  undocumented: /p; s/^> /  not in the schema: /p' >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
doc=$root/usr/share/doc/outpost
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/systemd/system" "$root/usr/lib/sysusers.d" \
    "$root/etc/outpost" "$root/etc/outpost/trusted.d" "$root/usr/share/man/man1" "$root/usr/share/man/man8" "$doc/examples"

for program in outpostd outpost; do
    install -m 0755 "$bin_dir/$program" "$root/usr/bin/$program"
    # What dh_strip does for executables. SwiftPM's RUNPATH $ORIGIN is useless with a static runtime and
    # would make the loader search /usr/bin for libraries.
    strip --remove-section=.comment --remove-section=.note "$root/usr/bin/$program"
    chrpath -d "$root/usr/bin/$program" >/dev/null
done
install -m 0644 systemd/outpostd.service systemd/outpostd.socket "$root/usr/lib/systemd/system/"
install -m 0644 packaging/sysusers.conf "$root/usr/lib/sysusers.d/outpost.conf"
install -m 0644 packaging/outpost.toml "$root/etc/outpost/outpost.toml"
install -m 0644 packaging/copyright "$doc/copyright"
install -m 0644 packaging/examples/gpu.conf "$doc/examples/gpu.conf"
sed "s/@VERSION@/$version/" packaging/man/outpost.1 | gzip -9n > "$root/usr/share/man/man1/outpost.1.gz"
sed "s/@VERSION@/$version/" packaging/man/outpostd.8 | gzip -9n > "$root/usr/share/man/man8/outpostd.8.gz"

# The changelog's first entry must name the package's version; a VERSION override gets an entry of its own.
{
    if [ "$(sed -n '1s/^outpost (\(.*\)).*/\1/p' packaging/changelog)" != "$version" ]; then
        printf 'outpost (%s) bookworm; urgency=medium\n\n  * Local build of %s.\n\n -- %s  %s\n\n' "$version" "$upstream" \
            "$(sed -n 's/^Maintainer: //p' packaging/control.in)" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
    fi
    cat packaging/changelog
} | gzip -9n > "$doc/changelog.gz"

install -m 0755 packaging/postinst packaging/prerm packaging/postrm "$root/DEBIAN/"
echo /etc/outpost/outpost.toml > "$root/DEBIAN/conffiles"

# Shared-library dependencies as dpkg-shlibdeps finds them, plus what the maintainer scripts and units call.
mkdir -p "$work/src/debian"
printf 'Source: outpost\n\nPackage: outpost\nArchitecture: amd64\n' > "$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O -e"$root/usr/bin/outpostd" -e"$root/usr/bin/outpost" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "error: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
depends="$shlibs, procps, systemd | systemd-standalone-sysusers | systemd-sysusers"

# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up, and 1 per directory or link.
installed_size=$(find "$root" -path "$root/DEBIAN" -prune -o -mindepth 1 -printf '%y %s\n' \
    | awk '$1 == "f" { kib += int(($2 + 1023) / 1024) } $1 != "f" { kib += 1 } END { print kib }')
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$installed_size/" -e "s/@DEPENDS@/$depends/" \
    packaging/control.in > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    > "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$out_dir"
deb=$out_dir/outpost_${version}_amd64.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
