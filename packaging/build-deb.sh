#!/usr/bin/env bash
# Builds .build/deb/replenishd_<version>_<arch>.deb from the release binary (static Swift
# standard library, stripped), with the unit, sysusers, tmpfiles, udev rule, default config,
# profiles, man pages and shell completions. usage: build-deb.sh BINARY MANDIR
set -euo pipefail
binary=$1 mandir=$2
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' "$top/Sources/ReplenishAgent/AgentVersion.swift")
arch=$(dpkg --print-architecture)
work="$top/.build/deb"
root="$work/root"
# An older version's .deb would also match `make check-deb`'s replenishd_*.deb.
rm -rf "$root" "$work"/replenishd_*.deb && mkdir -p "$root/DEBIAN" "$work/completions"

stripped="$work/replenishd"
strip --strip-unneeded -o "$stripped" "$binary"
linkage=$(ldd "$stripped")
if grep -q 'libswift' <<< "$linkage"; then
    echo "build-deb: the binary links the Swift runtime dynamically; build with --static-swift-stdlib" >&2
    exit 1
fi
"$stripped" --generate-completion-script bash > "$work/completions/replenishd.bash"
"$stripped" --generate-completion-script zsh > "$work/completions/_replenishd"
"$stripped" --generate-completion-script fish > "$work/completions/replenishd.fish"
"$top/packaging/install-files.sh" "$root" "$stripped" "$mandir" "$work/completions"

install -m 0755 "$top/packaging/postinst" "$top/packaging/prerm" "$top/packaging/postrm" "$root/DEBIAN/"
echo /etc/replenishd/replenishd.yaml > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: replenishd
Version: $version
Architecture: $arch
Maintainer: replenishd authors <replenishd@example.invalid>
Installed-Size: $size
Depends: libc6 (>= 2.36), libstdc++6, libgcc-s1, libmosquitto1 (>= 2.0), libssl3 (>= 3.0), libgpiod2 (>= 1.6), libsqlite3-0 (>= 3.40), libsystemd0, libyaml-0-2 (>= 0.2.5), tzdata
Recommends: systemd
Section: net
Priority: optional
Homepage: https://example.invalid/replenishd
Description: consumable tracking agent for appliances (sensors to MQTT)
 replenishd reads consumable levels and usage from GPIO and I2C sensors,
 keeps a daily ledger in SQLite and publishes status reports over MQTT to
 a device cloud for smart reordering, with nothing lost across power cuts,
 broker outages or a full disk. Runs as an unprivileged, hardened systemd
 service; "replenishd status" shows what it knows.
CONTROL
deb="$work/replenishd_${version}_${arch}.deb"
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >/dev/null
echo "$deb"
