#!/usr/bin/env bash
# The emulated board: boots Debian 12's own kernel under qemu (software emulation) with an
# initramfs holding the release build of replenishd, its libraries, mosquitto, i2c-tools and
# guest-init.sh, with gpio-sim (built here as an out-of-tree module) and i2c-stub standing in
# for the appliance's sensors, and checks what reaches the broker inside the guest.
# usage: run.sh [BINARY]   (default .build/release/replenishd; `make test-emulator` builds it)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-$top/.build/release/replenishd}
cache="$top/.build/emulator"
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo

packages="qemu-system-x86 linux-image-amd64 linux-headers-amd64 linux-source-6.1 busybox-static cpio i2c-tools
          mosquitto mosquitto-clients make gcc xz-utils"
missing=""
for p in $packages; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
    echo "emulator: installing$missing"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The newest kernel with headers and modules installed.
kver=$(ls /lib/modules | sort -V | while read -r v; do [ -d "/lib/modules/$v/build" ] && echo "$v"; done | tail -1)
[ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ] || { echo "emulator: no kernel with headers installed" >&2; exit 1; }
mkdir -p "$cache"
if [ ! -f "$cache/gpio-sim-$kver.ko" ]; then
    echo "emulator: building gpio-sim for $kver"
    "$top/Hardware/emulator/build-module.sh" "$kver" "$cache"
    mv "$cache/gpio-sim.ko" "$cache/gpio-sim-$kver.ko"
fi
[ -x "$binary" ] || { echo "emulator: no replenishd binary at $binary (make release)" >&2; exit 1; }

# The initramfs: busybox, the programs and every library they load, the modules, config, init.
root="$cache/root"
rm -rf "$root" && mkdir -p "$root"/{bin,etc,modules,usr/bin,usr/sbin}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$top/Hardware/emulator/guest-init.sh" "$root/init"
cp "$top/Hardware/emulator/replenishd-emu.yaml" "$root/etc/replenishd.yaml"
cp "$binary" "$root/usr/bin/replenishd"
for program in /usr/sbin/mosquitto /usr/bin/mosquitto_sub /usr/bin/mosquitto_pub /usr/sbin/i2cset /usr/sbin/i2cget /usr/bin/gpiomon; do
    cp "$program" "$root$program"
done
for program in "$root"/usr/bin/* "$root"/usr/sbin/*; do
    ldd "$program" | grep -o '/[^ ]*' | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        cp -Ln "$lib" "$root$lib"
    done
done
for module in fs/configfs/configfs drivers/i2c/i2c-dev drivers/i2c/i2c-stub; do
    cp "/lib/modules/$kver/kernel/$module.ko" "$root/modules/"
done
cp "$cache/gpio-sim-$kver.ko" "$root/modules/gpio-sim.ko"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$cache/initramfs.gz"

log="$cache/console.log"
echo "emulator: booting $kver under qemu (software emulation)"
started=$(date +%s%N)
timeout 600 qemu-system-x86_64 -machine q35 -cpu max -smp 2 -m 768 -nographic -no-reboot -net none \
    -kernel "/boot/vmlinuz-$kver" -initrd "$cache/initramfs.gz" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1" > "$log" 2>&1 || true
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
tr -d '\r' < "$log" | grep -E '^(RESULT|RATE|EMULATOR)' || true
summary=$(tr -d '\r' < "$log" | grep '^EMULATOR DONE' || true)
echo "emulator: boot to result in ${elapsed} ms"
if [ -z "$summary" ] || ! echo "$summary" | grep -q 'fail=0'; then
    echo "emulator: FAILED; console tail:" >&2
    tr -d '\r' < "$log" | tail -60 >&2
    exit 1
fi
