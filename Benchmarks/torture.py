#!/usr/bin/env python3
"""`make torture`: replenishd abused on purpose, each scenario printing the seqs produced,
delivered, lost and duplicated (and evicted by policy, where the outbox bound or a full disk
made the daemon drop status reports, which it then tells the cloud about).

Scenarios (TORTURE_SCENARIOS=kills,restarts,disk picks; default all three):

  kills     100 SIGKILLs at random moments over an accelerated month (the coffee-machine profile,
            simulated sources, the simulated clock carried across restarts with --time-origin)
            while the broker flaps: stopped and started at random on its own schedule.
  restarts  one daemon running throughout while the broker is restarted 50 times.
  disk      the state directory on a small tmpfs (root only), the broker unreachable so the
            outbox grows, then the file system filled to the last byte: the daemon must keep
            running, say why in its log, evict status reports per policy, recover when space
            returns, deliver what it kept once the broker is back, and pass integrity_check.

Every scenario ends with a clean run that drains the outbox, then audits: a persistent-session
QoS 1 subscriber (the "cloud") has each seq 1..last_seq, or the seq is still in the outbox, or an
`outboxEvicted` event (or the tally still waiting in the database) accounts for it. Anything else
is lost. Exit status 1 when a scenario lost a report or failed integrity_check.

Environment: TORTURE_KILLS (100), TORTURE_RESTARTS (50), TORTURE_SEED (random),
TORTURE_BINARY (default .build/release/replenishd), TORTURE_RESULTS (Benchmarks/results/torture).
"""
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (ROOT, Broker, free_port, log, machine_info, profile_config, release_binary, sql, stop,
                    wait_until, write)

KILLS = int(os.environ.get("TORTURE_KILLS", "100"))
RESTARTS = int(os.environ.get("TORTURE_RESTARTS", "50"))
SEED = int(os.environ.get("TORTURE_SEED", str(random.randrange(1 << 30))))
RESULTS = os.environ.get("TORTURE_RESULTS", os.path.join(ROOT, "Benchmarks", "results", "torture"))
SCENARIOS = os.environ.get("TORTURE_SCENARIOS", "kills,restarts,disk").split(",")
MONTH = 30 * 86400
EXE = None  # the replenishd binary, set by main


class Cloud:
    """The auditor: mosquitto_sub with a persistent session at QoS 1, every message of one device."""

    def __init__(self, workdir, broker, device):
        self.out = os.path.join(workdir, f"cloud-{device}.txt")
        self.broker, self.device = broker, device
        self.proc = None

    def start(self):
        # -c with a fixed id: the broker (persistence on) keeps our queue across its restarts and
        # ours; mosquitto_sub reconnects by itself.
        self.proc = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-c",
                                      "-i", f"cloud-{self.device}", "-q", "1", "-t", f"replenish/v1/{self.device}/#",
                                      "-F", "%t %p"], stdout=open(self.out, "a"), stderr=subprocess.DEVNULL)
        RUNNING.append(self.proc)
        return self

    def stop(self):
        stop(self.proc)

    def messages(self):
        out = []
        with open(self.out, errors="replace") as f:
            for line in f:
                _, _, payload = line.rstrip("\n").partition(" ")
                try:
                    msg = json.loads(payload)
                except ValueError:
                    continue  # availability ("online"/"offline") is not a seq'd report
                if isinstance(msg, dict) and "seq" in msg:
                    out.append(msg)
        return out


RUNNING = []  # whatever a failed scenario leaves running, stopped on the way out


class Daemon:
    def __init__(self, exe, config, logfile):
        self.exe, self.config, self.logfile = exe, config, logfile
        self.proc = None

    def start(self, *extra):
        self.proc = subprocess.Popen([self.exe, "run", "--config", self.config, "--simulate", *extra],
                                     stdout=subprocess.DEVNULL, stderr=open(self.logfile, "a"))
        RUNNING.append(self.proc)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        stop(self.proc, timeout=60)
        return self.proc.returncode


def drain(daemon, db, args, timeout=120):
    """A clean run, connected, until the outbox is empty; then SIGTERM."""
    seen = os.path.getsize(daemon.logfile) if os.path.exists(daemon.logfile) else 0

    def connected():
        with open(daemon.logfile, errors="replace") as f:
            f.seek(seen)
            return "broker connected" in f.read()

    daemon.start(*args)
    wait_until("the daemon to connect", connected, timeout)
    wait_until("an empty outbox", lambda: outbox_count(db) == 0, timeout)
    return daemon.stop()


def outbox_count(db):
    try:
        return int(sql(db, "SELECT count(*) FROM outbox") or 0)
    except (RuntimeError, ValueError):
        return -1


def audit(db, cloud):
    """produced, delivered, duplicated, evicted (accounted for), still queued, lost; integrity."""
    last = int(sql(db, "SELECT last_seq FROM seq_counter") or 0)
    queued = {int(x) for x in sql(db, "SELECT seq FROM outbox").split()}
    copies = collections.Counter()
    evicted_reports, ranges = 0, []
    for msg in cloud.messages():
        if msg.get("deviceId") != cloud.device:
            continue
        copies[int(msg["seq"])] += 1
        if msg.get("event") == "outboxEvicted":
            evicted_reports += int(msg["evictedReports"])
            ranges.append((int(msg["firstEvictedSeq"]), int(msg["lastEvictedSeq"])))
    pending = sql(db, "SELECT CAST(value AS TEXT) FROM agent_value WHERE key = 'outbox.evicted'")
    if pending and pending != "null":
        tally = json.loads(pending)
        evicted_reports += int(tally["reports"])
        ranges.append((int(tally["firstSeq"]), int(tally["lastSeq"])))
    seen = set(copies)
    missing = sorted(set(range(1, last + 1)) - seen - queued)
    explained = [s for s in missing if any(a <= s <= b for a, b in ranges)]
    # Evicted seqs are status reports inside the announced ranges, as many as announced.
    evicted = min(len(explained), evicted_reports)
    lost = len(missing) - evicted
    return {
        "produced": last,
        "delivered": len(seen & set(range(1, last + 1))),
        "duplicated": sum(c - 1 for c in copies.values()),
        "evicted": evicted,
        "queued": len(queued),
        "lost": lost,
        "lost_seqs": missing[:20] if lost else [],
        "integrity": sql(db, "PRAGMA integrity_check"),
    }


def started(broker):
    broker.start()
    RUNNING.append(broker)
    return broker


def setup(workdir, device, db=None, **config):
    """A persistent broker, the cloud listening on it, and a daemon (not started) with its config."""
    broker = started(Broker(workdir, persistence=True))
    cloud = Cloud(workdir, broker, device).start()
    db = db or os.path.join(workdir, f"{device}.db")
    cfg = write(os.path.join(workdir, f"{device}.yaml"), profile_config(device, broker.url, db, **config))
    return broker, cloud, db, cfg, Daemon(EXE, cfg, os.path.join(workdir, f"{device}.log"))


# --- kills ---------------------------------------------------------------------------------------

class Flapper(threading.Thread):
    """Stops and starts the broker at random (SIGTERM: it saves the cloud's queued messages)."""

    def __init__(self, broker, rng, up=(1.0, 6.0), down=(0.3, 3.0)):
        super().__init__(daemon=True)
        self.broker, self.rng, self.up, self.down = broker, rng, up, down
        self.done = threading.Event()
        self.flaps = 0

    def run(self):
        while not self.done.wait(self.rng.uniform(*self.up)):
            self.broker.stop()
            self.flaps += 1
            self.done.wait(self.rng.uniform(*self.down))
            self.broker.start()

    def finish(self):
        self.done.set()
        self.join()
        if self.broker.proc is None or self.broker.proc.poll() is not None:
            self.broker.start()


def scenario_kills(tmp, rng):
    broker, cloud, db, cfg, daemon = setup(tmp, "torture-kills", every="1h", reconnect=("100ms", "2s"),
                                           flush_interval="1h")
    # Mean life 1.75 s (start-up is quick): about 175 s of real time for the whole series; the simulated
    # clock runs a month in that, carried over every restart (time passes while it is "off" too).
    scale = MONTH / (KILLS * 1.75)
    origin = datetime(2027, 1, 1, tzinfo=timezone.utc)
    t0 = time.monotonic()

    def simulated_now():
        return origin + timedelta(seconds=(time.monotonic() - t0) * scale)

    def args():
        return ["--time-scale", f"{scale:.0f}", "--time-origin", simulated_now().strftime("%Y-%m-%dT%H:%M:%SZ")]

    flapper = Flapper(broker, rng)
    flapper.start()
    for i in range(KILLS):
        daemon.start(*args())
        time.sleep(rng.uniform(0.5, 3.0))
        if not daemon.alive():
            raise RuntimeError(f"the daemon exited by itself (status {daemon.proc.returncode}); see {daemon.logfile}")
        daemon.kill()
        if (i + 1) % 10 == 0:
            log(f"kills: {i + 1}/{KILLS}, simulated {simulated_now():%Y-%m-%d %H:%M}, broker flaps {flapper.flaps}")
    flapper.finish()
    end = simulated_now()
    status = drain(daemon, db, args())
    time.sleep(2)  # the cloud takes the last messages
    cloud.stop()
    broker.stop()
    result = audit(db, cloud)
    result.update({"kills": KILLS, "broker_flaps": flapper.flaps, "time_scale": round(scale),
                   "simulated": f"{origin:%Y-%m-%d} to {end:%Y-%m-%d}", "final_exit": status})
    return result


# --- broker restarts -----------------------------------------------------------------------------

def scenario_restarts(tmp, rng):
    broker, cloud, db, cfg, daemon = setup(tmp, "torture-restarts", every="1h", reconnect=("100ms", "2s"),
                                           flush_interval="1h")
    # A status report every simulated hour is one a second of real time at 3600x.
    daemon.start("--time-scale", "3600")
    for i in range(RESTARTS):
        time.sleep(rng.uniform(0.5, 3.0))
        broker.stop()
        time.sleep(rng.uniform(0.2, 2.0))
        broker.start()
        if not daemon.alive():
            raise RuntimeError(f"the daemon exited (status {daemon.proc.returncode}); see {daemon.logfile}")
        if (i + 1) % 10 == 0:
            log(f"restarts: {i + 1}/{RESTARTS}")
    wait_until("an empty outbox", lambda: outbox_count(db) == 0, 120)
    status = daemon.stop()
    # What the SIGTERM itself queued (none expected) goes out with a clean run.
    if outbox_count(db) > 0:
        drain(daemon, db, ["--time-scale", "3600"])
    time.sleep(2)
    cloud.stop()
    broker.stop()
    result = audit(db, cloud)
    result.update({"broker_restarts": RESTARTS, "final_exit": status})
    return result


# --- full disk -----------------------------------------------------------------------------------

def scenario_disk(tmp, rng):
    if os.geteuid() != 0:
        return {"skipped": "needs root to mount a small tmpfs (CI runs as root)"}
    device = "torture-disk"
    mount = os.path.join(tmp, "small-disk")
    os.makedirs(mount)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", mount], check=True)
    try:
        return _disk(tmp, mount, device)
    finally:
        subprocess.run(["umount", "-l", mount])


def _disk(tmp, mount, device):
    broker, cloud, db, cfg, daemon = setup(tmp, device, db=os.path.join(mount, "state.db"), every="10m",
                                           reconnect=("200ms", "1s"), flush_interval="1h", outbox_limit="64MiB")
    # The broker address the daemon uses is a port nobody listens on until the end: the outbox
    # grows as it would through a long outage, with no outbox bound to stop it before the disk.
    dead_port = free_port()
    with open(cfg) as f:
        text = f.read()
    write(cfg, text.replace(broker.url, f"mqtt://127.0.0.1:{dead_port}"))
    logfile = daemon.logfile
    daemon.start("--time-scale", "36000")
    wait_until("a few hundred queued reports", lambda: outbox_count(db) >= 300, 120)
    queued_before = outbox_count(db)
    # Fill the file system to the last byte.
    filler = os.path.join(mount, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for chunk in (65536, 4096, 1):
        try:
            while True:
                os.write(fd, b"\0" * chunk)
        except OSError:
            pass
    os.close(fd)
    full_at = time.monotonic()

    def logged(text):
        with open(logfile, errors="replace") as f:
            return text in f.read()

    said_full = wait_until("the daemon to report the full disk", lambda: logged("disk full"), 60)
    evicting = wait_until("evictions", lambda: logged("oldest status reports evicted"), 60)
    # Keep it full a while: the daemon must keep running and keep committing within its space.
    time.sleep(10)
    alive_while_full = daemon.alive()
    seq_while_full = int(sql(db, "SELECT last_seq FROM seq_counter") or 0)
    os.unlink(filler)
    freed_at = time.monotonic()
    recovered = wait_until("space to be noticed", lambda: logged("disk space is back"), 60)
    time.sleep(3)
    seq_after = int(sql(db, "SELECT last_seq FROM seq_counter") or 0)
    daemon.stop()
    # The broker comes back: the same daemon config pointed at it, drained.
    write(cfg, text)
    drain(daemon, db, ["--time-scale", "60"], timeout=180)
    time.sleep(2)
    cloud.stop()
    broker.stop()
    result = audit(db, cloud)
    result.update({"queued_before_full": queued_before, "logged_disk_full": said_full, "logged_evictions": evicting,
                   "alive_while_full": alive_while_full, "seq_when_freed": seq_while_full,
                   "committing_after_space_returned": seq_after > seq_while_full, "logged_space_back": recovered,
                   "seconds_full": round(freed_at - full_at, 1)})
    return result


def render(results, info):
    lines = ["# Torture", "",
             f"Seed {SEED} (replay with TORTURE_SEED={SEED}); load {info.get('load_average')}; commit {info.get('commit')}",
             "", "| scenario | produced | delivered | lost | duplicated | evicted (announced) | integrity | notes |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    for name, r in results.items():
        if "skipped" in r:
            lines.append(f"| {name} | | | | | | | skipped: {r['skipped']} |")
            continue
        notes = {k: v for k, v in r.items() if k not in ("produced", "delivered", "lost", "duplicated", "evicted",
                                                          "integrity", "lost_seqs", "queued")}
        lines.append(f"| {name} | {r['produced']} | {r['delivered']} | {r['lost']} | {r['duplicated']} | "
                     f"{r['evicted']} | {r['integrity']} | {', '.join(f'{k} {v}' for k, v in notes.items())} |")
    return "\n".join(lines)


def run_all(tmp, rng, results):
    for name in SCENARIOS:
        fn = {"kills": scenario_kills, "restarts": scenario_restarts, "disk": scenario_disk}[name]
        started_at = time.monotonic()
        log(f"--- {name}")
        workdir = os.path.join(tmp, name)
        os.makedirs(workdir)
        results[name] = fn(workdir, rng)
        results[name]["seconds"] = round(time.monotonic() - started_at)
        log(f"{name}: {results[name]}")


def main():
    global EXE
    EXE = release_binary(os.environ.get("TORTURE_BINARY"))
    info = machine_info()
    rng = random.Random(SEED)
    log(f"torture: seed {SEED}, scenarios {SCENARIOS}")
    tmp = tempfile.mkdtemp(prefix="replenishd-torture-")
    results = {}
    try:
        run_all(tmp, rng, results)
    finally:
        for thing in RUNNING:
            if isinstance(thing, Broker):
                thing.stop()
            elif thing.poll() is None:
                thing.kill()
    text = render(results, info)
    print(text)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS + ".md", "w") as f:
        f.write(text + "\n")
    with open(RESULTS + ".json", "w") as f:
        json.dump({"seed": SEED, "machine": info, "results": results}, f, indent=1)
    print(f"\nwritten: {RESULTS}.md, {RESULTS}.json")
    failed = [n for n, r in results.items() if "skipped" not in r and (r["lost"] or r["integrity"] != "ok")]
    if os.environ.get("TORTURE_KEEP") != "1" and not failed:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept: {tmp}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
