#!/bin/sh
# The system test inside the appliance (run by systemtest.service after multi-user.target, its
# output on the serial console). Stage 1, on the first boot: apt installs the .deb as a maker
# would, `systemctl enable --now`, then the service is checked through systemctl, journalctl -o
# json, replenishd status and a subscriber on the guest's mosquitto: READY and STATUS, the devices
# opened as the service user, MESSAGE_IDs and priorities (broker lost and back, sensor fault and
# recovery, config rejected, loop stalled), a bad config, reload good and bad, kill -9, the
# watchdog (the state partition frozen), status for the service's group, the exposure score and
# libdispatch's thread-priority noise; then a reboot. Stage 2: active at boot with i2c-dev loaded
# by the package, seq carried on across the reboot, an idle minute's journal, purge.
# Prints `SYSTEM RESULT name ok|FAIL detail`, `SYSTEM METRIC name value` and, at the very end,
# `SYSTEM DONE pass=N fail=M`; Hardware/system/run.sh reads them from the console.
set -u
T=/var/lib/systemtest
CONF=/etc/replenishd/replenishd.yaml
BASE=replenish/v1/board
UNIT=replenishd.service
# JournalMessageID (Sources/ReplenishSystemd/JournalMessageID.swift)
ID_BROKER_LOST=7e84898a4fff4cb4ad7ce32d14371df6
ID_BROKER_BACK=e03b13d95cd94afc8e9db327ae106cec
ID_SENSOR_FAULT=fab85d59415949639a2f3bc3c056bf71
ID_SENSOR_RECOVERED=0abd409438354ae3b39b2645689df89a
ID_CONFIG_REJECTED=a43b30cbd6004aa9b701ff142522b2e1
ID_LOOP_STALLED=23a9e0cdde344ce7b653a46cea6f24e8

pass=0 fail=0
[ -f $T/counts ] && . $T/counts
result() {  # name ok|FAIL [detail]
    echo "SYSTEM RESULT $1 $2${3:+ $3}"
    if [ "$2" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
metric() { echo "SYSTEM METRIC $1 $2"; }
# check NAME DETAIL COMMAND...: ok when the command succeeds.
check() {
    local name=$1 detail=$2; shift 2
    if "$@"; then result "$name" ok; else result "$name" FAIL "$detail"; fi
}
prop() { systemctl show -p "$1" --value $UNIT; }
now() { date +%s; }
# wait_for SECONDS COMMAND...: the command polled every half second until it succeeds.
wait_for() {
    local end=$(( $(now) + $1 )); shift
    until "$@"; do
        [ "$(now)" -lt "$end" ] || return 1
        sleep 0.5
    done
}
running() { [ "$(prop ActiveState)" = active ] && [ "$(prop SubState)" = running ]; }
restarted_from() { running && [ "$(prop MainPID)" != "$1" ] && [ "$(prop MainPID)" != 0 ]; }
status_json() { replenishd status --config $CONF --json 2>/dev/null; }
# The journal entries with MESSAGE_ID $1 since the epoch second $2, as JSON lines.
entries() { journalctl -q -o json --no-pager MESSAGE_ID="$1" --since "@$2"; }
has_entry() { [ -n "$(entries "$1" "$2" | head -1)" ]; }
unit_says() { journalctl -q --no-pager -u $UNIT --since "@$2" | grep -q "$1"; }
# check_entry NAME ID SINCE PRIORITY FIELD: the first such entry has this priority and field.
check_entry() {
    local first
    first=$(entries "$2" "$3" | head -1)
    if [ -z "$first" ]; then result "$1" FAIL "no entry with MESSAGE_ID=$2"; return; fi
    if printf '%s\n' "$first" | jq -e --arg p "$4" --arg f "$5" '.PRIORITY == $p and has($f) and ._SYSTEMD_UNIT == "replenishd.service"' >/dev/null; then
        result "$1" ok "priority $4, $5=$(printf '%s\n' "$first" | jq -r --arg f "$5" '.[$f]' | head -c 60)"
    else
        result "$1" FAIL "$(printf '%s\n' "$first" | jq -c '{PRIORITY, MESSAGE, _SYSTEMD_UNIT}')"
    fi
}
levels_read() {  # both slots read, healthy, at the board's values
    status_json | jq -e '[.slots[] | {(.slot): .}] | add
        | .water.remaining > 1499 and .water.remaining < 1501 and .tank.remaining == 300
          and .water.health == "ok" and .tank.health == "ok"' >/dev/null
}
devices_open() {  # /dev/i2c-0 and the GPIO chip's lines held by the daemon, running as replenishd
    local pid fds
    pid=$(prop MainPID)
    fds=$(ls -l /proc/"$pid"/fd 2>/dev/null)
    [ "$(awk '/^Uid:/ {print $2}' /proc/"$pid"/status)" = "$(id -u replenishd)" ] \
        && echo "$fds" | grep -q '/dev/i2c-0' && echo "$fds" | grep -q 'gpiochip0\|gpio-line'
}
# The cloud: a persistent-session QoS 1 subscriber that keeps every message, across the reboot.
start_cloud() {
    mosquitto_sub -h 127.0.0.1 -c -i cloud -q 1 -t "$BASE/#" -F '%t %p' >> $T/cloud.log 2>> $T/cloud.err &
    echo $! > $T/cloud.pid
}
# Every seq the cloud received (the retained birth and will carry none).
seqs() { sed -n 's/^[^ ]* //p' $T/cloud.log | jq -R -r 'fromjson? | objects | .seq // empty' | sort -n | uniq; }
max_seq() { seqs | tail -1; }
seqs_contiguous() {  # every seq from 1 to the highest seen, none missing
    local n max
    max=$(max_seq); n=$(seqs | wc -l)
    [ -n "$max" ] && [ "$n" = "$max" ]
}
seen_above() { [ "$(max_seq)" -gt "$1" ] 2>/dev/null; }
report_now() { mosquitto_pub -h 127.0.0.1 -q 1 -t "$BASE/commands/reportNow" -m "{\"correlationId\": \"$1\"}"; }
outbox_empty() { [ "$(status_json | jq -r .outbox.messages)" = 0 ]; }
config_hash() { status_json | jq -r .configHash; }
file_hash() { replenishd check --file-only --config $CONF | sed -n 's/.*config \([0-9a-f]*\)).*/\1/p'; }
dump() {
    journalctl -q --no-pager -b -u $UNIT -n 40 | sed 's/^/SYSTEM LOG /'
}
finish_stage() {
    printf 'pass=%s\nfail=%s\n' $pass $fail > $T/counts
    [ "$fail" = 0 ] || dump
    sync
}

stage1() {
    echo "SYSTEM STAGE 1 at $(cut -d' ' -f1 /proc/uptime) s"
    grep -qw i2c /proc/devices && echo "SYSTEM NOTE i2c-dev was loaded before the package"
    start_cloud
    if apt-get install -y --no-install-recommends $T/replenishd_*.deb > $T/apt.log 2>&1; then
        result install ok
    else
        result install FAIL "$(tail -3 $T/apt.log | tr '\n' ' ')"
    fi
    check i2c-dev-loaded-by-package "no i2c major in /proc/devices after install" grep -qw i2c /proc/devices
    udevadm settle
    $T/adc.sh 1500
    cp $T/replenishd-system.yaml $CONF

    # Active once READY=1 came, with STATUS= shown.
    systemctl enable --now $UNIT > $T/enable.log 2>&1
    check active "$(prop ActiveState)/$(prop SubState) $(prop Result)" wait_for 60 running
    metric start_to_ready_ms $(( ($(prop ActiveEnterTimestampMonotonic) - $(prop ExecMainStartTimestampMonotonic)) / 1000 ))
    check status-text "no STATUS= from the daemon" wait_for 20 sh -c "[ -n \"\$(systemctl show -p StatusText --value $UNIT)\" ]"
    echo "SYSTEM NOTE StatusText: $(prop StatusText)"
    check devices-as-service-user "fds: $(ls -l /proc/$(prop MainPID)/fd 2>/dev/null | grep -c dev)" wait_for 30 devices_open
    check levels "$(status_json | jq -c '[.slots[] | {slot, remaining, health}]')" wait_for 30 levels_read
    check startup-report "no status report reached the broker" wait_for 30 seen_above 0

    # Broker lost and back.
    t=$(now)
    systemctl stop mosquitto
    wait_for 30 has_entry $ID_BROKER_LOST "$t"
    check_entry broker-lost $ID_BROKER_LOST "$t" 4 REASON
    systemctl start mosquitto
    wait_for 60 has_entry $ID_BROKER_BACK "$t"
    check_entry broker-back $ID_BROKER_BACK "$t" 5 CONNECTION

    # A sensor fault and its recovery: the ADS1115 leaves the bus and comes back.
    t=$(now)
    echo 0x49 > /sys/module/i2c_stub/parameters/chip_addr
    wait_for 30 has_entry $ID_SENSOR_FAULT "$t"
    check_entry sensor-fault $ID_SENSOR_FAULT "$t" 3 SLOT
    echo 0x48 > /sys/module/i2c_stub/parameters/chip_addr
    wait_for 30 has_entry $ID_SENSOR_RECOVERED "$t"
    check_entry sensor-recovered $ID_SENSOR_RECOVERED "$t" 5 SLOT

    # A bad config: refused with 78, our reason at err with its MESSAGE_ID, and no restart loop.
    t=$(now)
    restarts=$(prop NRestarts)
    sed 's/capacity: 2000/capacity: lots/' $T/replenishd-system.yaml > $CONF
    systemctl restart $UNIT > /dev/null 2>&1 && result bad-config-start-fails FAIL "systemctl restart returned 0" \
        || result bad-config-start-fails ok
    wait_for 20 sh -c "[ \"\$(systemctl show -p ActiveState --value $UNIT)\" = failed ]"
    # Two restart delays (RestartSec=5s) later it is still failed, never restarted.
    sleep 12
    check bad-config-no-restart-loop "$(prop ActiveState) NRestarts $(prop NRestarts) (was $restarts) status $(prop ExecMainStatus)" \
        sh -c "[ \"\$(systemctl show -p ActiveState --value $UNIT)\" = failed ] && [ \"\$(systemctl show -p NRestarts --value $UNIT)\" = $restarts ] && [ \"\$(systemctl show -p ExecMainStatus --value $UNIT)\" = 78 ]"
    check_entry config-rejected $ID_CONFIG_REJECTED "$t" 3 FILE
    check config-rejected-reason "$(entries $ID_CONFIG_REJECTED "$t" | jq -r .MESSAGE | head -1)" \
        sh -c "journalctl -q --no-pager -u $UNIT -p err --since @$t | grep -q 'replenishd.yaml:[0-9]*:[0-9]*: slots\\[1\\].capacity'"
    cp $T/replenishd-system.yaml $CONF
    systemctl reset-failed $UNIT
    systemctl start $UNIT
    check restart-after-fix "$(prop ActiveState)" wait_for 60 running

    # Reload: a good config runs without a restart; a bad one fails `systemctl reload` and the
    # running config carries on.
    pid=$(prop MainPID)
    sed 's/low_threshold: 10%/low_threshold: 20%/' $T/replenishd-system.yaml > $CONF
    want=$(file_hash)
    if systemctl reload $UNIT > $T/reload.log 2>&1; then
        check reload-good "pid $(prop MainPID) (was $pid), config $(config_hash) (want $want)" \
            sh -c "[ $(prop MainPID) = $pid ] && [ \"\$(replenishd status --config $CONF --json | jq -r .configHash)\" = $want ]"
    else
        result reload-good FAIL "systemctl reload: $(tail -2 $T/reload.log | tr '\n' ' ')"
    fi
    cp $CONF $T/good.yaml
    t=$(now)
    sed 's/capacity: 2000/capacity: lots/' $T/good.yaml > $CONF
    if systemctl reload $UNIT > $T/reload.log 2>&1; then
        result reload-bad FAIL "systemctl reload returned 0 for a refused config"
    else
        check reload-bad "pid $(prop MainPID) (was $pid), config $(config_hash) (want $want)" \
            sh -c "[ $(prop MainPID) = $pid ] && [ \"\$(replenishd status --config $T/good.yaml --json | jq -r .configHash)\" = $want ]"
    fi
    check reload-bad-journal "no err entry naming the file" sh -c "journalctl -q --no-pager -u $UNIT -p err --since @$t | grep -q 'replenishd.yaml:'"
    cp $T/good.yaml $CONF

    # kill -9: restarted, and reports carry on.
    pid=$(prop MainPID)
    kill -9 "$pid"
    check kill-9-restarts "$(prop ActiveState) pid $(prop MainPID)" wait_for 60 restarted_from "$pid"

    # status for people: root sees it; the service's group is told who can (the files are 0600).
    useradd -M -N -G replenishd technician > $T/useradd.log 2>&1 || echo "SYSTEM NOTE useradd: $(cat $T/useradd.log)"
    out=$(runuser -u technician -- replenishd status --config $CONF 2>&1); rc=$?
    check status-group-hint "exit $rc: $out" sh -c "[ $rc != 0 ] && printf '%s' \"\$0\" | grep -q 'run as root or as the service' " "$out"
    check status-service-user "$(runuser -u replenishd -- replenishd status --config $CONF 2>&1 | tail -1)" \
        runuser -u replenishd -- replenishd status --config $CONF > /dev/null 2>&1

    # The watchdog: the state partition frozen under a write, so the store loop really hangs. The
    # daemon says which loop stalled (critical, MESSAGE_ID) and withholds WATCHDOG=1; systemd kills
    # it and, once the partition thaws, restarts it.
    t=$(now)
    pid=$(prop MainPID)
    fsfreeze -f /var/lib/replenishd
    report_now frozen
    wait_for 150 has_entry $ID_LOOP_STALLED "$t"
    check_entry loop-stalled $ID_LOOP_STALLED "$t" 2 LOOPS
    check watchdog-fires "no watchdog timeout" wait_for 120 unit_says "Watchdog timeout" "$t"
    fsfreeze -u /var/lib/replenishd
    check watchdog-restarts "$(prop ActiveState) pid $(prop MainPID)" wait_for 90 restarted_from "$pid"

    # The exposure score as this systemd computes it, and no libdispatch noise in the journal.
    exposure=$(systemd-analyze security $UNIT --no-pager 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    metric exposure "${exposure:-unknown}"
    check exposure "exposure ${exposure:-unknown}" sh -c "[ -n '$exposure' ] && awk 'BEGIN { exit !($exposure <= 2.0) }'"
    noise=$(journalctl -q --no-pager -b | grep -c 'Failed to set thread priority')
    check no-thread-priority-noise "$noise lines: $(journalctl -q --no-pager -b | grep -m1 'Failed to set thread priority')" [ "$noise" = 0 ]

    # Everything delivered, then a reboot.
    report_now before-reboot
    wait_for 60 outbox_empty
    wait_for 30 sh -c "[ \"\$(seqs | tail -1)\" = \"\$(replenishd status --config $CONF --json | jq -r .lastSeq)\" ]" 2>/dev/null
    last=$(status_json | jq -r .lastSeq)
    check seq-before-reboot "seqs: $(seqs | tr '\n' ' ')" seqs_contiguous
    echo "$last" > $T/seq1
    echo 2 > $T/stage
    kill "$(cat $T/cloud.pid)" 2>/dev/null
    finish_stage
    echo "SYSTEM STAGE 1 done: pass=$pass fail=$fail, last seq $last; rebooting"
    systemctl reboot
}

stage2() {
    echo "SYSTEM STAGE 2 at $(cut -d' ' -f1 /proc/uptime) s"
    check active-at-boot "$(prop ActiveState)/$(prop SubState)" wait_for 120 running
    metric boot_to_active_ms $(( $(prop ActiveEnterTimestampMonotonic) / 1000 ))
    metric start_to_ready_ms_at_boot $(( ($(prop ActiveEnterTimestampMonotonic) - $(prop ExecMainStartTimestampMonotonic)) / 1000 ))
    echo "SYSTEM NOTE $(systemd-analyze time 2>/dev/null | head -1)"
    check i2c-dev-at-boot "no i2c major at boot" grep -qw i2c /proc/devices
    check no-device-policy-denial "$(journalctl -q --no-pager -b -u $UNIT | grep -m1 -i 'device policy')" \
        sh -c "! journalctl -q --no-pager -b -u $UNIT | grep -qi 'device policy'"
    check devices-at-boot "fds: $(ls -l /proc/$(prop MainPID)/fd 2>/dev/null | grep -c dev)" wait_for 30 devices_open
    check levels-at-boot "$(status_json | jq -c '[.slots[] | {slot, remaining, health}]')" wait_for 30 levels_read

    # seq carries on: the queued messages and the new start's report, none missing or repeated.
    start_cloud
    seq1=$(cat $T/seq1)
    check seq-continues "max $(max_seq), was $seq1" wait_for 60 seen_above "$seq1"
    wait_for 30 seqs_contiguous
    check seq-contiguous "seqs: $(seqs | tr '\n' ' ')" seqs_contiguous

    # An idle minute's journal: everything, and replenishd's own lines.
    sleep 5
    t0=$(now); sleep 60; t1=$(now)
    all=$(journalctl -q --no-pager --since "@$t0" --until "@$t1" | wc -l)
    ours=$(journalctl -q --no-pager -u $UNIT --since "@$t0" --until "@$t1" | wc -l)
    metric idle_minute_journal_lines "$all"
    metric idle_minute_replenishd_lines "$ours"
    journalctl -q --no-pager --since "@$t0" --until "@$t1" | sed 's/^/SYSTEM IDLE /'
    check idle-minute-quiet "$ours lines from replenishd" [ "$ours" -le 1 ]

    # purge: the service stopped and gone, its config and state removed.
    kill "$(cat $T/cloud.pid)" 2>/dev/null
    if apt-get purge -y replenishd > $T/purge.log 2>&1; then result purge ok; else result purge FAIL "$(tail -3 $T/purge.log | tr '\n' ' ')"; fi
    check purge-clean "$(pgrep -a replenishd) $(ls -A /etc/replenishd /var/lib/replenishd 2>&1 | tr '\n' ' ')" \
        sh -c "! pgrep -x replenishd >/dev/null && [ ! -e /lib/systemd/system/replenishd.service ] && [ ! -e /etc/replenishd ] && [ -z \"\$(ls -A /var/lib/replenishd 2>/dev/null | grep -v lost+found)\" ]"
    finish_stage
    echo "SYSTEM DONE pass=$pass fail=$fail"
    systemctl poweroff
}

# `run.sh --bench N` (make bench): installed and started once, then N reboots, each timed.
bench() {
    local boots n
    boots=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^systemtest.boots=//p')
    n=$(cat $T/boots 2>/dev/null || echo 0)
    if [ "$n" = 0 ]; then
        apt-get install -y --no-install-recommends $T/replenishd_*.deb > $T/apt.log 2>&1 || result install FAIL
        udevadm settle
        $T/adc.sh 1500
        cp $T/replenishd-system.yaml $CONF
        systemctl enable --now $UNIT > /dev/null 2>&1
        check active "$(prop ActiveState)" wait_for 60 running
        metric start_to_ready_ms_first $(( ($(prop ActiveEnterTimestampMonotonic) - $(prop ExecMainStartTimestampMonotonic)) / 1000 ))
    else
        check active-at-boot "$(prop ActiveState)" wait_for 120 running
        metric boot_to_active_ms $(( $(prop ActiveEnterTimestampMonotonic) / 1000 ))
        metric start_to_ready_ms $(( ($(prop ActiveEnterTimestampMonotonic) - $(prop ExecMainStartTimestampMonotonic)) / 1000 ))
        metric kernel_ms $(( $(systemctl show -p UserspaceTimestampMonotonic --value) / 1000 ))
    fi
    echo $((n + 1)) > $T/boots
    finish_stage
    if [ "$n" -lt "${boots:-3}" ]; then
        systemctl reboot
    else
        echo "SYSTEM DONE pass=$pass fail=$fail"
        systemctl poweroff
    fi
}

if grep -qw systemtest.mode=bench /proc/cmdline; then
    bench
    exit 0
fi
case "$(cat $T/stage 2>/dev/null || echo 1)" in
    1) stage1 ;;
    2) stage2 ;;
    *) echo "SYSTEM DONE already"; systemctl poweroff ;;
esac
