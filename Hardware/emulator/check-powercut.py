#!/usr/bin/env python3
"""The remote-configuration side of the power-cut series (run.sh --powercut): the host published
desired documents (WORK/desired/V.json) while qemu was being killed; this checks what every cut
left on the guest's disk and what reached the broker (WORK/delivered.log):

1. the overlay (`<storage.path>.remote.yaml`) and `.previous` found at each boot, and at the end,
   are absent (`.previous` also empty: the file alone) or one of the documents sent, whole;
2. the daemon started on the file with that overlay merged over it (its configHash, FNV-1a of
   the file, a NUL and the overlay, as the daemon computes it; the file's alone without one);
3. every `applied` answer carries the hash of the document of its version, and no cut lost one:
   the overlay after the cut is that version or a later one;
4. at the end the overlay in force was answered `applied`, the last document sent was answered,
   nothing waits for confirmation, and the last report and `replenishd status` carry its hash.

usage: check-powercut.py WORK CUTS; prints `remote: ...` lines, exits 1 on a failed check.
"""
import base64
import json
import os
import re
import sys


def fnv(data):
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % value


def console(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "").split("\n")
    except FileNotFoundError:
        return []


def main():
    work, cuts = sys.argv[1], int(sys.argv[2])
    local = open(os.path.join(work, "replenishd.yaml"), "rb").read()
    documents = {}  # text -> version
    for name in os.listdir(os.path.join(work, "desired")):
        text = open(os.path.join(work, "desired", name), "rb").read()
        documents[text] = int(name.split(".")[0])
    hash_of = {v: fnv(local + b"\0" + t) for t, v in documents.items()}
    failures = []

    # Messages that reached the broker, one per seq.
    messages = {}
    for line in console(os.path.join(work, "delivered.log")):
        topic, _, payload = line.partition(" ")
        try:
            body = json.loads(payload)
        except ValueError:
            continue
        if isinstance(body, dict) and "seq" in body:
            messages.setdefault(body["seq"], (topic, body))
    answers = [(seq, body) for seq, (topic, body) in sorted(messages.items()) if topic.endswith("/config/reported")]
    reports = [(seq, body) for seq, (topic, body) in sorted(messages.items()) if topic.endswith("/status")]

    def version_of(field):
        """The version of an overlay file as the guest printed it: None (absent), 0 (empty), V, or -1 (no document sent)."""
        if field == "none":
            return None
        if field == "empty":
            return 0
        return documents.get(base64.b64decode(field), -1)

    def described(version):
        return {None: "no overlay", 0: "an empty overlay", -1: "an overlay that is no document sent"}.get(
            version, "overlay version %s" % version)

    # 1 and 2: the disk at every boot (after each cut) and at the end; the daemon's start.
    boots = [("cut %d" % i, "cut-%d.log" % i) for i in range(1, cuts + 1)] + [("final", "final.log")]
    snapshots = []  # (boot, moment, lastSeq, overlay version, previous version, tmp)
    starts = checked_starts = 0
    for boot, log in boots:
        lines = console(os.path.join(work, log))
        disk = {}
        for line in lines:
            match = re.search(r"POWERCUT disk (\w+) lastSeq=(\d+) overlay=(\S+) previous=(\S+) tmp=(\w+)", line)
            if match:
                moment, seq, overlay, previous, tmp = match.groups()
                snapshot = (boot, moment, int(seq), version_of(overlay), version_of(previous), tmp)
                snapshots.append(snapshot)
                disk[moment] = snapshot
                if snapshot[3] in (-1, 0):
                    failures.append("%s, %s: the overlay is no document sent: %r" % (boot, moment, base64.b64decode(overlay)[:200]))
                if snapshot[4] == -1:
                    failures.append("%s, %s: .previous is no document sent: %r" % (boot, moment, base64.b64decode(previous)[:200]))
        started = [m.group(1) for m in (re.search(r"replenishd starting .*config=([0-9a-f]{16})", l) for l in lines) if m]
        if "start" in disk and started and disk["start"][3] != -1:
            starts += 1
            overlay = disk["start"][3]
            expected = hash_of.get(overlay, fnv(local))
            if started[0] == expected:
                checked_starts += 1
            else:
                failures.append("%s: the daemon started on config %s, the file with %s is %s"
                                % (boot, started[0], described(overlay), expected))

    # 3: applied answers name their document; none is lost by the next cut.
    counts = {}
    for seq, body in answers:
        counts[body.get("status")] = counts.get(body.get("status"), 0) + 1
        if body.get("status") == "applied" and body.get("configHash") != hash_of.get(body.get("version")):
            failures.append("seq %d: applied version %s with configHash %s, its document's is %s"
                            % (seq, body.get("version"), body.get("configHash"), hash_of.get(body.get("version"))))
    kept = durable = 0
    for boot, moment, last_seq, overlay, _, _ in snapshots:
        if moment != "start":
            continue
        before = [b for s, b in answers if s <= last_seq and b.get("status") in ("applied", "rolled-back")]
        if not before:
            continue
        kept += 1
        newest = before[-1]
        version = newest.get("version")
        if newest["status"] == "applied" and (overlay or 0) < version or overlay == -1:
            failures.append("%s: version %s was answered applied before the cut, after it the disk has %s"
                            % (boot, version, described(overlay)))
        elif newest["status"] == "rolled-back" and overlay == version:
            failures.append("%s: version %s was rolled back before the cut and is in force after it" % (boot, version))
        else:
            durable += 1

    # Where the cuts landed, from the disk after each (the next boot's start).
    landed = {"unanswered": 0, "unkept": 0, "tentative": 0}
    newest_sent = {}
    for line in console(os.path.join(work, "cuts.log")):
        if line:
            cut, version = line.split()
            newest_sent[int(cut)] = int(version)
    start_of = {s[0]: s for s in snapshots if s[1] == "start"}
    starts_after = [(i, start_of[boots[i][0]]) for i in range(1, cuts + 1) if boots[i][0] in start_of]
    for i, (_, _, last_seq, overlay, previous, _) in starts_after:
        answered = [b.get("version") for s, b in answers if s <= last_seq and b.get("status") in ("applied", "rolled-back")]
        if overlay and overlay > max(answered, default=0):
            landed["unanswered"] += 1
        if previous is not None:
            landed["tentative"] += 1
        if (overlay or 0) < newest_sent.get(i, 0):
            landed["unkept"] += 1

    # 4: the end.
    sent = max(documents.values(), default=0)
    end = [s for s in snapshots if s[1] == "end"]
    final_lines = console(os.path.join(work, "final.log"))
    status = next((l for l in final_lines if "POWERCUT status " in l), "")
    final_version = None
    if not end:
        failures.append("the final boot printed no disk state")
    else:
        _, _, _, final_version, previous, _ = end[0]
        final_hash = hash_of.get(final_version, fnv(local))
        if previous is not None:
            failures.append("at the end a connection change still waits for its confirmation (.previous is there)")
        if final_version and not any(b.get("status") == "applied" and b.get("version") == final_version for _, b in answers):
            failures.append("the overlay in force at the end, version %s, was never answered applied" % final_version)
        if not any(b.get("version") == sent for _, b in answers):
            failures.append("the last document sent, version %d, was never answered" % sent)
        if not reports or reports[-1][1].get("configHash") != final_hash:
            failures.append("the last report carries config %s, the file with %s (in force at the end) is %s"
                            % (reports[-1][1].get("configHash") if reports else None, described(final_version), final_hash))
        if '"configHash" : "%s"' % final_hash not in status:
            failures.append("replenishd status shows %r, expected config %s" % (status, final_hash))

    tentative = sum(1 for v in documents.values() if v % 3 == 0)  # run.sh changes mqtt.keepalive in these
    whole = sum(1 for s in snapshots if s[3] not in (-1, 0) and s[4] != -1)
    print("emulator: remote: %d documents sent (%d connection changes), answers: %d applied, %d rejected, %d rolled back"
          % (len(documents), tentative, counts.get("applied", 0), counts.get("rejected", 0), counts.get("rolled-back", 0)))
    print("emulator: remote: overlays whole %d/%d, daemon started on file + overlay %d/%d, applied answers kept across cuts %d/%d,"
          " in force at the end: version %s" % (whole, len(snapshots), checked_starts, starts, durable, kept, final_version))
    print("emulator: remote: of %d cuts (the next boot saw the disk), %d came after an overlay was kept and before its answer,"
          " %d with a connection change unconfirmed, %d before the newest document was kept (taken from the retained copy"
          " at the next boot)" % (len(starts_after), landed["unanswered"], landed["tentative"], landed["unkept"]))
    for failure in failures:
        print("emulator: remote FAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
