#!/usr/bin/env python3
"""Checks what the simulated-days guest (run.sh --days) delivered: a daily report at 03:00 of
each day, 2027-03-02 to 2027-03-04, for a water level that fell 200 mL at noon of 03-02 and 03-03
(1500 -> 1100 mL). From 03-03 on, the average over closed whole days is 200 mL and the run-out
date is the report's time plus remaining / 200 days. Prints RESULT lines; exits 1 on a failure.
usage: check-days.py DELIVERED_LOG   (mosquitto_sub -v output: topic, a space, the payload)"""
import json
import sys
from datetime import datetime, timedelta

reports = {}
for line in open(sys.argv[1], errors="replace"):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if not topic.endswith("/status"):
        continue
    msg = json.loads(payload)
    if msg.get("reason") != "daily":
        continue
    water = next(s for s in msg["slots"] if s["slot"] == "water")
    reports[msg["generatedAt"][:10]] = (msg, water)

failures = 0


def check(name, ok, detail):
    global failures
    print(f"RESULT days-{name} {'ok' if ok else 'FAIL'} {detail}")
    failures += 0 if ok else 1


def at(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


days = [f"2027-03-0{d}" for d in range(2, 5)]
check("daily-reports", all(d in reports for d in days), f"daily reports on {sorted(reports)}")
for n, day in enumerate(days):
    if day not in reports:
        continue
    msg, water = reports[day]
    remaining = 1500 - 200 * n
    check(f"{day}-level", water["remainingQuantityInUnit"] == remaining,
          f"{day} {msg['generatedAt']}: remaining {water['remainingQuantityInUnit']} (want {remaining}), "
          f"consumed total {water['consumedTotal']}")
    if n == 0:
        continue  # only the partial boot day is closed: no whole day to average yet
    average = water["averageDailyConsumption"]
    check(f"{day}-average", average == 200, f"average {average} mL/day (want 200)")
    want = at(msg["generatedAt"]) + timedelta(days=remaining / 200)
    got = water["expectedReplenishmentDate"]
    check(f"{day}-runout", got is not None and abs((at(got) - want).total_seconds()) <= 60,
          f"run-out {got} (want {want:%Y-%m-%dT%H:%M:%SZ})")
sys.exit(1 if failures else 0)
