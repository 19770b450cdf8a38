"""The MQTT contract's schemas (schemas/ at the repository top) loaded for validation: one
validator per schema file, every file reachable from the others by its $id. Works with Debian
12's python3-jsonschema 4.10 (RefResolver) and with 4.18 and later (referencing)."""

import json
import pathlib
import warnings

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / "schemas"
ALEXA = "alexa/event-gateway"

# The schema field of a message → the schema file that holds it (replies may arrive on any
# MQTT 5 response topic, so they are recognised by this field).
BY_SCHEMA_FIELD = {
    "replenish.status/1": "status-1",
    "replenish.event/1": "event-1",
    "replenish.reply/1": "reply-1",
    "replenish.state/1": "state-1",
    "replenish.config-reported/1": "config-reported-1",
}


class Contract:
    def __init__(self, root=SCHEMAS):
        self.documents = {}  # name (path under schemas/ without .schema.json) → schema
        for path in sorted(root.rglob("*.schema.json")):
            name = str(path.relative_to(root))[: -len(".schema.json")]
            document = json.loads(path.read_text())
            Draft202012Validator.check_schema(document)
            self.documents[name] = document
        self.validators = {name: self._validator(schema) for name, schema in self.documents.items()}

    def _validator(self, schema):
        try:
            from referencing import Registry, Resource  # jsonschema 4.18 and later
            registry = Registry().with_resources(
                (doc["$id"], Resource.from_contents(doc)) for doc in self.documents.values())
            return Draft202012Validator(schema, registry=registry)
        except ImportError:
            store = {doc["$id"]: doc for doc in self.documents.values()}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                resolver = jsonschema.RefResolver.from_schema(schema, store=store)
            return Draft202012Validator(schema, resolver=resolver)

    def subschema(self, name, pointer):
        """A validator for `name`'s subschema at the JSON pointer `pointer` (e.g. /$defs/slot)."""
        base = self.documents[name]
        return self._validator({"$schema": base["$schema"], "$ref": base["$id"] + "#" + pointer})

    def errors(self, name, instance, validator=None):
        """The errors of `instance` against schema `name`: [(JSON path, message)], best first."""
        validator = validator or self.validators[name]
        found = list(validator.iter_errors(instance))
        if not found:
            return []
        # jsonschema 4.10 also reports a property that failed its own schema as unevaluated:
        # name the property's own error first.
        own = [e for e in found if e.validator != "unevaluatedProperties"] or found
        best = best_match(own)
        rest = [e for e in found if e is not best]
        unique = []
        for error in [(path_of(e), e.message) for e in [best] + rest]:
            if error not in unique:
                unique.append(error)
        return unique


def path_of(error):
    """The JSON path of the deepest error behind `error` (anyOf/oneOf keep theirs in context)."""
    while error.context:
        error = best_match(error.context)
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def schema_for(topic, payload):
    """The schema a captured message is checked against, or (None, why it is skipped).

    Returns (name, instance): name is a schema under schemas/, or "command:{name}" for a command
    (checked only once the device answered it ok), or None with the reason in instance."""
    leaf = topic.rsplit("/", 1)[-1]
    parent = topic.rsplit("/", 2)[-2] if topic.count("/") >= 1 else ""
    if leaf == "test-probe" or leaf.startswith("demo-probe-"):
        return None, "the tests' or the demo's own probe"
    if payload == "" and leaf in ("availability", "state"):
        return None, "an empty message clearing a retained one"
    if parent == "commands":
        return "command:" + leaf, parse(payload)
    if parent == "config" and leaf == "desired":
        return "desired", parse(payload)  # checked once the device answered it applied
    message = parse(payload)
    if isinstance(message, dict) and message.get("syntheticTestRow") is True:
        return None, "outbox rows a test wrote itself (syntheticTestRow)"
    if leaf == "availability":
        return "availability-1", payload
    if leaf == "events" and isinstance(message, dict):
        return f"event-{message.get('event')}-1", message
    named = {"status": "status-1", "replies": "reply-1", "state": "state-1", "reported": "config-reported-1"}.get(leaf)
    if named:
        return named, message
    if isinstance(message, dict) and message.get("schema") in BY_SCHEMA_FIELD:
        return BY_SCHEMA_FIELD[message["schema"]], message  # an MQTT 5 response topic
    return None, f"not a topic of the contract: {topic}"


class NotJSON:
    def __init__(self, text, reason):
        self.text, self.reason = text, reason


def parse(payload):
    try:
        return json.loads(payload)
    except (ValueError, RecursionError) as error:  # the tests' hostile commands nest deeply
        return NotJSON(payload, str(error) or type(error).__name__)
