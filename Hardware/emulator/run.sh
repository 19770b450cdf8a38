#!/usr/bin/env bash
# The emulated board: boots Debian 12's own kernel under qemu (software emulation) with an
# initramfs holding the release build of replenishd, its libraries, mosquitto, i2c-tools and
# guest-init.sh, with gpio-sim (built here as an out-of-tree module) and i2c-stub standing in
# for the appliance's sensors, and checks what reaches the broker inside the guest.
# With --powercut N it runs the power-cut series instead: the guest's state on a virtio disk,
# the broker on the host, qemu killed (a real power cut for the guest) N times at random moments
# while reports are being written, then a last boot that drains the outbox and checks the
# database: integrity_check must pass and every committed seq must have reached the broker. The
# host also publishes desired configurations just before each cut; check-powercut.py checks the
# remote overlay every cut left on disk, the configuration the daemon started on and the answers.
# With --days it lives through simulated days instead: qemu's clock driven by instruction counts
# and jumping over idle time (-icount sleep=off), an ADS1115 water level falling 200 mL a day, the
# broker on the host; the daily reports must show the daily average and the run-out date.
# With --prepare it only installs what is missing and builds the modules, so that runs started
# side by side afterwards do not race for apt or the module cache.
# usage: run.sh [--prepare | --powercut N | --days] [BINARY]   (default .build/release/replenishd)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cuts=0 days=0 prepare=0
if [ "${1:-}" = --prepare ]; then prepare=1; shift; fi
if [ "${1:-}" = --powercut ]; then cuts=$2; shift 2; fi
if [ "${1:-}" = --days ]; then days=1; shift; fi
binary=${1:-$top/.build/release/replenishd}
cache="$top/.build/emulator"
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo

packages="qemu-system-x86 linux-image-amd64 linux-headers-amd64 linux-source-6.1 busybox-static cpio i2c-tools
          mosquitto mosquitto-clients make gcc xz-utils sqlite3 e2fsprogs gpiod"
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
modules="$cache/modules-$kver"
if [ ! -f "$modules/gpio-sim.ko" ] || [ ! -f "$modules/i2c-stub.ko" ] \
   || [ "$top/Hardware/emulator/build-module.sh" -nt "$modules/gpio-sim.ko" ]; then
    echo "emulator: building gpio-sim and i2c-stub for $kver"
    mkdir -p "$modules"
    "$top/Hardware/emulator/build-module.sh" "$kver" "$modules"
fi
[ "$prepare" = 0 ] || exit 0
[ -x "$binary" ] || { echo "emulator: no replenishd binary at $binary (make release)" >&2; exit 1; }

# The initramfs: busybox, the programs and every library they load, the modules, config, init.
# Each mode has its own work directory, so a long power-cut series and the scenarios can run
# side by side.
work="$cache/$([ "$cuts" -gt 0 ] && echo "powercut-$cuts" || { [ "$days" = 1 ] && echo days; } || echo scenarios)"
mkdir -p "$work"
root="$work/root"
rm -rf "$root" && mkdir -p "$root"/{bin,etc,modules,usr/bin,usr/sbin}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$top/Hardware/emulator/guest-init.sh" "$root/init"
cp "$top/Hardware/emulator/replenishd-emu.yaml" "$root/etc/replenishd.yaml"
cp "$top/Hardware/emulator/replenishd-powercut.yaml" "$root/etc/replenishd-powercut.yaml"
cp "$top/Hardware/emulator/replenishd-days.yaml" "$root/etc/replenishd-days.yaml"
cp "$binary" "$root/usr/bin/replenishd"
for program in /usr/sbin/mosquitto /usr/bin/mosquitto_sub /usr/bin/mosquitto_pub /usr/sbin/i2cset /usr/sbin/i2cget /usr/bin/gpiomon /usr/bin/gpioinfo /usr/bin/sqlite3; do
    cp "$program" "$root$program"
done
for program in "$root"/usr/bin/* "$root"/usr/sbin/*; do
    ldd "$program" | grep -o '/[^ ]*' | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        cp -Ln "$lib" "$root$lib"
    done
done
for module in fs/configfs/configfs drivers/i2c/i2c-dev drivers/virtio/virtio_ring \
              drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev \
              drivers/virtio/virtio_pci drivers/block/virtio_blk net/core/failover drivers/net/net_failover \
              drivers/net/virtio_net crypto/crc32c_generic lib/crc16 fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4; do
    cp "/lib/modules/$kver/kernel/$module.ko" "$root/modules/"
done
cp "$modules/gpio-sim.ko" "$modules/i2c-stub.ko" "$root/modules/"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

boot() {  # log mode [qemu arguments...]
    local log=$1 mode=$2; shift 2
    timeout 900 qemu-system-x86_64 -machine q35 -cpu max -smp ${EMU_SMP:-1} -m 768 -nographic -no-reboot "$@" \
        -kernel "/boot/vmlinuz-$kver" -initrd "$work/initramfs.gz" -pidfile "$work/qemu.pid" \
        -append "console=ttyS0 quiet loglevel=3 panic=-1 emu.mode=$mode $extra" > "$log" 2>&1
}
extra=""

host_broker() {  # a mosquitto on the host and a persistent-session subscriber recording $1
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$work/host-mosquitto.conf"
    mosquitto -c "$work/host-mosquitto.conf" > "$work/host-mosquitto.log" 2>&1 &
    broker=$!
    sleep 0.5
    mosquitto_sub -p "$port" -c -i "$1-cloud" -q 1 -t "replenish/v1/$1/#" -v > "$work/delivered.log" &
    subscriber=$!
    trap 'kill $subscriber $broker 2>/dev/null || true' EXIT
    extra="emu.broker=10.0.2.2:$port"
}

if [ "$days" = 1 ]; then
    host_broker days
    started=$(date +%s%N)
    # shift=0: a nanosecond of guest time per instruction; sleep=off: idle time is skipped.
    boot "$work/console.log" days -icount shift=0,sleep=off -rtc base=2027-03-01T23:00:00,clock=vm \
        -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= || true
    elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
    sleep 1
    tr -d '\r' < "$work/console.log" | grep '^DAYS' || true
    echo "emulator: simulated days in ${elapsed} ms"
    python3 "$top/Hardware/emulator/check-days.py" "$work/delivered.log" || { tail -30 "$work/console.log" >&2; exit 1; }
    exit 0
fi

if [ "$cuts" -gt 0 ]; then
    disk="$work/state.img"
    rm -f "$disk" && truncate -s 64M "$disk" && mkfs.ext4 -q -F -O ^metadata_csum,^64bit "$disk"
    host_broker pc
    net=(-drive "file=$disk,format=raw,if=virtio,cache=writeback" -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile=)
    seed=${POWERCUT_SEED:-$RANDOM}
    RANDOM=$seed
    echo "emulator: $cuts power cuts, seed $seed (replay with POWERCUT_SEED=$seed)"
    # The cloud's side: desired documents (retained, QoS 1) with rising versions, kept in
    # $work/desired for the check. Every third one changes mqtt.keepalive, a connection change
    # applied tentatively and confirmed by the state round trip; the others a threshold and
    # report.every only.
    desired="$work/desired"
    rm -rf "$desired" "$work/cuts.log" && mkdir -p "$desired"
    version=0
    next_document() {
        version=$((version + 1))
        printf '{"version": %d, "mqtt": {"keepalive": "%ds"}, "report": {"every": "%s"}, "slots": [{"id": "water", "low_threshold": %d}]}' \
            "$version" $(( 30 + 5 * (version / 3 % 4) )) "$( [ $((version % 2)) = 0 ] && echo 15m || echo 10m)" \
            $(( 100 + version * 7 % 1500 )) > "$desired/$version.json"
    }
    publish() { mosquitto_pub -p "$port" -r -q 1 -t replenish/v1/pc/config/desired -f "$desired/$1.json"; }
    seconds() { printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )); }  # milliseconds as sleep's seconds
    for i in $(seq 1 "$cuts"); do
        rm -f "$work/qemu.pid"
        boot "$work/cut-$i.log" powercut "${net[@]}" 2>/dev/null &
        qemu=$!
        # Boot to the daemon's first commit takes 10-25 s here; then it commits a report a
        # second. Cut at a random moment after that.
        delay=$(( 25 + RANDOM % 20 ))
        # Three documents 0.05-0.4 s apart, the last one 0-0.5 s before the cut (an apply takes
        # a few hundred ms here): cuts land while one is received, kept, answered or applied, or
        # before it arrives (the next boot takes it from the retained copy).
        next_document; next_document; next_document
        gap1=$(( 50 + RANDOM % 350 )) gap2=$(( 50 + RANDOM % 350 ))
        first=$(( delay * 1000 - RANDOM % 500 - gap1 - gap2 ))
        ( sleep "$(seconds $first)"; publish $((version - 2)); sleep "$(seconds $gap1)"; publish $((version - 1))
          sleep "$(seconds $gap2)"; publish $version ) &
        cloud=$!
        sleep "$delay"
        kill -9 "$(cat "$work/qemu.pid")" 2>/dev/null || true
        wait $qemu 2>/dev/null || true
        wait $cloud
        echo "$i $version" >> "$work/cuts.log"  # the newest version sent by cut i
        echo "emulator: cut $i after ${delay} s, versions $((version - 2))-$version sent $(seconds $(( delay * 1000 - first ))) s before it" \
             "($(grep -c '/status ' "$work/delivered.log" || true) reports delivered so far)"
    done
    extra="$extra emu.remote=$version"
    boot "$work/final.log" final "${net[@]}" || true
    sleep 1
    result=$(tr -d '\r' < "$work/final.log" | grep '^POWERCUT' | tail -1)
    echo "emulator: $result"
    last=$(echo "$result" | sed -n 's/.*lastSeq=\([0-9]*\).*/\1/p')
    integrity=$(echo "$result" | sed -n 's/.*integrity=\(.*\)$/\1/p')
    { grep -o '"seq":[0-9]*' "$work/delivered.log" || true; } | cut -d: -f2 | sort -n > "$work/delivered.seqs"
    delivered=$(sort -un "$work/delivered.seqs" | wc -l)
    copies=$(wc -l < "$work/delivered.seqs")
    lost=$(comm -23 <(seq 1 "${last:-0}" | sort) <(sort -u "$work/delivered.seqs") | wc -l)
    echo "emulator: power cuts $cuts, committed $last, delivered $delivered, lost $lost, duplicates $((copies - delivered)), integrity $integrity"
    # The configuration file exactly as the guest wrote it: the check hashes it with each overlay.
    sed "s/BROKER/10.0.2.2:$port/" "$top/Hardware/emulator/replenishd-powercut.yaml" > "$work/replenishd.yaml"
    remote=0
    python3 "$top/Hardware/emulator/check-powercut.py" "$work" "$cuts" || remote=1
    [ -n "$last" ] && [ "$last" -gt 0 ] && [ "$lost" = 0 ] && [ "$integrity" = ok ] && [ $remote = 0 ] \
        || { tail -20 "$work/final.log" >&2; exit 1; }
    exit 0
fi

log="$work/console.log"
echo "emulator: booting $kver under qemu (software emulation)"
started=$(date +%s%N)
boot "$log" scenarios -net none || true
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
tr -d '\r' < "$log" | grep -E '^(RESULT|RATE|EMULATOR)' || true
summary=$(tr -d '\r' < "$log" | grep '^EMULATOR DONE' || true)
echo "emulator: boot to result in ${elapsed} ms"
if [ -z "$summary" ] || ! echo "$summary" | grep -q 'fail=0'; then
    echo "emulator: FAILED; console tail:" >&2
    tr -d '\r' < "$log" | tail -60 >&2
    exit 1
fi
