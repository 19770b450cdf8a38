#!/usr/bin/env python3
"""Checks real messages against the MQTT contract's schemas (schemas/, JSON Schema 2020-12).

  validate.py [--golden DIR] [--readme FILE] [--discovery FILE...] CAPTURE...

CAPTURE: JSON-lines files, or directories of *.jsonl, as the tests' Subscriber writes them under
REPLENISHD_CAPTURE_DIR and `replenishd demo --capture FILE` does: {"topic", "payload", "retained"}.
Each message goes to its schema by topic (status, events by `event`, replies, availability,
state; a reply on an MQTT 5 response topic by its `schema` field), and every item of every
slot's `alexa` array also against schemas/alexa/event-gateway.schema.json. Commands are input,
not device output, and the tests send hostile ones on purpose: a command is checked only when
the device answered it `ok` (every reply with its name and correlationId in the same capture
file ok), the rest are counted as skipped. The tests' probes and empty messages clearing a
retained topic are skipped too.

--golden DIR: every *.json there is a slot's `alexa` member (Tests/ReplenishCoreTests/Golden).
--readme FILE: the ```json examples of the README's contract section (see readme_examples).
--discovery FILE...: what `replenishd alexa-discovery` printed (schemas/alexa/discovery.schema.json).

Prints a count per schema; exits 1 when a message is invalid (with its file, line, topic, the
error and its JSON path) or when the captures hold no message at all.
"""

import argparse
import collections
import json
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from contract import ALEXA, Contract, NotJSON, parse, schema_for  # noqa: E402


class Run:
    def __init__(self, contract):
        self.contract = contract
        self.counts = collections.Counter()
        self.skipped = collections.Counter()
        self.failures = 0

    def check(self, name, instance, where, validator=None):
        if isinstance(instance, NotJSON):
            return self.fail(where, name, [("$", f"not JSON: {instance.reason}: {instance.text[:80]!r}")])
        errors = self.contract.errors(name, instance, validator)
        self.counts[name] += 1
        if errors:
            self.fail(where, name, errors)
        elif name == "status-1":
            for i, slot in enumerate(instance.get("slots", [])):
                self.check_alexa(slot.get("alexa"), f"{where} slots[{i}].alexa")

    def check_alexa(self, member, where):
        for j, message in enumerate(member):
            self.check(ALEXA, message, f"{where}[{j}]")

    def fail(self, where, name, errors):
        self.failures += 1
        print(f"INVALID {where} against {name}.schema.json:")
        for path, message in errors[:3]:
            print(f"    at {path}: {message[:300]}")
        if len(errors) > 3:
            print(f"    ... and {len(errors) - 3} more")

    def capture(self, path):
        lines = []
        for number, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if text.strip():
                lines.append((number, json.loads(text)))
        # Which commands the device answered ok: (name, correlationId) with no rejected reply.
        answers = collections.defaultdict(set)
        # Which desired documents the device applied: (base topic, version).
        applied = set()
        for _, line in lines:
            name, message = schema_for(line["topic"], line["payload"])
            if name == "reply-1" and isinstance(message, dict):
                answers[(str(message.get("command")), str(message.get("correlationId")))].add(str(message.get("status")))
            if name == "config-reported-1" and isinstance(message, dict) and message.get("status") == "applied":
                applied.add((line["topic"].rsplit("/", 2)[0], message.get("version")))
        for number, line in lines:
            topic = line["topic"]
            where = f"{path.name}:{number} {topic}" + (" (retained)" if line.get("retained") else "")
            name, message = schema_for(topic, line["payload"])
            if name is None:
                self.skipped[message] += 1
            elif name == "desired":
                base = topic.rsplit("/", 2)[0]
                if isinstance(message, dict) and (base, message.get("version")) in applied:
                    self.check("config-desired-1", message, where)
                else:
                    self.skipped["a desired configuration not applied (the tests' bad ones), or YAML"] += 1
            elif name.startswith("command:"):
                command = name.split(":", 1)[1]
                if answers.get((command, correlation_id(message))) == {"ok"} and not line.get("retained"):
                    self.check(f"command-{command}-1", message, where)
                else:
                    self.skipped["a command not answered ok (hostile, refused or unanswered)"] += 1
            else:
                if name not in self.contract.validators:
                    name = "event-1"  # an unknown event: event-1 names what is allowed
                self.check(name, message, where)
        return len(lines)

    def golden(self, directory):
        alexa = self.contract.subschema("status-1", "/$defs/alexa")
        for path in sorted(directory.glob("*.json")):
            member = json.loads(path.read_text())
            self.check("status-1#/$defs/alexa", member, str(path), alexa)
            self.check_alexa(member, str(path))

    def readme(self, path):
        slot = self.contract.subschema("status-1", "/$defs/slot")
        for number, example in readme_examples(path):
            where = f"{path.name}:{number}"
            if isinstance(example, NotJSON):
                self.fail(where, "?", [("$", f"a README example that is not JSON: {example.reason}")])
            elif "schema" in example:
                self.check(schema_name(example), example, where)
            elif "sensor" in example:
                self.check("status-1#/$defs/slot", example, where, slot)
                self.check_alexa(example.get("alexa"), where + " alexa")
            else:
                self.fail(where, "?", [("$", "a README example no schema is known for")])


def correlation_id(command):
    if not isinstance(command, dict):
        return None
    info = command.get("notificationInfo")
    found = command.get("correlationId") or (info.get("notificationId") if isinstance(info, dict) else None)
    return found if isinstance(found, str) else None


def schema_name(message):
    from contract import BY_SCHEMA_FIELD
    name = BY_SCHEMA_FIELD.get(message["schema"], "header-1")
    if name == "event-1":
        return f"event-{message.get('event')}-1"
    return name


def readme_examples(path):
    """The ```json blocks from "## The MQTT contract" to the next "## ": whole messages (with a
    `schema` member) or one status slot (with `sensor`); `…` in them stands for elided text."""
    text = path.read_text()
    start = text.index("## The MQTT contract")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end > 0 else len(text)]
    offset = text[:start].count("\n") + 1
    for match in re.finditer(r"```json\n(.*?)```", section, re.S):
        line = offset + section[:match.start()].count("\n") + 1
        try:
            yield line, json.loads(match.group(1))
        except ValueError as error:
            yield line, NotJSON(match.group(1), str(error))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("captures", nargs="*", type=pathlib.Path)
    parser.add_argument("--golden", type=pathlib.Path)
    parser.add_argument("--readme", type=pathlib.Path)
    parser.add_argument("--discovery", type=pathlib.Path, nargs="+", default=[])
    args = parser.parse_args()

    run = Run(Contract())
    captured = 0
    files = []
    for given in args.captures:
        files += sorted(given.glob("*.jsonl")) if given.is_dir() else [given]
    for path in files:
        captured += run.capture(path)
    if args.golden:
        run.golden(args.golden)
    if args.readme:
        run.readme(args.readme)
    for path in args.discovery:
        run.check("alexa/discovery", parse(path.read_text()), str(path))

    width = max((len(n) for n in run.counts), default=0)
    if args.captures:
        print(f"contract: {captured} captured messages in {len(files)} files")
    for name, count in sorted(run.counts.items()):
        print(f"  {name:<{width}}  {count}")
    for why, count in sorted(run.skipped.items()):
        print(f"  skipped {count}: {why}")
    if args.captures and captured == 0:
        print("contract: nothing was captured (is REPLENISHD_CAPTURE_DIR reaching the tests?)")
        return 1
    if run.failures:
        print(f"contract: {run.failures} invalid")
        return 1
    print("contract: every message valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
