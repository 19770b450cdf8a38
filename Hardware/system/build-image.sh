#!/usr/bin/env bash
# The appliance's root file system for `make test-system`: Debian 12 from debootstrap (minbase
# plus systemd as PID 1, udev, journald, mosquitto as the cloud's stand-in, and what the checks
# read with), Debian's kernel modules with the emulated board's gpio-sim and i2c-stub (built by
# Hardware/emulator/build-module.sh) in place, and a few board settings. No replenishd: the test
# installs the .deb with apt as a maker would. Written as an ext4 image (mkfs.ext4 -d, no loop
# device or mount needed); run.sh caches it by this script's hash and the kernel version.
# usage: build-image.sh IMAGE KERNEL_VERSION MODULES_DIR
set -euo pipefail
image=$1 kver=$2 modules=$3
packages=systemd,systemd-sysv,udev,dbus,kmod,mosquitto,mosquitto-clients,libmosquitto1,libgpiod2,gpiod,libsqlite3-0,libyaml-0-2,sqlite3,i2c-tools,jq,libssl3,procps
root=$(dirname "$image")/root
rm -rf "$root"
debootstrap --variant=minbase --include=$packages bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    > "$(dirname "$image")/debootstrap.log" 2>&1 || { tail -20 "$(dirname "$image")/debootstrap.log" >&2; exit 1; }

# The kernel's modules, with the board's: gpio-sim (not in Debian's kernel) and i2c-stub with
# chip_addr writable at run time (a chip can leave the bus and come back).
mkdir -p "$root/usr/lib/modules"
cp -a "/lib/modules/$kver" "$root/usr/lib/modules/"
rm -f "$root/usr/lib/modules/$kver/build" "$root/usr/lib/modules/$kver/source"
cp "$modules/gpio-sim.ko" "$root/usr/lib/modules/$kver/kernel/drivers/gpio/gpio-sim.ko"
cp "$modules/i2c-stub.ko" "$root/usr/lib/modules/$kver/kernel/drivers/i2c/i2c-stub.ko"
depmod -b "$root" "$kver"

echo board > "$root/etc/hostname"
# The state on its own partition, as appliances keep data apart from an A/B-updated root; it also
# lets the test freeze the daemon's writes (fsfreeze) without freezing the journal.
cat > "$root/etc/fstab" <<FSTAB
/dev/vda / ext4 rw,errors=remount-ro 0 1
/dev/vdb /var/lib/replenishd ext4 rw,nofail 0 2
FSTAB
mkdir -p "$root/var/lib/replenishd"
# q35's SMBus controller would take i2c-0 before the stub; the board has one I2C bus.
echo "blacklist i2c_i801" > "$root/etc/modprobe.d/board.conf"
# The serial console is the test's output; apt's timers are not part of an appliance's minute.
for unit in serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
rm -f "$image"
truncate -s 2G "$image"
mkfs.ext4 -q -F -L board -d "$root" "$image"
rm -rf "$root"
