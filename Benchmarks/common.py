"""Shared helpers for `make bench` and `make fleet` (Python 3 standard library only).

Everything here talks to processes this benchmark starts itself: a private mosquitto on a free
loopback port, replenishd and its references. Processes are tracked by pid and stopped by pid.
"""
import os
import pwd
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(ROOT, "Benchmarks")
BUILD_DIR = os.path.join(ROOT, ".build", "bench")
PROFILE = os.path.join(ROOT, "Hardware", "profiles", "coffee-machine.yaml")
CLK_TCK = os.sysconf("SC_CLK_TCK")
MiB = 1024 * 1024


def log(*parts):
    print("[bench]", *parts, file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_until(what, condition, timeout, interval=0.1):
    """Polls `condition` until it holds (True) or `timeout` seconds pass (logged, False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    log(f"timed out after {timeout:.0f} s waiting for {what}")
    return False


def release_binary(*candidates):
    """The first of `candidates` (paths, None skipped) that exists, else the static release build,
    built here if missing."""
    for path in candidates:
        if path and os.path.exists(path):
            return path
    built = os.path.join(ROOT, ".build", "release", "replenishd")
    if not os.path.exists(built):
        subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib"], cwd=ROOT, check=True)
    return built


def sql(db, query):
    """One query through the sqlite3 CLI (waiting up to 5 s for a daemon's write lock); its output.
    A database that does not exist yet is not created: the CLI would leave an empty file, which the
    daemon then refuses as a database whose contents were lost."""
    if not os.path.exists(db):
        raise RuntimeError(f"sqlite3 {db}: no such file yet")
    r = subprocess.run(["sqlite3", "-cmd", ".timeout 5000", db, query], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"sqlite3 {db}: {r.stderr.strip()}")
    return r.stdout.strip()


def stop(proc, timeout=10.0):
    """SIGTERM one process we started, then SIGKILL if it does not go."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


class Broker:
    """A private mosquitto on 127.0.0.1:port, with its own config, log and (optional) persistence."""

    def __init__(self, workdir, port=None, persistence=False, verbose_log=False, extra=""):
        self.workdir = workdir
        self.port = port or free_port()
        self.conf = os.path.join(workdir, f"mosquitto-{self.port}.conf")
        self.logfile = os.path.join(workdir, f"mosquitto-{self.port}.log")
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            # Started as root, mosquitto would drop to user mosquitto, who cannot write our files.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
            "max_connections -1",
            "max_queued_messages 0",
            "max_queued_bytes 0",
            f"log_dest file {self.logfile}",
            "log_timestamp true",
            "connection_messages true",
        ]
        lines += ["log_type all"] if verbose_log else ["log_type error", "log_type warning", "log_type notice",
                                                       "log_type information"]
        if persistence:
            lines += ["persistence true", f"persistence_location {workdir}/", "autosave_interval 0"]
        with open(self.conf, "w") as f:
            f.write("\n".join(l for l in lines if l) + "\n" + extra)
        self.proc = None
        self._log = None

    def start(self):
        self._log = open(self.logfile + ".out", "a")
        # A fleet needs more descriptors than the usual 1024 soft limit.
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=_raise_nofile)
        wait_for_port(self.port)
        return self

    def stop(self):
        stop(self.proc)
        if self._log:
            self._log.close()
            self._log = None

    @property
    def url(self):
        return f"mqtt://127.0.0.1:{self.port}"


def _raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    except (ValueError, OSError):
        pass


# --- replenishd configs -------------------------------------------------------------------------

def profile_config(device_id, broker_url, db_path, *, every=None, on_start=None, outbox_limit=None,
                   reconnect=None, keepalive=None, flush_interval=None, mqtt_extra=None):
    """The coffee-machine profile with its broker, database and (optionally) cadence replaced.

    Everything else (slots, sources, filters, simulation households) stays as the profile has it.
    """
    with open(PROFILE) as f:
        text = f.read()
    text = re.sub(r"(?m)^  id: .*$", f"  id: {device_id}", text, count=1)
    mqtt = f"  url: {broker_url}"
    if reconnect:
        mqtt += f"\n  reconnect_min: {reconnect[0]}\n  reconnect_max: {reconnect[1]}"
    if keepalive:
        mqtt += f"\n  keepalive: {keepalive}"
    for key, value in (mqtt_extra or {}).items():
        mqtt += f"\n  {key}: {value}"
    text = re.sub(r"(?m)^  url: .*$", mqtt, text, count=1)
    storage = f"  path: {db_path}"
    if outbox_limit:
        storage += f"\n  outbox_limit: {outbox_limit}"
    text = re.sub(r"(?m)^  path: .*$", storage, text, count=1)
    if flush_interval:
        text = re.sub(r"(?m)^  flush_interval: .*$", f"  flush_interval: {flush_interval}", text, count=1)
    if every:
        text = re.sub(r"(?m)^  every: .*$", f"  every: {every}", text, count=1)
    if on_start is not None:
        text = re.sub(r"(?m)^(  every: .*)$", r"\1" + f"\n  on_start: {'true' if on_start else 'false'}", text,
                      count=1)
    return text


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# --- /proc -------------------------------------------------------------------------------------

def proc_status(pid):
    """VmRSS, RssAnon, RssFile, RssShmem, VmHWM in KiB from /proc/PID/status, Pss from smaps_rollup."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("Pss", "Pss_Anon"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def cpu_ticks(pid):
    """utime + stime of the whole process (live and exited threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def thread_times(pid):
    """Per live thread: on-CPU nanoseconds (schedstat) and voluntary context switches."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            switches = 0
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        switches = int(line.split()[1])
            out[tid] = (ns, switches)
        except OSError:
            pass  # a thread that ended meanwhile
    return out


def thread_delta(before, after):
    """CPU ns and wake-ups between two `thread_times` samples, counting threads alive at the end
    (a thread that ended in between takes its share with it: a lower bound; the tick figure from
    /proc/PID/stat has it)."""
    ns = switches = 0
    for tid, (n, s) in after.items():
        n0, s0 = before.get(tid, (0, 0))
        ns += n - n0
        switches += s - s0
    return ns, switches


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def median(values):
    return statistics.median(values) if values else float("nan")


class NotifySocket:
    """A test-owned NOTIFY_SOCKET: a datagram socket read on a thread, every datagram timestamped."""

    def __init__(self, directory):
        self.path = os.path.join(directory, f"notify-{os.getpid()}-{int(time.time() * 1e6) % 10**9}")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # (time.monotonic(), text)
        self.cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            now = time.monotonic()
            with self.cond:
                self.messages.append((now, data.decode(errors="replace")))
                self.cond.notify_all()

    def wait_for(self, needle, after, timeout=10.0):
        """Time of the first datagram received at or after `after` containing `needle`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, text in self.messages:
                    if t >= after and needle in text.split("\n"):
                        return t
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def machine_info():
    info = {"load_average": load_average(), "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["swift"] = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        pass
    try:
        info["mosquitto"] = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "mosquitto"], capture_output=True,
                                           text=True).stdout
        info["sqlite"] = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]
    except (OSError, IndexError):
        pass
    try:
        info["commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                        text=True).stdout.strip()
    except OSError:
        pass
    return info
