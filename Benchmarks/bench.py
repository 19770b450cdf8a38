#!/usr/bin/env python3
"""`make bench`: replenishd's footprint, idle CPU, backlog drain, queueing rate and start-up time,
each measured side by side with its reference in the same run. Prints a table and writes
Benchmarks/results/latest.md and latest.json. It prints figures; it never fails on time.

Environment:
  BENCH_IDLE_SECONDS     idle CPU window (default 60)
  BENCH_DRAIN_REPORTS    backlog size for the drain (default 10000)
  BENCH_AWS_REPORTS      backlog size for the drain with AWS IoT Core's settings (default 1000, at 100/s)
  BENCH_QUEUE_REPORTS    reports per queueing variant (default 2000)
  BENCH_STARTUP_RUNS     start-up runs on an existing database (default 20)
  BENCH_RESULTS          where to write (default Benchmarks/results/latest)
  BENCH_SKIP_BUILD=1     use the binaries already in .build/bench
"""
import json
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (BUILD_DIR, free_port, MiB, ROOT, sql, Broker, NotifySocket, thread_times, thread_delta, cpu_ticks, CLK_TCK, load_average,
                    log, machine_info, median, percentile, proc_status, profile_config, stop, write)

IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "60"))
DRAIN_REPORTS = int(os.environ.get("BENCH_DRAIN_REPORTS", "10000"))
AWS_REPORTS = int(os.environ.get("BENCH_AWS_REPORTS", "1000"))
# A mosquitto with AWS IoT Core's limits (128 KiB packets, keepalive at most 1200 s) and the
# daemon with `mqtt.broker: aws-iot`, whose max_publish_rate default (90/s) keeps under AWS's 100/s.
AWS_BROKER = "max_packet_size 131072\nmax_keepalive 1200\n"
AWS_MQTT = {"broker": "aws-iot"}
# The same at AWS's limit itself (`max_publish_rate: 100`, the most aws-iot allows).
AWS_MQTT_100 = {"broker": "aws-iot", "max_publish_rate": 100}
QUEUE_REPORTS = int(os.environ.get("BENCH_QUEUE_REPORTS", "2000"))
STARTUP_RUNS = int(os.environ.get("BENCH_STARTUP_RUNS", "20"))
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(ROOT, "Benchmarks", "results", "latest"))
VENV = os.path.join(BUILD_DIR, "mqtt-io-venv")
MQTT_IO_VERSION = "2.7.0"
STATIC = os.path.join(BUILD_DIR, "replenishd-static")
DYNAMIC = os.path.join(BUILD_DIR, "replenishd-dynamic")
QUEUEING = os.path.join(BUILD_DIR, "queueing")
DEVICE = "cm-bench"


# --- preparation --------------------------------------------------------------------------------

def build():
    os.makedirs(BUILD_DIR, exist_ok=True)
    if os.environ.get("BENCH_SKIP_BUILD") == "1" and all(os.path.exists(p) for p in (STATIC, DYNAMIC, QUEUEING)):
        return
    # The static build where `make release` puts it; the dynamic one in a scratch path of its own, so
    # neither rebuild undoes the other.
    # The static one with `make release`'s flags (function sections for the linker's ordering).
    release_flags = subprocess.run(["make", "-s", "--no-print-directory", "release-flags"], cwd=ROOT, check=True,
                                   capture_output=True, text=True).stdout.split()
    for flags, dest in ((["-c", "release", "--scratch-path", os.path.join(BUILD_DIR, "dynamic")], DYNAMIC),
                        (release_flags, STATIC)):
        log("swift build", *flags)
        subprocess.run(["swift", "build", *flags], cwd=ROOT, check=True, stdout=sys.stderr)
        bin_path = subprocess.run(["swift", "build", *flags, "--show-bin-path"], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout.strip()
        shutil.copy2(os.path.join(bin_path, "replenishd"), dest + ".new")
        os.replace(dest + ".new", dest)  # never write into a binary that may be running
    subprocess.run(["cc", "-O2", "-Wall", "-o", QUEUEING, os.path.join(ROOT, "Benchmarks", "queueing.c"), "-lsqlite3"],
                   check=True)


def mqtt_io_python():
    python = os.path.join(VENV, "bin", "python")
    ok = os.path.exists(python) and subprocess.run(
        [python, "-c", f"import importlib.metadata as m; assert m.version('mqtt-io') == '{MQTT_IO_VERSION}'"],
        capture_output=True).returncode == 0
    if not ok:
        log(f"installing mqtt-io=={MQTT_IO_VERSION} into {VENV}")
        # The system's python3 (Debian's python3-venv), not whatever pyenv shims first.
        base = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        subprocess.run([base, "-m", "venv", "--clear", VENV], check=True)
        subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q", f"mqtt-io=={MQTT_IO_VERSION}"], check=True)
    return python


def mqtt_io_config(port, client_id):
    # mqtt-io's `mock` sensor module (shipped in the package for its own tests) needs no hardware;
    # one input per coffee-machine slot, at the profile's sample intervals (5m, 5m, 15m, 15m).
    inputs = "".join(f"  - name: {name}\n    module: mock\n    interval: {interval}\n"
                     for name, interval in (("water", 300), ("beans", 300), ("water_filter", 900), ("descaler", 900)))
    return (f"mqtt:\n  host: 127.0.0.1\n  port: {port}\n  client_id: {client_id}\n  topic_prefix: mqtt-io/{client_id}\n"
            f"sensor_modules:\n  - name: mock\n    module: mock\nsensor_inputs:\n{inputs}")


def binary_sizes(tmp):
    out = {}
    for name, path in (("static", STATIC), ("dynamic", DYNAMIC)):
        stripped = os.path.join(tmp, f"stripped-{name}")
        subprocess.run(["strip", "-o", stripped, path], check=True)
        out[name] = {"bytes": os.path.getsize(path), "stripped_bytes": os.path.getsize(stripped)}
    deps = subprocess.run(["ldd", DYNAMIC], capture_output=True, text=True).stdout
    swift_libs = [l.split()[2] for l in deps.splitlines() if "=>" in l and "/swift/" in l and len(l.split()) > 2]
    out["dynamic"]["swift_runtime_bytes"] = sum(os.path.getsize(p) for p in swift_libs if os.path.exists(p))
    out["dynamic"]["swift_runtime_libs"] = len(swift_libs)
    mosquitto_sub = shutil.which("mosquitto_sub")
    out["mosquitto_sub"] = {"bytes": os.path.getsize(mosquitto_sub)}
    # The package as a maker ships it: dpkg's Installed-Size (KiB).
    subprocess.run(["make", "--no-print-directory", "deb"], cwd=ROOT, check=True, capture_output=True)
    debs = sorted(glob.glob(os.path.join(ROOT, ".build", "deb", "replenishd_*.deb")), key=os.path.getmtime)
    if debs:
        field = subprocess.run(["dpkg-deb", "-f", debs[-1], "Installed-Size"], capture_output=True, text=True).stdout
        out["deb"] = {"installed_kib": int(field.strip() or 0), "bytes": os.path.getsize(debs[-1])}
    return out


# --- 1 and 2: footprint and idle CPU ------------------------------------------------------------

def footprint_and_idle(tmp, broker):
    python = mqtt_io_python()
    procs = {}
    logs = []

    def spawn(name, argv, env=None, shell=False):
        f = open(os.path.join(tmp, f"{name}.log"), "w")
        logs.append(f)
        procs[name] = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, env=env, shell=shell)

    notify = NotifySocket(tmp)
    for name, binary in (("replenishd", STATIC), ("replenishd-dynamic", DYNAMIC), ("replenishd-systemd", STATIC)):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        cfg = write(os.path.join(d, "replenishd.yaml"),
                    profile_config(f"{DEVICE}-{name}", broker.url, os.path.join(d, "state.db")))
        if name == "replenishd-systemd":
            # As under the unit: NOTIFY_SOCKET, and WatchdogSec=60s (WATCHDOG_PID must be its own pid).
            env = dict(os.environ, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="60000000")
            spawn(name, f'WATCHDOG_PID=$$ exec {binary} run --config {cfg} --simulate', env=env, shell=True)
        else:
            env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
            spawn(name, [binary, "run", "--config", cfg, "--simulate"], env=env)
    spawn("mosquitto_sub", ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-i", "bench-mosquitto-sub",
                            "-q", "1", "-t", "bench/idle/#"])
    cfg = write(os.path.join(tmp, "mqtt-io.yml"), mqtt_io_config(broker.port, "bench-mqtt-io"))
    spawn("mqtt-io", [python, "-m", "mqtt_io", cfg])
    try:
        names = list(procs)
        # Connected and settled: every client id in the broker's log, then a few quiet seconds.
        ids = {f"{DEVICE}-replenishd", f"{DEVICE}-replenishd-dynamic", f"{DEVICE}-replenishd-systemd",
               "bench-mosquitto-sub", "bench-mqtt-io"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(broker.logfile) as f:
                text = f.read()
            missing = [i for i in ids if f" as {i} " not in text]
            if not missing:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"not connected after 30 s: {missing}")
        for name, p in procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited early; see {tmp}/{name}.log")
        time.sleep(5)
        before = {n: (cpu_ticks(procs[n].pid), thread_times(procs[n].pid)) for n in names}
        rss_before = {n: proc_status(procs[n].pid) for n in names}
        t0 = time.monotonic()
        log(f"idle window: {IDLE_SECONDS:.0f} s, {len(names)} processes side by side")
        time.sleep(IDLE_SECONDS)
        elapsed = time.monotonic() - t0
        after = {n: (cpu_ticks(procs[n].pid), thread_times(procs[n].pid)) for n in names}
        rss_after = {n: proc_status(procs[n].pid) for n in names}
        results = {}
        for n in names:
            ticks = after[n][0] - before[n][0]
            ns, switches = thread_delta(before[n][1], after[n][1])
            results[n] = {
                "pid": procs[n].pid,
                "status_start": rss_before[n],
                "status_end": rss_after[n],
                "idle_seconds": elapsed,
                "cpu_ticks": ticks,
                "cpu_percent_ticks": 100 * ticks / CLK_TCK / elapsed,
                "cpu_ns_schedstat": ns,
                "cpu_percent_schedstat": 100 * ns / 1e9 / elapsed,
                "wakeups_per_second": switches / elapsed,
                "threads": len(after[n][1]),
            }
    finally:
        for p in procs.values():
            stop(p)
        for f in logs:
            f.close()
        notify.close()
    return results


# --- 3: backlog drain --------------------------------------------------------------------------

PREFILL_SQL = """
BEGIN IMMEDIATE;
DELETE FROM agent_value WHERE key = 'outbox.evicted';
CREATE TEMP TABLE src AS
    SELECT row_number() OVER (ORDER BY seq) - 1 AS k, seq, topic, kind, CAST(payload AS TEXT) AS p, created_at
    FROM outbox WHERE kind IN ('status', 'event');
CREATE TEMP TABLE base AS SELECT last_seq AS last, (SELECT count(*) FROM src) AS n FROM seq_counter WHERE id = 1;
DELETE FROM outbox;
WITH RECURSIVE i(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM i WHERE i < {count})
INSERT INTO outbox (seq, topic, kind, payload, created_at)
SELECT base.last + i.i, src.topic, src.kind,
       CAST(replace(replace(src.p, '"seq":' || src.seq || ',', '"seq":' || (base.last + i.i) || ','),
                    '"messageId":"{device}-' || src.seq || '"', '"messageId":"{device}-' || (base.last + i.i) || '"')
            AS BLOB),
       src.created_at
FROM i, base JOIN src ON src.k = (i.i - 1) % base.n;
UPDATE seq_counter SET last_seq = last_seq + {count} WHERE id = 1;
COMMIT;
"""



def fill_with_daemon(tmp, seconds_max=20, reports=QUEUE_REPORTS):
    """The daemon itself queueing reports as fast as it can (broker down, report every simulated
    second at --time-scale 2000), with the profile's default outbox bound (4 MiB). Returns the
    daemon's end-to-end queueing figures and the database (real reports, for the drain's backlog)."""
    d = os.path.join(tmp, "fill")
    os.makedirs(d)
    db = os.path.join(d, "state.db")
    closed = free_closed_port()
    cfg = write(os.path.join(d, "replenishd.yaml"),
                profile_config(DEVICE, f"mqtt://127.0.0.1:{closed}", db, every="1s", on_start=False,
                               reconnect=("5s", "5s")))
    f = open(os.path.join(d, "daemon.log"), "w")
    p = subprocess.Popen([STATIC, "run", "--config", cfg, "--simulate", "--time-scale", "2000"], stdout=f,
                         stderr=subprocess.STDOUT)
    samples = []  # (monotonic, last_seq)
    start = time.monotonic()
    while time.monotonic() - start < seconds_max + 60:
        time.sleep(0.1)
        try:
            last = int(sql(db, "SELECT last_seq FROM seq_counter") or 0)
        except (subprocess.CalledProcessError, ValueError):
            continue
        samples.append((time.monotonic(), last))
        if last >= reports + 1:
            break
    # Its scheduler asks for reports faster than they commit; the queued requests would take long
    # to work off on SIGTERM, and nothing committed is lost to SIGKILL.
    p.kill()
    p.wait()
    f.close()

    def crossing(n):
        return next((t for t, s in samples if s >= n), None)

    t1 = crossing(1)
    marks = [(n, crossing(n)) for n in range(1, reports + 2, 1000)]
    per_1000 = [b[1] - a[1] for a, b in zip(marks, marks[1:]) if a[1] and b[1]]
    last_t, last_seq = samples[-1]
    return db, {
        "reports": last_seq - 1,
        "seconds": last_t - t1 if t1 else None,
        "rate": (last_seq - 1) / (last_t - t1) if t1 and last_t > t1 else None,
        "per_1000_seconds": per_1000,
        "outbox_rows_at_end": int(sql(db, "SELECT count(*) FROM outbox")),
        "note": "sampled every 0.1 s from seq_counter with the sqlite3 CLI; resolution 0.1 s",
    }


def free_closed_port():
    return free_port()  # nothing listens there once the probe socket is closed


def prefilled(template_db, db, count):
    """A copy of the template database with `count` reports in its outbox."""
    shutil.copy2(template_db, db)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(template_db + suffix):
            shutil.copy2(template_db + suffix, db + suffix)
    subprocess.run(["sqlite3", db], input=PREFILL_SQL.format(count=count, device=DEVICE), text=True, check=True)
    rows = int(sql(db, "SELECT count(*) FROM outbox"))
    assert rows == count, rows
    return db


def drain(tmp, template_db):
    d = os.path.join(tmp, "drain")
    os.makedirs(d)
    db = prefilled(template_db, os.path.join(d, "state.db"), DRAIN_REPORTS)
    payloads = os.path.join(d, "payloads.txt")
    with open(payloads, "w") as f:
        subprocess.run(["sqlite3", db, "SELECT CAST(payload AS TEXT) FROM outbox ORDER BY seq"], stdout=f, check=True)
    payload_bytes = int(sql(db, "SELECT sum(length(payload)) FROM outbox"))
    last_prefilled = int(sql(db, "SELECT last_seq FROM seq_counter"))
    base = f"replenish/v1/{DEVICE}"
    results = {"reports": DRAIN_REPORTS, "payload_bytes_total": payload_bytes,
               "payload_bytes_mean": payload_bytes / DRAIN_REPORTS}

    for name in ("mosquitto_pub", "replenishd", "replenishd-aws", "replenishd-aws-100"):
        daemon = name.startswith("replenishd")
        aws = name.startswith("replenishd-aws")
        count = AWS_REPORTS if aws else DRAIN_REPORTS
        if aws:
            db = prefilled(template_db, os.path.join(d, f"state-{name}.db"), count)
            last_prefilled = int(sql(db, "SELECT last_seq FROM seq_counter"))
        broker = Broker(d, persistence=False, extra=AWS_BROKER if aws else "").start()
        out = os.path.join(d, f"sub-{name}.txt")
        topics = ["-t", f"{base}/status", "-t", f"{base}/events"] if daemon else ["-t", f"bench/{name}"]
        with open(out, "w") as f:
            sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-i",
                                    f"drain-sub-{name}", "-C", str(count), "-F", "%U", *topics], stdout=f)
            time.sleep(1.0)  # subscribed
            if daemon:
                cfg = write(os.path.join(d, f"{name}.yaml"),
                            profile_config(DEVICE, broker.url, db, on_start=False, outbox_limit="64MiB",
                                           mqtt_extra=(AWS_MQTT_100 if name.endswith("-100") else AWS_MQTT) if aws else None))
                launched = time.time()
                pub = subprocess.Popen([STATIC, "run", "--config", cfg, "--simulate"],
                                       stdout=open(os.path.join(d, f"{name}.log"), "w"), stderr=subprocess.STDOUT)
            else:
                launched = time.time()
                pub = subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-M",
                                        "32", "-t", f"bench/{name}", "-l"], stdin=open(payloads))
            try:
                sub.wait(timeout=600)
            except subprocess.TimeoutExpired:
                stop(sub)
        empty_at = None
        if daemon:
            # Every prefilled row (seq <= last_prefilled) acknowledged and deleted.
            while empty_at is None and time.time() - launched < 600:
                if int(sql(db, f"SELECT count(*) FROM outbox WHERE seq <= {last_prefilled}")) == 0:
                    empty_at = time.time()
                else:
                    time.sleep(0.05)
            stop(pub)
        else:
            pub.wait(timeout=600)
        broker.stop()
        with open(out) as f:
            stamps = [float(line) for line in f if line.strip()]
        received = len(stamps)
        first, last = (stamps[0], stamps[-1]) if stamps else (None, None)
        results[name] = {
            "received": received,
            "launch_to_last_seconds": last - launched if last else None,
            "first_to_last_seconds": last - first if last else None,
            "rate_launch_to_last": received / (last - launched) if last else None,
            "rate_first_to_last": (received - 1) / (last - first) if last and last > first else None,
        }
        results[name]["reports"] = count
        if daemon:
            results[name]["launch_to_outbox_empty_seconds"] = empty_at - launched if empty_at else None
            results[name]["outbox_rows_left"] = int(sql(db, "SELECT count(*) FROM outbox"))
    return results


# --- 4: queueing -------------------------------------------------------------------------------

def queueing(tmp, template_db):
    out = {}
    for mode in ("daemon", "daemon-noevict", "plain", "batched"):
        db = os.path.join(tmp, f"queue-{mode}.db")
        r = subprocess.run([QUEUEING, template_db, db, mode, str(QUEUE_REPORTS), str(4 * MiB)], capture_output=True,
                           text=True, check=True)
        out[mode] = json.loads(r.stdout)
    return out


# --- 5: start-up -------------------------------------------------------------------------------

def startup(tmp, broker):
    notify = NotifySocket(tmp)
    d = os.path.join(tmp, "startup")
    os.makedirs(d)
    env = {k: v for k, v in os.environ.items() if k not in ("WATCHDOG_USEC", "WATCHDOG_PID")}
    env["NOTIFY_SOCKET"] = notify.path

    def once(db):
        cfg = write(os.path.join(d, "replenishd.yaml"), profile_config(DEVICE + "-startup", broker.url, db))
        t0 = time.monotonic()
        p = subprocess.Popen([STATIC, "run", "--config", cfg, "--simulate"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        ready = notify.wait_for("READY=1", after=t0, timeout=10)
        stop(p)
        return (ready - t0) * 1000 if ready else None

    existing_db = os.path.join(d, "state.db")
    once(existing_db)  # creates the database: the runs below start as a reboot does
    warm = [once(existing_db) for _ in range(STARTUP_RUNS)]
    fresh = []
    for i in range(5):
        fresh.append(once(os.path.join(d, f"fresh-{i}.db")))
    notify.close()
    warm_ok = [x for x in warm if x is not None]
    fresh_ok = [x for x in fresh if x is not None]
    return {
        "runs": len(warm), "missing_ready": len(warm) - len(warm_ok),
        "median_ms": median(warm_ok), "p90_ms": percentile(warm_ok, 90), "min_ms": min(warm_ok), "max_ms": max(warm_ok),
        "all_ms": warm,
        "fresh_runs": len(fresh), "fresh_median_ms": median(fresh_ok), "fresh_all_ms": fresh,
    }


# --- 6: edge counting on the emulated board ----------------------------------------------------

RATE_LINE = re.compile(r"RATE 500 pulses, (\d+) us between edges: (\d+) pulses/s, "
                       r"replenishd counted (\d+), gpiomon counted (\d+)")


def emulator_row():
    """The emulated board's flow-meter trains (Hardware/emulator/run.sh, the static build): each
    train is written to two gpio-sim lines in step, one read by replenishd, one by gpiomon."""
    if os.environ.get("BENCH_EMULATOR", "1") == "0":
        return {"skipped": "BENCH_EMULATOR=0"}
    r = subprocess.run([os.path.join(ROOT, "Hardware", "emulator", "run.sh"), STATIC], capture_output=True, text=True)
    trains = [{"gap_us": int(m[1]), "rate": int(m[2]), "replenishd": int(m[3]), "gpiomon": int(m[4])}
              for m in RATE_LINE.finditer(r.stdout)]
    boot = re.search(r"boot to result in (\d+) ms", r.stdout)

    def best(who):
        return max((t["rate"] for t in trains if t[who] == 500), default=0)

    return {"passed": r.returncode == 0, "trains": trains, "replenishd_best": best("replenishd"),
            "gpiomon_best": best("gpiomon"), "boot_to_result_ms": int(boot[1]) if boot else None}


def system_row():
    """Boot to active and start to READY on the appliance image (Hardware/system/run.sh --bench):
    Debian 12 under qemu TCG with systemd as PID 1, the .deb installed with apt, then rebooted
    BENCH_SYSTEM_BOOTS times (default 3)."""
    if os.environ.get("BENCH_SYSTEM", "1") == "0":
        return {"skipped": "BENCH_SYSTEM=0"}
    subprocess.run(["make", "--no-print-directory", "deb"], cwd=ROOT, check=True, capture_output=True)
    boots = int(os.environ.get("BENCH_SYSTEM_BOOTS", "3"))
    r = subprocess.run([os.path.join(ROOT, "Hardware", "system", "run.sh"), "--bench", str(boots)],
                       capture_output=True, text=True)

    def values(name):
        return [int(m[1]) for m in re.finditer(rf"^SYSTEM METRIC {name} (\d+)$", r.stdout, re.M)]

    first = values("start_to_ready_ms_first")
    return {"passed": r.returncode == 0, "boots": boots, "boot_to_active_ms": values("boot_to_active_ms"),
            "start_to_ready_ms": values("start_to_ready_ms"), "kernel_ms": values("kernel_ms"),
            "start_to_ready_first_ms": first[0] if first else None}


# --- report -----------------------------------------------------------------------------------

def mib(kib):
    return kib / 1024


def fmt(x, digits=1):
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "n/a"


def render(r):
    fp, sz, dr, q, su = r["idle"], r["sizes"], r["drain"], r["queueing"], r["startup"]
    rd, rs, rdyn = fp["replenishd"], fp["replenishd-systemd"], fp["replenishd-dynamic"]
    sub, mio = fp["mosquitto_sub"], fp["mqtt-io"]

    def mem(p, key):
        return mib(p["status_end"].get(key, 0))

    rows = []
    add = rows.append
    add(("1", "RSS (VmRSS), connected + idle", f"{fmt(mem(rd, 'VmRSS'))} MiB",
         f"mosquitto_sub {fmt(mem(sub, 'VmRSS'))} MiB; mqtt-io {fmt(mem(mio, 'VmRSS'))} MiB",
         f"{ratio(mem(rd, 'VmRSS'), mem(sub, 'VmRSS'))} / {ratio(mem(rd, 'VmRSS'), mem(mio, 'VmRSS'))}",
         "≤ 18 MiB (31–35 MiB with full Foundation)"))
    add(("1", "anonymous memory (RssAnon)", f"{fmt(mem(rd, 'RssAnon'))} MiB",
         f"mosquitto_sub {fmt(mem(sub, 'RssAnon'))} MiB; mqtt-io {fmt(mem(mio, 'RssAnon'))} MiB",
         f"{ratio(mem(rd, 'RssAnon'), mem(sub, 'RssAnon'))} / {ratio(mem(rd, 'RssAnon'), mem(mio, 'RssAnon'))}",
         "≤ 3.5 MiB (3.2–3.5 MiB before)"))
    add(("1", "proportional set size (Pss)", f"{fmt(mem(rd, 'Pss'))} MiB",
         f"mosquitto_sub {fmt(mem(sub, 'Pss'))} MiB; mqtt-io {fmt(mem(mio, 'Pss'))} MiB",
         f"{ratio(mem(rd, 'Pss'), mem(sub, 'Pss'))} / {ratio(mem(rd, 'Pss'), mem(mio, 'Pss'))}", "—"))
    add(("1", "RSS / RssAnon, dynamic-stdlib build", f"{fmt(mem(rdyn, 'VmRSS'))} / {fmt(mem(rdyn, 'RssAnon'))} MiB",
         "static build above", ratio(mem(rdyn, 'VmRSS'), mem(rd, 'VmRSS')), "—"))
    add(("1", "binary size (static stdlib, as shipped)",
         f"{fmt(sz['static']['bytes'] / MiB)} MiB ({fmt(sz['static']['stripped_bytes'] / MiB)} MiB stripped)",
         f"mosquitto_sub {fmt(sz['mosquitto_sub']['bytes'] / 1024)} KiB (+ libmosquitto); mqtt-io: a Python venv",
         "—", "≤ 20 MB stripped (61.5 MB with full Foundation)"))
    if "deb" in sz:
        add(("1", ".deb Installed-Size", f"{fmt(sz['deb']['installed_kib'] / 1024)} MiB "
             f"({fmt(sz['deb']['bytes'] / MiB)} MiB package)", "—", "—", "≤ 25 MB (63 MB with full Foundation)"))
    add(("1", "binary size (dynamic stdlib)",
         f"{fmt(sz['dynamic']['bytes'] / MiB)} MiB ({fmt(sz['dynamic']['stripped_bytes'] / MiB)} MiB stripped)",
         f"+ {sz['dynamic']['swift_runtime_libs']} Swift runtime libraries, "
         f"{fmt(sz['dynamic']['swift_runtime_bytes'] / MiB)} MiB", "—", "—"))
    add(("2", f"idle CPU over {fmt(rd['idle_seconds'], 0)} s (utime+stime)", f"{rd['cpu_percent_ticks']:.3f} % "
         f"({rd['cpu_ticks']} ticks; schedstat {rd['cpu_percent_schedstat']:.4f} %)",
         f"mosquitto_sub {sub['cpu_percent_ticks']:.3f} % ({sub['cpu_percent_schedstat']:.4f} %); "
         f"mqtt-io {mio['cpu_percent_ticks']:.3f} % ({mio['cpu_percent_schedstat']:.4f} %)",
         f"{ratio(rd['cpu_percent_schedstat'], sub['cpu_percent_schedstat'])} / "
         f"{ratio(rd['cpu_percent_schedstat'], mio['cpu_percent_schedstat'])} (schedstat)", "< 0.05 %"))
    add(("2", "idle CPU as under systemd (NOTIFY_SOCKET, WatchdogSec=60s)",
         f"{rs['cpu_percent_ticks']:.3f} % ({rs['cpu_ticks']} ticks; schedstat {rs['cpu_percent_schedstat']:.4f} %)",
         "replenishd without NOTIFY_SOCKET above", ratio(rs['cpu_percent_schedstat'], rd['cpu_percent_schedstat']),
         "< 0.05 %"))
    add(("2", "idle wake-ups (voluntary context switches/s)",
         f"{rd['wakeups_per_second']:.2f}/s (systemd-like: {rs['wakeups_per_second']:.2f}/s)",
         f"mosquitto_sub {sub['wakeups_per_second']:.2f}/s; mqtt-io {mio['wakeups_per_second']:.2f}/s", "—", "—"))
    rdr, mp = dr["replenishd"], dr["mosquitto_pub"]
    add(("3", f"backlog drain, {dr['reports']:,} reports at QoS 1 (launch → last received)",
         f"{fmt(rdr['rate_launch_to_last'], 0)} msg/s ({fmt(rdr['launch_to_last_seconds'], 2)} s)",
         f"mosquitto_pub -q 1 -M 32 -l: {fmt(mp['rate_launch_to_last'], 0)} msg/s "
         f"({fmt(mp['launch_to_last_seconds'], 2)} s)",
         ratio(rdr['rate_launch_to_last'], mp['rate_launch_to_last']), "≥ 0.5× raw library"))
    add(("3", "backlog drain, steady (first → last received)", f"{fmt(rdr['rate_first_to_last'], 0)} msg/s",
         f"mosquitto_pub {fmt(mp['rate_first_to_last'], 0)} msg/s",
         ratio(rdr['rate_first_to_last'], mp['rate_first_to_last']), "—"))
    add(("3", "launch → outbox empty (every PUBACK deleted)", f"{fmt(rdr.get('launch_to_outbox_empty_seconds'), 2)} s",
         f"{rdr['outbox_rows_left']} rows left after stop", "—", "—"))
    aws = dr.get("replenishd-aws")
    if aws:
        add(("3", f"backlog drain with AWS IoT Core's settings (`mqtt.broker: aws-iot`, a broker with its limits; "
                  f"{aws['reports']:,} reports)",
             f"{fmt(aws['rate_first_to_last'], 1)} msg/s steady ({fmt(aws['launch_to_last_seconds'], 1)} s launch → last; "
             f"{aws['received']:,} received, {aws['outbox_rows_left']} rows left)",
             f"generic settings above: {fmt(rdr['rate_first_to_last'], 0)} msg/s", "—", "≤ 100 msg/s in any second (AWS's limit per connection; default 90/s + a burst of 9)"))
    aws100 = dr.get("replenishd-aws-100")
    if aws100:
        add(("3", f"the same with `max_publish_rate: 100` (AWS's limit itself; {aws100['reports']:,} reports)",
             f"{fmt(aws100['rate_first_to_last'], 1)} msg/s steady ({fmt(aws100['launch_to_last_seconds'], 1)} s launch → last; "
             f"{aws100['received']:,} received, {aws100['outbox_rows_left']} rows left)",
             f"generic settings above: {fmt(rdr['rate_first_to_last'], 0)} msg/s", "—", "100 msg/s"))
    qd, qp, qb, qe = q["daemon"], q["plain"], q["batched"], r["queue_daemon"]
    add(("4", f"queueing: the daemon end to end ({qe['reports']:,} reports, broker down)",
         f"{fmt(qe['rate'], 0)} reports/s", f"plain INSERT, 1 tx each: {fmt(qp['rate'], 0)}/s",
         ratio(qe['rate'], qp['rate']), "—"))
    add(("4", f"queueing: the daemon's SQL in C ({qd['count']:,} reports, 4 MiB bound)",
         f"{fmt(qd['rate'], 0)} reports/s (per 1000: " + ", ".join(
             f"{1000 / s:,.0f}/s" for s in qd['per_1000_seconds']) + ")",
         f"plain {fmt(qp['rate'], 0)}/s; batched ×100 {fmt(qb['rate'], 0)}/s",
         f"{ratio(qd['rate'], qp['rate'])} / {ratio(qd['rate'], qb['rate'])}", "—"))
    qn = q["daemon-noevict"]
    add(("4", "queueing: the same without the outbox-bound eviction query (diagnostic)",
         f"{fmt(qn['rate'], 0)} reports/s", f"with it: {fmt(qd['rate'], 0)}/s", ratio(qd['rate'], qn['rate']), "—"))
    add(("5", f"start-up to READY=1 ({su['runs']} runs, existing database)",
         f"median {fmt(su['median_ms'])} ms, p90 {fmt(su['p90_ms'])} ms",
         f"min {fmt(su['min_ms'])}, max {fmt(su['max_ms'])}; first boot (new database) median "
         f"{fmt(su['fresh_median_ms'])} ms", "—", "< 100 ms"))
    em = r["emulator"]
    if "skipped" in em:
        add(("6", "edge counting on the emulated board", em["skipped"], "—", "—", "—"))
    else:
        add(("6", "edge counting on the emulated board: fastest train of 500 counted exactly",
             f"{em['replenishd_best']} pulses/s", f"gpiomon on a twin line: {em['gpiomon_best']} pulses/s",
             ratio(em['replenishd_best'], em['gpiomon_best']), "≥ 225 pulses/s (YF-S201 at full flow)"))
        add(("6", "edge counting: every train (gap between edges → rate: replenishd / gpiomon counted)",
             "; ".join(f"{t['gap_us']} µs → {t['rate']}/s: {t['replenishd']} / {t['gpiomon']}" for t in em["trains"]),
             "same trains", "—", "scenarios " + ("passed" if em["passed"] else "FAILED")))

    sy = r["system"]
    if "skipped" in sy:
        add(("7", "boot to active on the appliance image", sy["skipped"], "—", "—", "—"))
    elif not sy["boot_to_active_ms"]:
        add(("7", "boot to active on the appliance image", "FAILED (Hardware/system/run.sh --bench)", "—", "—", "—"))
    else:
        med = statistics.median
        add(("7", f"boot to active on the appliance image (Debian 12, systemd, qemu TCG; {len(sy['boot_to_active_ms'])} boots)",
             f"median {med(sy['boot_to_active_ms']):,.0f} ms from kernel start (each: "
             + ", ".join(f"{v:,}" for v in sy["boot_to_active_ms"]) + ")",
             f"kernel and initramfs median {med(sy['kernel_ms']):,.0f} ms", "—", "—"))
        add(("7", "start to READY=1 under systemd at boot (ExecMainStart → ActiveEnter)",
             f"median {med(sy['start_to_ready_ms']):,.0f} ms (each: " + ", ".join(f"{v:,}" for v in sy["start_to_ready_ms"]) + ")",
             f"first start after install: {sy['start_to_ready_first_ms']} ms", "—", "—"))

    lines = ["| # | measure | replenishd | reference (same run) | ratio | target |",
             "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main():
    info = machine_info()
    log("load average at start:", info["load_average"])
    build()
    tmp = tempfile.mkdtemp(prefix="replenishd-bench-")
    results = {"machine": info, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "settings": {"idle_seconds": IDLE_SECONDS, "drain_reports": DRAIN_REPORTS,
                            "queue_reports": QUEUE_REPORTS, "startup_runs": STARTUP_RUNS}}
    broker = Broker(tmp).start()
    try:
        results["sizes"] = binary_sizes(tmp)
        log("1+2: footprint and idle CPU")
        results["load_before_idle"] = load_average()
        results["idle"] = footprint_and_idle(tmp, broker)
        log("5: start-up")
        results["startup"] = startup(tmp, broker)
        log("4: queueing (daemon end to end, then the same SQL in C, plain and batched)")
        template, results["queue_daemon"] = fill_with_daemon(tmp)
        results["queueing"] = queueing(tmp, template)
        log("3: backlog drain")
        results["load_before_drain"] = load_average()
        results["drain"] = drain(tmp, template)
    finally:
        broker.stop()
    log("6: edge counting on the emulated board")
    results["emulator"] = emulator_row()
    log("7: boot to active on the appliance image")
    results["system"] = system_row()
    results["load_at_end"] = load_average()
    table = render(results)
    header = (f"# replenishd benchmarks\n\nRun {results['started']} on {info.get('cpu', '?')}, {info['cores']} cores; "
              f"{info.get('swift', '')}; mosquitto {info.get('mosquitto', '?')}; SQLite {info.get('sqlite', '?')}; "
              f"commit {info.get('commit', '?')}.\n\nLoad average (1/5/15 min): start {info['load_average']}, "
              f"before the idle window {results['load_before_idle']}, before the drain {results['load_before_drain']}, "
              f"end {results['load_at_end']}.\n\n")
    notes = NOTES.format(idle=IDLE_SECONDS, drain=DRAIN_REPORTS, queue=QUEUE_REPORTS, aws=AWS_REPORTS)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS + ".md", "w") as f:
        f.write(header + table + "\n\n" + notes)
    with open(RESULTS + ".json", "w") as f:
        json.dump(results, f, indent=1, default=str)
    print(table)
    print(f"\nwritten: {RESULTS}.md, {RESULTS}.json (work files in {tmp})")
    shutil.rmtree(tmp, ignore_errors=True)


NOTES = """What each side does:

1. Footprint: `replenishd run --simulate` with Hardware/profiles/coffee-machine.yaml (4 slots; broker
   and database path replaced), the release build with `--static-swift-stdlib` (what `make release`
   and the .deb ship), connected to a private mosquitto and idle. mosquitto_sub: subscribed at QoS 1,
   idle (the floor for a libmosquitto client). mqtt-io 2.7.0 (PyPI, in a venv): its `mock` sensor
   module (shipped for its own tests; needs no hardware, returns 1), one sensor input per slot at the
   profile's intervals (300, 300, 900, 900 s). VmRSS and RssAnon from /proc/PID/status, Pss from
   /proc/PID/smaps_rollup, read at the end of the idle window. Sizes: file size, and after `strip`.
2. Idle CPU: utime+stime from /proc/PID/stat over the idle window ({idle:.0f} s; ticks of 10 ms, so
   one tick is {tick:.3f} % of a core over 60 s), and the on-CPU nanoseconds of every thread from
   /proc/PID/task/*/schedstat (finer, but a thread that ends inside the window takes its share with
   it, so it is a lower bound; wake-ups likewise). All processes measured in the same window. "As under systemd"
   sets NOTIFY_SOCKET and WATCHDOG_USEC=60 s like the unit, which turns on the 5-second STATUS=
   refresh (an outbox query) and the 30-second watchdog ping.
3. Drain: {drain:,} reports in the outbox, then the daemon started against a fresh broker; a
   mosquitto_sub at QoS 1 counts them with a receive timestamp each (`-C {drain} -F %U`). The backlog
   is real daemon output (the reports queued in 4 below) cycled to {drain:,} rows with the sqlite3
   CLI, seq and messageId rewritten so seq stays consistent with seq_counter. The daemon publishes at
   QoS 1 with 32 in flight and deletes each row on its PUBACK (one SQLite transaction, synchronous=FULL,
   per PUBACK). Reference: `mosquitto_pub -q 1 -M 32 -l` sending the same payloads, one per line, to
   one topic. "launch" is the process start; the first message follows within the start-up time.
   With AWS IoT Core's settings: {aws:,} reports, the daemon with `mqtt.broker: aws-iot` (its
   `max_publish_rate` default is 90 publishes/s, under AWS's 100 per connection with the token bucket's burst of
   a tenth of a second), mosquitto with `max_packet_size 131072` and `max_keepalive 1200`; then the
   same with `max_publish_rate: 100`.
4. Queueing, daemon end to end: the real daemon, broker on a closed port, a status report every
   simulated second at --time-scale 2000 (more than it can commit), the profile's default 4 MiB
   outbox bound; rate from seq_counter sampled every 0.1 s. That includes building each report (JSON)
   and, per report, the full transaction below. Queueing in C (Benchmarks/queueing.c): the same
   statements as Sources/ReplenishStore (seq, guarded INSERT, the outbox-bound eviction query, 4
   slot_state and 5 agent_value upserts) in one BEGIN IMMEDIATE … COMMIT per report, with a real
   payload and real state blobs taken from the daemon's database; "plain" is one INSERT per
   transaction; "batched" 100 INSERTs per transaction; "without the eviction query" is the daemon's
   transaction less the DELETE … sum(length(payload)) OVER (…) that keeps the outbox under its bound. Same schema (copied from the daemon's
   database), WAL, synchronous=FULL, on the same disk. {queue:,} reports each. The daemon itself runs
   that query only once an upper bound of the outbox bytes (carried from commit to commit) reaches
   the limit: below it, its rate is near the "without" figure; at the bound, every report evicts.
5. Start-up: process start to READY=1 on a test-owned NOTIFY_SOCKET (a Python datagram listener),
   static build, broker up, database already there (as after a reboot); also 5 first boots.
6. Edge counting: the emulated board (Hardware/emulator/run.sh, Debian's kernel under qemu): trains
   of 500 rising edges written by the guest's shell to two gpio-sim lines in step, GPIO17 read by
   replenishd (libgpiod 1.6, v1 line events) and GPIO27 by gpiomon; the rate is the shell's (4 sysfs
   writes per pulse), the count what each reader saw. BENCH_EMULATOR=0 skips it.
7. Boot to active: Hardware/system/run.sh --bench (the .deb installed with apt in a Debian 12 guest,
   systemd as PID 1, qemu TCG with 2 CPUs, the state on its own disk), then rebooted; per boot
   ActiveEnterTimestampMonotonic of replenishd.service (from kernel start, so TCG's slow kernel
   boot is in it: "kernel and initramfs" is UserspaceTimestampMonotonic), and ExecMainStart to
   ActiveEnter (READY=1) for the start itself. BENCH_SYSTEM=0 skips it.

Figures, not verdicts: nothing here fails on time. Other builds ran on this 2-core machine during
some runs; the load averages above say how busy it was.
""".replace("{tick:.3f}", f"{100 / CLK_TCK / 60:.3f}")

if __name__ == "__main__":
    main()
