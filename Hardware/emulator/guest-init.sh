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
insmod /modules/configfs.ko && mount -t configfs configfs /sys/kernel/config
insmod /modules/gpio-sim.ko
insmod /modules/i2c-dev.ko
insmod /modules/i2c-stub.ko chip_addr=0x40
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
for n in 5 6 13 17 18; do mkdir $G/bank0/line$n; echo GPIO$n > $G/bank0/line$n/name; done
echo 1 > $G/live
SIM=$(ls -d /sys/devices/platform/gpio-sim.*/gpiochip* | head -1)
pull() { echo "$2" > "$SIM/sim_gpio$1/pull"; }
# The tank full (every float switch submerged), a cartridge in, the flow meter idle.
for n in 5 6 13 18; do pull $n pull-up; done
pull 17 pull-down
i2cset -y 0 0x40 0x00 1000 w

printf 'listener 1883 127.0.0.1\nallow_anonymous true\nuser root\npersistence false\n' > /tmp/mosquitto.conf
mosquitto -c /tmp/mosquitto.conf -d
mosquitto_sub -h 127.0.0.1 -i emu-test -t 'replenish/v1/emu/#' -v > /tmp/msgs 2>/tmp/sub.err &
replenishd run --config /etc/replenishd.yaml > /tmp/daemon.log 2>&1 &
DAEMON=$!

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
        | grep -o "\"$2\":[-0-9.e+]*" | tail -1 | cut -d: -f2
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

pulses() {  # count [microseconds between edges]: rising edges on GPIO17
    local i=0 p="$SIM/sim_gpio17/pull" gap=${2:-0}
    if [ "$gap" = 0 ]; then
        while [ $i -lt "$1" ]; do echo pull-up > "$p"; echo pull-down > "$p"; i=$((i + 1)); done
    else
        while [ $i -lt "$1" ]; do echo pull-up > "$p"; usleep "$gap"; echo pull-down > "$p"; usleep "$gap"; i=$((i + 1)); done
    fi
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
best=0
for gap in 2000 1000 500 250 0; do
    before=$(settled_flow)
    start=$(uptime_cs)
    pulses 500 $gap
    took=$(( $(uptime_cs) - start ))
    rate=$(( 500 * 100 / (took > 0 ? took : 1) ))
    counted=$(awk -v a="$(settled_flow)" -v b="$before" 'BEGIN { printf "%d", a - b }')
    echo "RATE 500 pulses, ${gap} us between edges: $rate pulses/s, counted $counted"
    [ "$counted" = 500 ] && [ "$rate" -gt "$best" ] && best=$rate
done
echo "RATE highest rate counted exactly: $best pulses/s"
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

if kill -0 $DAEMON 2>/dev/null; then result daemon-alive ok; else result daemon-alive FAIL "$(tail -20 /tmp/daemon.log)"; fi
kill -TERM $DAEMON; wait $DAEMON; echo "daemon exit status $?"
[ "$fail" = 0 ] || { echo "--- daemon log"; tail -40 /tmp/daemon.log; echo "--- messages"; tail -20 /tmp/msgs; }
echo "EMULATOR DONE pass=$pass fail=$fail"
poweroff -f
