#!/usr/bin/env python3
"""`make fleet`: a fleet of replenishd processes (simulated sources, distinct device ids, a state
directory each) against one mosquitto; the broker is restarted mid-run. Measures how the
reconnections spread over time (from the broker's own connection log) and checks that every
report of every device arrives (a persistent-session subscriber at QoS 1 sees every seq 1..N per
device, or the seq still waits in that device's outbox). Prints a histogram and a summary and
writes Benchmarks/results/fleet.md and fleet.json. It reports; it does not fail on time.

Environment:
  FLEET_SIZE            devices (default 200)
  FLEET_TIME_SCALE      simulated seconds per real second (default 60)
  FLEET_EVERY           report period, simulated (default 5m: every 5 s of real time at 60x)
  FLEET_RECONNECT       reconnect_min,reconnect_max (default 500ms,10s)
  FLEET_RUN_SECONDS     steady running before the broker restart (default 30)
  FLEET_DOWN_SECONDS    how long the broker stays down (default 5)
  FLEET_AFTER_SECONDS   running after every device is back (default 20)
  FLEET_RESULTS         where to write (default Benchmarks/results/fleet)
  FLEET_BINARY          the replenishd to run (default .build/bench/replenishd-static, else .build/release)
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (BUILD_DIR, ROOT, Broker, load_average, log, machine_info, percentile, proc_status,
                    profile_config, release_binary, stop, wait_until, write)

SIZE = int(os.environ.get("FLEET_SIZE", "200"))
TIME_SCALE = os.environ.get("FLEET_TIME_SCALE", "60")
EVERY = os.environ.get("FLEET_EVERY", "5m")
RECONNECT = tuple(os.environ.get("FLEET_RECONNECT", "500ms,10s").split(","))
RUN_SECONDS = float(os.environ.get("FLEET_RUN_SECONDS", "30"))
DOWN_SECONDS = float(os.environ.get("FLEET_DOWN_SECONDS", "5"))
AFTER_SECONDS = float(os.environ.get("FLEET_AFTER_SECONDS", "20"))
RESULTS = os.environ.get("FLEET_RESULTS", os.path.join(ROOT, "Benchmarks", "results", "fleet"))
# Budget per device for the memory check: measured RSS is ~30 MiB, most of it the binary's
# shared file pages; what each process adds of its own (Pss) is far less.
PER_DEVICE_MIB = 40


def binary():
    return release_binary(os.environ.get("FLEET_BINARY"), os.path.join(BUILD_DIR, "replenishd-static"))


def mem_available_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return 0


def connections(logfile, prefix):
    """(unix second, client id) of every 'New client connected ... as ID' line for our devices."""
    out = []
    with open(logfile, errors="replace") as f:
        for line in f:
            if "New client connected" not in line:
                continue
            stamp, _, rest = line.partition(": ")
            client = rest.split(" as ", 1)[1].split(" ", 1)[0] if " as " in rest else ""
            if client.startswith(prefix):
                out.append((int(stamp), client))
    return out


def main():
    size = SIZE
    available = mem_available_mib()
    if available < size * PER_DEVICE_MIB + 1024:
        size = max(1, int((available - 1024) // PER_DEVICE_MIB))
        log(f"only {available:.0f} MiB available: fleet scaled down to {size} devices")
    exe = binary()
    info = machine_info()
    log(f"fleet of {size}, time scale {TIME_SCALE}, reports every {EVERY} simulated, reconnect {RECONNECT}; "
        f"load {info['load_average']}; {available:.0f} MiB available")
    tmp = tempfile.mkdtemp(prefix="replenishd-fleet-")
    broker = Broker(tmp, persistence=True).start()
    sub_out = os.path.join(tmp, "audit.txt")
    # The auditor: persistent session (-c, fixed id), QoS 1, reconnects by itself after the restart.
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-c", "-i", "fleet-audit",
                            "-q", "1", "-t", "replenish/v1/+/status", "-t", "replenish/v1/+/events",
                            "-t", "replenish/v1/+/replies", "-F", "%t %p"], stdout=open(sub_out, "w"),
                           stderr=subprocess.DEVNULL)
    time.sleep(1)
    devices = []
    started = time.time()
    for i in range(1, size + 1):
        device = f"fleet-{i:04d}"
        d = os.path.join(tmp, device)
        os.makedirs(d)
        cfg = write(os.path.join(d, "replenishd.yaml"),
                    profile_config(device, broker.url, os.path.join(d, "state.db"), every=EVERY,
                                   reconnect=RECONNECT, flush_interval="1h"))
        p = subprocess.Popen([exe, "run", "--config", cfg, "--simulate", "--time-scale", TIME_SCALE],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "daemon.log"), "w"))
        devices.append((device, d, p))
    prefix = "fleet-0"
    ok = wait_until("every device connected",
                    lambda: len({c for _, c in connections(broker.logfile, prefix)}) >= size, 300)
    all_connected = time.time()
    log(f"{size} devices started; all connected after {all_connected - started:.1f} s" if ok else "not all connected")
    time.sleep(RUN_SECONDS)
    rss = [proc_status(p.pid) for _, _, p in devices if p.poll() is None]
    load_before_restart = load_average()

    log(f"restarting the broker ({DOWN_SECONDS:.0f} s down)")
    before_restart = len(connections(broker.logfile, prefix))
    broker.stop()
    time.sleep(DOWN_SECONDS)
    broker.start()
    up = time.time()
    ok = wait_until("every device reconnected",
                    lambda: len({c for _, c in connections(broker.logfile, prefix)[before_restart:]}) >= size, 300)
    back = time.time()
    log(f"all reconnected {back - up:.1f} s after the broker came back" if ok else "not all reconnected")
    time.sleep(AFTER_SECONDS)

    log("stopping the fleet")
    for _, _, p in devices:
        p.terminate()
    for _, _, p in devices:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    time.sleep(3)  # the auditor takes the last messages
    stop(sub)
    broker.stop()

    # --- reconnections --------------------------------------------------------------------------
    reconnects = connections(broker.logfile, prefix)[before_restart:]
    first_per_device = {}
    for t, c in reconnects:
        first_per_device.setdefault(c, t)
    times = sorted(first_per_device.values())
    up_second = int(up)
    histogram = collections.Counter(t - up_second for t in times)
    span = (times[-1] - times[0]) if times else 0
    rates = [histogram.get(s, 0) for s in range(times[0] - up_second, times[-1] - up_second + 1)] if times else []

    # --- delivery -------------------------------------------------------------------------------
    seen = collections.defaultdict(set)
    received = 0
    with open(sub_out, errors="replace") as f:
        for line in f:
            topic, _, payload = line.partition(" ")
            try:
                msg = json.loads(payload)
            except ValueError:
                continue
            received += 1
            seen[msg.get("deviceId")].add(int(msg["seq"]))
    produced = delivered = waiting = 0
    missing = {}
    for device, d, p in devices:
        db = os.path.join(d, "state.db")
        r = subprocess.run(["sqlite3", db, "SELECT last_seq FROM seq_counter; SELECT seq FROM outbox ORDER BY seq;"],
                           capture_output=True, text=True)
        lines = [int(x) for x in r.stdout.split()]
        last, in_outbox = (lines[0], set(lines[1:])) if lines else (0, set())
        got = seen.get(device, set())
        produced += last
        delivered += len(got & set(range(1, last + 1)))
        waiting += len(in_outbox - got)
        lost = sorted(set(range(1, last + 1)) - got - in_outbox)
        if lost:
            missing[device] = lost
    exits = collections.Counter(p.returncode for _, _, p in devices)

    result = {
        "machine": info, "devices": size, "time_scale": TIME_SCALE, "every": EVERY, "reconnect_config": RECONNECT,
        "seconds": {"run": RUN_SECONDS, "down": DOWN_SECONDS, "after": AFTER_SECONDS,
                    "start_to_all_connected": all_connected - started, "up_to_all_reconnected": back - up},
        "load_before_restart": load_before_restart, "load_at_end": load_average(),
        "rss_mib": {"mean": sum(x["VmRSS"] for x in rss) / len(rss) / 1024 if rss else None,
                    "anon_mean": sum(x["RssAnon"] for x in rss) / len(rss) / 1024 if rss else None,
                    "pss_total": sum(x.get("Pss", 0) for x in rss) / 1024 if rss else None},
        "reconnect": {"devices_reconnected": len(times), "first_s": (times[0] - up_second) if times else None,
                      "last_s": (times[-1] - up_second) if times else None, "spread_s": span,
                      "p50_per_s": percentile(rates, 50), "p90_per_s": percentile(rates, 90),
                      "max_per_s": max(rates) if rates else 0,
                      "histogram": {str(k): v for k, v in sorted(histogram.items())}},
        "delivery": {"produced": produced, "delivered": delivered, "still_in_outbox": waiting,
                     "missing": sum(len(v) for v in missing.values()), "missing_by_device": missing,
                     "messages_received": received, "duplicates": received - delivered},
        "exit_codes": {str(k): v for k, v in exits.items()},
    }
    text = render(result)
    print(text)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS + ".md", "w") as f:
        f.write(text + "\n")
    with open(RESULTS + ".json", "w") as f:
        json.dump(result, f, indent=1)
    print(f"\nwritten: {RESULTS}.md, {RESULTS}.json")
    if os.environ.get("FLEET_KEEP") != "1":
        shutil.rmtree(tmp, ignore_errors=True)


def render(r):
    rc, dl = r["reconnect"], r["delivery"]
    lines = ["# replenishd fleet run", "",
             f"{r['devices']} devices (coffee-machine profile, `--simulate --time-scale {r['time_scale']}`, a status "
             f"report every {r['every']} simulated, reconnect_min/max {r['reconnect_config'][0]}/{r['reconnect_config'][1]}) against "
             f"one mosquitto {r['machine'].get('mosquitto', '')} with persistence; broker restarted after "
             f"{r['seconds']['run']:.0f} s, down {r['seconds']['down']:.0f} s. Machine: {r['machine']['cores']} cores, "
             f"load before the restart {r['load_before_restart']}, at the end {r['load_at_end']}; commit "
             f"{r['machine'].get('commit', '?')}.", "",
             "Reconnections per second after the broker came back (from its `New client connected` log lines, "
             "first reconnection of each device):", "", "```", " second  devices"]
    hist = {int(k): v for k, v in rc["histogram"].items()}
    if hist:
        top = max(hist.values())
        for s in range(min(hist), max(hist) + 1):
            n = hist.get(s, 0)
            lines.append(f" {s:>5}s  {n:>5}  " + "#" * max(1 if n else 0, round(40 * n / top)))
    lines += ["```", "",
              "| summary | value |", "|---|---|",
              f"| devices | {r['devices']} (exit codes: {r['exit_codes']}) |",
              f"| start → all connected | {r['seconds']['start_to_all_connected']:.1f} s |",
              f"| memory per device (steady) | RSS {fmt(r['rss_mib']['mean'])} MiB, RssAnon "
              f"{fmt(r['rss_mib']['anon_mean'])} MiB; Pss of the whole fleet {fmt(r['rss_mib']['pss_total'])} MiB |",
              f"| reports produced (sum of last seq) | {dl['produced']} |",
              f"| delivered (distinct seqs seen by the auditor) | {dl['delivered']} |",
              f"| still in an outbox at stop (not lost) | {dl['still_in_outbox']} |",
              f"| missing (neither delivered nor in an outbox) | {dl['missing']} |",
              f"| duplicates received (redelivered, dropped by messageId) | {dl['duplicates']} |",
              f"| devices reconnected | {rc['devices_reconnected']} of {r['devices']} |",
              f"| first → last reconnection | {rc['first_s']} s → {rc['last_s']} s after the broker came back "
              f"(spread {rc['spread_s']} s; all back in {r['seconds']['up_to_all_reconnected']:.1f} s) |",
              f"| reconnections per second over that spread | p50 {fmt(rc['p50_per_s'])}, p90 {fmt(rc['p90_per_s'])}, "
              f"max {rc['max_per_s']} |"]
    return "\n".join(lines)


def fmt(x):
    return "n/a" if x is None else f"{x:.1f}"


if __name__ == "__main__":
    main()
