#!/usr/bin/env bash
# `make test-system`: the .deb under a real systemd. Boots Debian's kernel under qemu (TCG) on a
# Debian 12 root file system built by build-image.sh (debootstrap; cached in .build/system by
# that script's hash and the kernel version), with the emulated board's gpio-sim and i2c-stub
# as sensors and the state on a second disk, and runs guest-test.sh under systemd as PID 1: apt
# installs the package, then systemctl, journalctl -o json and a broker in the guest check it,
# through a reboot, until purge. Prints every result and metric; exits 1 on any failure.
# With --bench N (make bench) it installs and starts the package, then reboots N times and
# prints each boot's boot-to-active and start-to-READY instead.
# usage: run.sh [--bench N] [PACKAGE.deb]   (default the newest .build/deb/replenishd_*.deb: `make deb`)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mode=test boots=0
if [ "${1:-}" = --bench ]; then mode=bench boots=$2; shift 2; fi
here="$top/Hardware/system"
deb=${1:-$(ls -t "$top"/.build/deb/replenishd_*.deb 2>/dev/null | head -1)}
[ -f "$deb" ] || { echo "system: no package at ${deb:-.build/deb} (make deb)" >&2; exit 1; }
cache="$top/.build/system"
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo

# qemu, the kernel and the board's modules (Hardware/emulator), then debootstrap and qemu-img.
"$top/Hardware/emulator/run.sh" --prepare
missing=""
for p in debootstrap qemu-utils e2fsprogs kmod busybox-static cpio; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "system: installing$missing"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
kver=$(ls /lib/modules | sort -V | while read -r v; do [ -d "/lib/modules/$v/build" ] && echo "$v"; done | tail -1)
modules="$top/.build/emulator/modules-$kver"
mkdir -p "$cache"

# The root file system, built once per build-image.sh and kernel.
key=$(cat "$here/build-image.sh" "$modules/gpio-sim.ko" "$modules/i2c-stub.ko" | sha256sum | cut -c1-12)
image="$cache/debian12-$kver-$key.img"
if [ ! -f "$image" ]; then
    echo "system: building the Debian 12 root file system (debootstrap)"
    started=$(date +%s)
    rm -f "$cache"/debian12-*.img
    $sudo "$here/build-image.sh" "$image.partial" "$kver" "$modules"
    mv "$image.partial" "$image"
    echo "system: root file system built in $(( $(date +%s) - started )) s"
fi

# This run: a copy-on-write layer over the image, an empty state partition, and an initramfs
# carrying the payload (the .deb, the board's and the test's scripts and units).
work="$cache/$mode"
rm -rf "$work" && mkdir -p "$work"
qemu-img create -q -f qcow2 -b "$image" -F raw "$work/root.qcow2"
truncate -s 64M "$work/state.img" && mkfs.ext4 -q -F "$work/state.img"
initrd="$work/initramfs"
mkdir -p "$initrd"/{bin,modules,payload}
cp /bin/busybox "$initrd/bin/busybox"
install -m 0755 "$here/initramfs-init.sh" "$initrd/init"
for module in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
              drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
              crypto/crc32c_generic lib/crc16 fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4; do
    cp "/lib/modules/$kver/kernel/$module.ko" "$initrd/modules/"
done
cp "$deb" "$here"/{guest-test.sh,board.sh,adc.sh,board.service,systemtest.service,replenishd-system.yaml} "$initrd/payload/"
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

echo "system: booting Debian 12 under qemu (software emulation) with $(basename "$deb")"
started=$(date +%s)
log="$work/console.log"
timeout "${SYSTEM_TIMEOUT:-1500}" qemu-system-x86_64 -machine q35 -cpu max -smp "${SYSTEM_SMP:-2}" -m 1024 -nographic \
    -kernel "/boot/vmlinuz-$kver" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 quiet loglevel=3 systemd.show_status=false systemtest.mode=$mode systemtest.boots=$boots" \
    -drive "file=$work/root.qcow2,format=qcow2,if=virtio" -drive "file=$work/state.img,format=raw,if=virtio" \
    -net none > "$log" 2>&1 || true
elapsed=$(( $(date +%s) - started ))
# The guest's lines, without what the console put before them (a terminal reset at each boot).
tr -d '\r' < "$log" | sed -n 's/^.*\(SYSTEM \(RESULT\|METRIC\|NOTE\|STAGE\|DONE\|FAIL\|LOG\|IDLE\) \)/\1/p' > "$work/system.log"
grep -Ev '^SYSTEM (LOG|IDLE) ' "$work/system.log" || true
echo "system: guest ran ${elapsed} s"
done=$(grep '^SYSTEM DONE' "$work/system.log" | tail -1 || true)
if [ -z "$done" ] || ! echo "$done" | grep -q 'fail=0' || grep -q '^SYSTEM RESULT [^ ]* FAIL' "$work/system.log"; then
    echo "system: FAILED; the daemon's journal and the console's tail:" >&2
    grep '^SYSTEM LOG' "$work/system.log" >&2 || true
    tr -d '\r' < "$log" | grep -v 'SYSTEM' | tail -40 >&2
    exit 1
fi
