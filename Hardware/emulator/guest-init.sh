#!/bin/busybox sh
# /init of the emulated board: loads gpio-sim, i2c-stub and i2c-dev, builds a GPIO chip with
# named lines, starts mosquitto and replenishd (the release build, Hardware/emulator/
# replenishd-emu.yaml), drives the simulated hardware and checks what reaches the broker.
# Prints `RESULT <scenario> ok|FAIL <detail>` lines and `EMULATOR DONE pass=N fail=M`.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/sbin:/sbin
mkdir -p /proc /sys /dev /tmp /run /state
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /state
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^emu\.$1=//p"; }
mode=$(arg mode)
# Big-endian registers (ADS1115, MAX17048) go byte-swapped into i2c-stub's SMBus words.
swapped() { echo $(( ($1 & 0xff) << 8 | ($1 >> 8 & 0xff) )); }
adc() {  # millivolts at the ADS1115's AIN0, ±4.096 V full scale: 8 LSB per mV
    i2cset -y 0 0x48 0x00 "$(swapped $(( $1 * 8 )))" w
}
gauge() {  # percent in the MAX17048's SOC register: 1/256 % per LSB
    i2cset -y 0 0x36 0x04 "$(swapped $(( $1 * 256 )))" w
}
# Waits (up to $1 seconds) until the daemon's outbox is empty, then stops it with SIGTERM.
drain_and_stop() {
    local i=0
    while [ "$(sqlite3 /state/state.db 'SELECT count(*) FROM outbox' 2>/dev/null)" != 0 ] && [ $i -lt "$1" ]; do
        sleep 1; i=$((i + 1))
    done
    kill -TERM $DAEMON; wait $DAEMON
}
net_up() {  # virtio-net on qemu's user network: the host is 10.0.2.2
    for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
        insmod /modules/$m.ko
    done
    ip link set lo up
    ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0
}

if [ "$mode" = days ]; then
    # Simulated days (run.sh --days): qemu's clock runs from instruction counts and skips idle
    # time, so the guest lives through days in seconds. Day 0 is the boot day (from 23:00); at
    # noon of days 1 and 2 the water level drops 200 mL; the host checks the daily reports.
    net_up
    insmod /modules/i2c-dev.ko
    insmod /modules/i2c-stub.ko chip_addr=0x48
    level=1500
    adc $level
    sed "s/BROKER/$(arg broker)/" /etc/replenishd-days.yaml > /tmp/replenishd.yaml
    replenishd run --config /tmp/replenishd.yaml > /tmp/daemon.log 2>&1 &
    DAEMON=$!
    first=$(( $(date +%s) / 86400 ))
    sleep_until() { local left=$(( $1 - $(date +%s) )); [ $left -le 0 ] || sleep $left; }
    echo "DAYS boot $(date -u +%FT%TZ) level $level"
    for day in 1 2; do
        sleep_until $(( (first + day) * 86400 + 43200 ))
        level=$(( level - 200 ))
        adc $level
        echo "DAYS $(date -u +%FT%TZ) level $level"
    done
    # Past the next 03:00 daily report, and until the outbox is empty.
    sleep_until $(( (first + 3) * 86400 + 3 * 3600 + 600 ))
    drain_and_stop 600
    echo "DAYS done $(date -u +%FT%TZ) outbox $(sqlite3 /state/state.db 'SELECT count(*) FROM outbox')"
    tail -5 /tmp/daemon.log
    poweroff -f
fi

if [ "$mode" = powercut ] || [ "$mode" = final ]; then
    # The power-cut series (run.sh --powercut): the state on a virtio disk that qemu's kill cuts
    # mid-write, the broker on the host, which also publishes desired configurations. `final`
    # waits for the last one's answer, drains the outbox and reports the database.
    net_up
    for m in virtio_blk crc32c_generic crc16 mbcache jbd2 ext4; do insmod /modules/$m.ko; done
    i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    mount -t ext4 /dev/vda /state || { echo "POWERCUT mount failed: $(ls /dev | tr '\n' ' ')"; poweroff -f; }
    sed "s/BROKER/$(arg broker)/" /etc/replenishd-powercut.yaml > /tmp/replenishd.yaml
    # The remote overlay as the last cut left it, whole (base64) for the host to compare with
    # the documents it sent; and the last committed seq, which tells this boot's messages apart.
    overlay=/state/state.db.remote.yaml
    # (sqlite3 would leave an empty file where there is no database yet: the daemon refuses that.)
    last_seq() { [ -s /state/state.db ] && sqlite3 /state/state.db 'SELECT last_seq FROM seq_counter' 2>/dev/null || echo 0; }
    file_b64() { if [ ! -e "$1" ]; then echo none; elif [ ! -s "$1" ]; then echo empty; else base64 -w 0 < "$1"; fi; }
    disk() {
        echo "POWERCUT disk $1 lastSeq=$(last_seq)" \
            "overlay=$(file_b64 $overlay) previous=$(file_b64 $overlay.previous) tmp=$([ -e $overlay.tmp ] && echo yes || echo no)"
    }
    disk start
    echo "POWERCUT state mounted, starting the daemon at $(cut -d' ' -f1 /proc/uptime) s"
    : > /tmp/daemon.log
    replenishd run --config /tmp/replenishd.yaml --simulate --time-scale 600 > /tmp/daemon.log 2>&1 &
    DAEMON=$!
    # The daemon's start and configuration changes on the console, which outlives the cut.
    tail -f /tmp/daemon.log | grep -E 'replenishd starting|remote configuration|reloading configuration|configuration reloaded|connection change' &
    if [ "$mode" = final ]; then
        # Until the cloud's last document is answered and no connection change waits for its
        # confirmation (the answers as the host's broker has them).
        broker=$(arg broker)
        mosquitto_sub -h "${broker%:*}" -p "${broker#*:}" -i pc-final -t replenish/v1/pc/config/reported > /tmp/answers 2>&1 &
        sleep 5
        i=0
        while { ! grep -q "\"version\":$(arg remote)[,}]" /tmp/answers || [ -e $overlay.previous ]; } && [ $i -lt 120 ]; do
            sleep 1; i=$((i + 1))
        done
        # Two more reports on the settled configuration, then drain.
        settled=$(last_seq)
        while [ "$(last_seq)" -lt $((settled + 2)) ] && [ $i -lt 150 ]; do sleep 1; i=$((i + 1)); done
        drain_and_stop 120
        disk end
        echo "POWERCUT status $(replenishd status --config /tmp/replenishd.yaml --json | grep -E '"(configHash|configuration|remoteVersion)"' | sed 's/^ *//' | tr '\n' ' ')"
        echo "POWERCUT lastSeq=$(sqlite3 /state/state.db 'SELECT last_seq FROM seq_counter') outbox=$(sqlite3 /state/state.db 'SELECT count(*) FROM outbox') integrity=$(sqlite3 /state/state.db 'PRAGMA integrity_check')"
        tail -5 /tmp/daemon.log
        umount /state
        poweroff -f
    fi
    wait $DAEMON
    echo "POWERCUT daemon exited: $(tail -3 /tmp/daemon.log)"
    poweroff -f
fi

insmod /modules/configfs.ko && mount -t configfs configfs /sys/kernel/config
insmod /modules/gpio-sim.ko
insmod /modules/i2c-dev.ko
# i2c-stub (built by build-module.sh, chip_addr writable at run time) with three chips: the
# register sensor at 0x40, the ADS1115 at 0x48, the MAX17048 at 0x36.
insmod /modules/i2c-stub.ko chip_addr=0x40,0x48,0x36
CHIPS=/sys/module/i2c_stub/parameters/chip_addr
ip link set lo up

pass=0 fail=0
result() {  # name ok|FAIL detail
    echo "RESULT $1 $2 ${3:-}"
    if [ "$2" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
uptime_cs() { tr -d . < /proc/uptime | cut -d' ' -f1; }  # centiseconds since boot

# A gpio-sim chip whose lines carry the names the config uses.
G=/sys/kernel/config/gpio-sim/board
mkdir $G $G/bank0
echo 32 > $G/bank0/num_lines
for n in 5 6 13 17 18 27; do mkdir $G/bank0/line$n; echo GPIO$n > $G/bank0/line$n/name; done
echo 1 > $G/live
SIM=$(ls -d /sys/devices/platform/gpio-sim.*/gpiochip* | head -1)
pull() { echo "$2" > "$SIM/sim_gpio$1/pull"; }
# The tank full (every float switch submerged), a cartridge in, the flow meter idle.
for n in 5 6 13 18; do pull $n pull-up; done
pull 17 pull-down
pull 27 pull-down
i2cset -y 0 0x40 0x00 1000 w
adc 1800
gauge 80

printf 'listener 1883 127.0.0.1\nallow_anonymous true\nuser root\npersistence false\n' > /tmp/mosquitto.conf
mosquitto -c /tmp/mosquitto.conf -d
mosquitto_sub -h 127.0.0.1 -i emu-test -t 'replenish/v1/emu/#' -v > /tmp/msgs 2>/tmp/sub.err &
replenishd run --config /etc/replenishd.yaml > /tmp/daemon.log 2>&1 &
DAEMON=$!
# The test driver yields to everything else: the kernel's interrupt threads and the daemon's
# event thread run before the next edge is written, as they would against real hardware.
renice -n 19 -p $$ > /dev/null

wait_for() {  # pattern seconds: waits until the subscriber saw a line matching pattern
    local deadline=$(( $(uptime_cs) + $2 * 100 ))
    while ! grep -q "$1" /tmp/msgs; do
        [ "$(uptime_cs)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

echo 0 > /tmp/requests
# The slot's field from a fresh status report (reportNow, answered after its report). Each slot
# object starts with its "alexa" member, so splitting there gives one slot per line.
field() {  # slot field
    local n=$(( $(cat /tmp/requests) + 1 ))
    echo $n > /tmp/requests
    mosquitto_pub -h 127.0.0.1 -q 1 -t replenish/v1/emu/commands/reportNow -m "{\"correlationId\":\"r$n\"}"
    wait_for "\"correlationId\":\"r$n\"" 20 || { echo "no reply to r$n" >&2; return 1; }
    grep '^replenish/v1/emu/status ' /tmp/msgs | tail -1 | sed 's/{"alexa"/\n/g' | grep "\"slot\":\"$1\"" \
        | grep -o "\"$2\":[^,}]*" | tail -1 | cut -d: -f2 | tr -d '"'
}

# Polls `field` until it equals want (within 0.01) or the deadline passes; then reports.
expect() {  # scenario slot field want seconds
    local deadline=$(( $(uptime_cs) + $5 * 100 )) got=""
    while :; do
        got=$(field "$2" "$3")
        if [ -n "$got" ] && awk -v a="$got" -v b="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.01) }'; then
            result "$1" ok "$2.$3=$got"
            return 0
        fi
        [ "$(uptime_cs)" -lt "$deadline" ] || break
        sleep 0.3
    done
    result "$1" FAIL "$2.$3=$got want $4"
}

# Polls `field` until it reads text want.
expect_text() {  # scenario slot field want seconds
    local deadline=$(( $(uptime_cs) + $5 * 100 )) got=""
    while :; do
        got=$(field "$2" "$3")
        [ "$got" = "$4" ] && { result "$1" ok "$2.$3=$got"; return 0; }
        [ "$(uptime_cs)" -lt "$deadline" ] || break
        sleep 0.3
    done
    result "$1" FAIL "$2.$3=$got want $4"
}

# Pulses on GPIO17 (the daemon's flow meter) and the same train on GPIO27, which gpiomon counts
# side by side (a line can be requested by one program only).
pulses() {  # count [microseconds between edges]
    local i=0 p="$SIM/sim_gpio17/pull" q="$SIM/sim_gpio27/pull" gap=${2:-0}
    if [ "$gap" = 0 ]; then
        while [ $i -lt "$1" ]; do
            echo pull-up > "$p"; echo pull-up > "$q"; echo pull-down > "$p"; echo pull-down > "$q"; i=$((i + 1))
        done
    else
        while [ $i -lt "$1" ]; do
            echo pull-up > "$p"; echo pull-up > "$q"; usleep "$gap"
            echo pull-down > "$p"; echo pull-down > "$q"; usleep "$gap"; i=$((i + 1))
        done
    fi
}
# gpiomon on GPIO27 for one train: started and waited for until it holds the line; stopped
# (SIGTERM: it flushes its output and exits) once the train is over and counted.
gpiomon_start() {
    gpiomon --rising-edge --format=%o gpiochip0 27 > /tmp/gpiomon.out 2>/tmp/gpiomon.err &
    GPIOMON=$!
    local i=0
    while ! gpioinfo gpiochip0 | grep -q '"GPIO27".*"gpiomon"'; do
        i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
    done
}
gpiomon_stop() {
    kill -TERM $GPIOMON; wait $GPIOMON
    wc -l < /tmp/gpiomon.out
}

# The flow total once three reports in a row, a second apart, agree (the sampler has caught up;
# under software emulation the daemon can lag the shell by well over half a second).
settled_flow() {
    local last="" now="" same=0
    while :; do
        now=$(field flow consumedTotal)
        if [ -n "$now" ] && [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
        [ $same -ge 2 ] && { echo "$now"; return; }
        last=$now
        sleep 1
    done
}

if wait_for '^replenish/v1/emu/status ' 60; then result startup ok "first report $(( $(uptime_cs) / 100 )) s after boot"
else result startup FAIL "no status report; daemon log: $(tail -5 /tmp/daemon.log)"; fi

# Flow meter: known pulse trains counted exactly, then trains ever faster; the fastest train
# counted exactly is the highest rate. The kernel's v1 line-event queue (libgpiod 1.6) holds 16
# events, so a reader that falls behind by more loses edges: faster trains show where.
pulses 100 2000
expect flow-100 flow consumedTotal 100 20
pulses 250 1000
expect flow-350 flow consumedTotal 350 20
best=0 best_gpiomon=0
for gap in 2000 1000 500 250 0; do
    before=$(settled_flow)
    gpiomon_start
    start=$(uptime_cs)
    pulses 500 $gap
    took=$(( $(uptime_cs) - start ))
    rate=$(( 500 * 100 / (took > 0 ? took : 1) ))
    counted=$(awk -v a="$(settled_flow)" -v b="$before" 'BEGIN { printf "%d", a - b }')
    monitored=$(gpiomon_stop)
    echo "RATE 500 pulses, ${gap} us between edges: $rate pulses/s, replenishd counted $counted, gpiomon counted $monitored"
    [ "$counted" = 500 ] && [ "$rate" -gt "$best" ] && best=$rate
    [ "$monitored" = 500 ] && [ "$rate" -gt "$best_gpiomon" ] && best_gpiomon=$rate
done
echo "RATE highest rate counted exactly: replenishd $best pulses/s, gpiomon $best_gpiomon pulses/s"
# Every pulse of every train, whatever the per-train reading caught.
expect flow-all flow consumedTotal 2850 60
# A flow meter at full flow gives about 225 pulses/s (YF-S201: 30 L/min at 450 pulses/L).
if [ "$best" -ge 225 ]; then result flow-rate ok "$best pulses/s counted exactly"
else result flow-rate FAIL "highest exact rate $best pulses/s"; fi

# Float switches go dry one by one: 300 -> 200 -> 100 -> 0 mL.
expect tank-full tank remainingQuantityInUnit 300 20
pull 13 pull-down
expect tank-two-thirds tank remainingQuantityInUnit 200 20
pull 6 pull-down
expect tank-one-third tank remainingQuantityInUnit 100 20
pull 5 pull-down
expect tank-dry tank remainingQuantityInUnit 0 20

# A cartridge removed and re-inserted: one `replaced` event for the slot.
pull 18 pull-down
sleep 1
pull 18 pull-up
if wait_for '"event":"replaced".*"slot":"cartridge"\|"slot":"cartridge".*"event":"replaced"' 20; then result cartridge-replaced ok
else result cartridge-replaced FAIL "no replaced event: $(grep events /tmp/msgs | tail -3)"; fi

# An I2C level sensor (register 0x00 of the chip at 0x40) falling step by step.
expect reservoir-1000 reservoir remainingQuantityInUnit 1000 20
i2cset -y 0 0x40 0x00 640 w
expect reservoir-640 reservoir remainingQuantityInUnit 640 20
i2cset -y 0 0x40 0x00 275 w
expect reservoir-275 reservoir remainingQuantityInUnit 275 20

# An ADS1115 (water level through a pressure sensor, 1 mV per mL): single-shot conversions,
# the OS bit read back as written (done), the conversion register set by the test.
expect water-1800 water remainingQuantityInUnit 1800 20
adc 1250
expect water-1250 water remainingQuantityInUnit 1250 20
# The ADS1115 stops answering (its address gone from the bus), then comes back: health goes to
# fault after three failed samples, back to ok after two good ones, and the level carries on.
expect_text water-healthy water health ok 20
echo 0x40,0x4b,0x36 > $CHIPS
expect_text water-fault water health fault 30
echo 0x40,0x48,0x36 > $CHIPS
expect_text water-recovered water health ok 30
adc 900
expect water-900 water remainingQuantityInUnit 900 20

# A MAX17048 fuel gauge: state of charge in its SOC register.
expect battery-80 battery remainingQuantityInUnit 80 20
gauge 35
expect battery-35 battery remainingQuantityInUnit 35 20

if kill -0 $DAEMON 2>/dev/null; then result daemon-alive ok; else result daemon-alive FAIL "$(tail -20 /tmp/daemon.log)"; fi
kill -TERM $DAEMON; wait $DAEMON; echo "daemon exit status $?"
[ "$fail" = 0 ] || { echo "--- daemon log"; tail -40 /tmp/daemon.log; echo "--- messages"; tail -20 /tmp/msgs | cut -c1-300; }
echo "EMULATOR DONE pass=$pass fail=$fail"
poweroff -f
