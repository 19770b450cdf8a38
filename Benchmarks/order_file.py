#!/usr/bin/env python3
"""`make order-file`: the functions the daemon runs, for the linker's --symbol-ordering-file.

Usage: order_file.py BINARY OUTPUT

Runs BINARY (a release build) under valgrind's callgrind as `make bench` runs it (the
coffee-machine profile, simulated sensors, a private mosquitto), at --time-scale 60 so that a
minute holds an hour of sampling: start, connect, the start-up report and its delivery, sampling,
idle, then SIGTERM and the graceful stop. Every function it entered that the binary defines is
written to OUTPUT, one mangled name per line: first the code we compile with -function-sections
(our modules and the packages), then the runtime's C and C++ and FoundationEssentials, then the
standard library, whose archive members are large single sections (listing them first would pull
those whole sections into the middle of ours).

The linker places the listed functions first, side by side; the rest follow in their usual order.
A name it no longer finds is ignored, so a stale list costs memory, never correctness.

Environment: ORDER_IDLE_SECONDS (default 40) of running after the start-up report.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Broker, log, profile_config, write

IDLE_SECONDS = float(os.environ.get("ORDER_IDLE_SECONDS", "40"))
# Placed after our code: large sections that cannot be split (see the docstring).
LATER = {"Swift": 3, "FoundationEssentials": 2, "_FoundationCollections": 2, "_StringProcessing": 2,
         "_RegexParser": 2, "C": 1, "Dispatch": 1, "Synchronization": 1, "Glibc": 1}


def module(name):
    """The Swift module a mangled name belongs to ("Swift" for the standard library), else "C"."""
    m = re.match(r"^\$s(\d+)([A-Za-z_]\w*)", name)
    if m:
        return m[2][:int(m[1])]
    if name.startswith("$s"):  # $ss…, $sS…: standard-library substitutions
        return "Swift"
    return "C"


def defined_functions(binary):
    out = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    return {p[2] for p in (line.split() for line in out.splitlines()) if len(p) == 3 and p[1] in "tTwW"}


def entered_functions(callgrind_out, object_suffix):
    """Names of the functions callgrind saw entered in the object whose path ends in object_suffix
    (its compressed format names each object and function once, then refers to it by number)."""
    objects, functions, current, entered = {}, {}, None, set()
    with open(callgrind_out, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(c?ob)=\((\d+)\)(?: (.*))?$", line)
            if m:
                if m[3]:
                    objects[m[2]] = m[3]
                if m[1] == "ob":
                    current = objects.get(m[2], "")
                continue
            m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line)
            if m:
                if m[3]:
                    functions[m[2]] = m[3]
                if m[1] == "fn" and current and current.endswith(object_suffix):
                    entered.add(functions[m[2]])
    return entered


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    binary, output = os.path.abspath(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="order-file-") as tmp:
        # callgrind gives up on the Swift toolchain's DWARF: a copy without it, symbols kept.
        profiled = os.path.join(tmp, "replenishd-profiled")
        subprocess.run(["strip", "--strip-debug", "-o", profiled, binary], check=True)
        broker = Broker(tmp).start()
        try:
            cfg = write(os.path.join(tmp, "replenishd.yaml"),
                        profile_config("order-file", broker.url, os.path.join(tmp, "state.db")))
            out = os.path.join(tmp, "callgrind.out")
            daemon_log = os.path.join(tmp, "daemon.log")
            env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
            with open(daemon_log, "w") as logf:
                proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
                                         profiled, "run", "--config", cfg, "--simulate", "--time-scale", "60"],
                                        stdout=logf, stderr=subprocess.STDOUT, env=env)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and proc.poll() is None:
                    text = open(daemon_log, errors="replace").read()
                    if "MQTT connected" in text and "status report queued" in text:
                        break
                    time.sleep(0.5)
                else:
                    proc.kill()
                    sys.exit(f"order-file: the daemon did not start and connect under valgrind; see its log:\n"
                             + open(daemon_log, errors="replace").read()[-3000:])
                log(f"started and connected under valgrind; running {IDLE_SECONDS:.0f} s more")
                time.sleep(IDLE_SECONDS)
                proc.send_signal(signal.SIGTERM)
                proc.wait(120)
            entered = entered_functions(out, "replenishd-profiled")
        finally:
            broker.stop()
        names = sorted(entered & defined_functions(binary), key=lambda n: (LATER.get(module(n), 0), n))
    if len(names) < 1000:
        sys.exit(f"order-file: only {len(names)} functions recorded; refusing to write {output}")
    with open(output + ".new", "w") as f:
        f.write("\n".join(names) + "\n")
    os.replace(output + ".new", output)
    log(f"{output}: {len(names)} functions")


if __name__ == "__main__":
    main()
