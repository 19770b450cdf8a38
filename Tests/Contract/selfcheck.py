#!/usr/bin/env python3
"""Shows that the schemas can fail: well-formed messages (built here, in the shapes the device
writes) must pass, and each deliberately broken copy must be rejected with the expected JSON
path. Run by `make test` before the captured messages are checked. Exits 1 on any surprise."""

import copy
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from contract import ALEXA, Contract  # noqa: E402

HEADER = {"messageId": "cm-000123-1042", "seq": 1042, "deviceId": "cm-000123",
          "generatedAt": "2026-11-22T03:00:00Z", "clock": "synchronized", "agentVersion": "0.1.0",
          "configHash": "9f2c41d07ab3e615"}
LEVEL = {"namespace": "Alexa.InventoryLevelSensor", "instance": "WaterTank.Level", "name": "level",
         "value": {"@type": "Volume", "value": 1234.5, "unit": "MILLILITER"},
         "timeOfSample": "2026-11-22T02:55:00Z", "uncertaintyInMilliseconds": 0}
CHANGE = {"event": {"header": {"namespace": "Alexa", "name": "ChangeReport",
                               "messageId": "5b0d3c1e-8f7a-5e0b-9a51-2c4d7e6f8a90", "payloadVersion": "3"},
                    "endpoint": {"endpointId": "cm-000123"},
                    "payload": {"change": {"cause": {"type": "PERIODIC_POLL"}, "properties": [LEVEL]}}},
          "context": {"properties": []}}
CONSUMED = {"event": {"header": {"namespace": "Alexa.InventoryUsageSensor", "name": "InventoryConsumed",
                                 "instance": "Descaler.Doses", "messageId": "0f6e2a4c-1b3d-5c7e-8f90-a1b2c3d4e5f6",
                                 "payloadVersion": "3"},
                      "endpoint": {"endpointId": "cm-000123"},
                      "payload": {"usage": {"@type": "Count", "value": 3}, "timeOfSample": "2026-11-22T02:55:00Z"}}}
REPLACED = {"event": {"header": {"namespace": "Alexa.InventoryLevelUsageSensor", "name": "InventoryReplaced",
                                 "instance": "WaterFilter.Cartridge", "messageId": "7c9e6679-7425-50de-944b-e07fc1f90ae7",
                                 "payloadVersion": "3"},
                      "endpoint": {"endpointId": "cm-000123"},
                      "payload": {"level": {"@type": "Volume", "value": 50, "unit": "LITER"},
                                  "timeOfSample": "2026-11-22T02:50:00Z"}}}
FILTER_CONSUMED = copy.deepcopy(CONSUMED)
FILTER_CONSUMED["event"]["header"].update(namespace="Alexa.InventoryLevelUsageSensor", instance="WaterFilter.Cartridge")
SLOT = {"slot": "water", "sensor": "level", "measurement": {"type": "Volume", "unit": "MILLILITER"},
        "remainingQuantityInUnit": 1234.5, "originalQuantityInUnit": 1800, "consumedSinceLastReport": 310.2,
        "consumedTotal": 18842.7, "averageDailyConsumption": 905.1, "lastUseDate": "2026-11-22T02:41:07Z",
        "expectedReplenishmentDate": "2026-11-23T11:23:00Z", "totalQuantityOnHand": 1800, "health": "ok",
        "replenishment": {"mode": "cloud", "state": "idle", "orderId": None, "requestedAt": None,
                          "suppressedUntil": None, "cancellations": 0, "totalQuantityOnHand": 1800},
        "alexa": [CHANGE],
        "drs": {"expectedReplenishmentDate": "2026-11-23T11:23:00Z", "lastUseDate": "2026-11-22T02:41:07Z",
                "originalQuantityInUnit": 1800, "remainingQuantityInUnit": 1234, "totalQuantityOnHand": 1800}}
STATUS = {"schema": "replenish.status/1", **HEADER, "reason": "daily", "slots": [SLOT]}
ORDER = {"schema": "replenish.event/1", **HEADER, "event": "orderStateChanged", "slot": "beans",
         "at": "2026-11-22T02:58:00Z", "orderId": "o-1", "state": "placed", "previousState": "none"}
REPLY = {"schema": "replenish.reply/1", **HEADER, "correlationId": "c-42", "command": "reportNow",
         "status": "ok", "error": None}
REJECTED = {"schema": "replenish.config-reported/1", **HEADER, "version": 7, "status": "rejected",
            "problems": [{"keyPath": "slots[0].low_threshold", "line": 1, "column": 40, "document": "desired",
                          "message": "expected a quantity from 0 to the capacity (1800), got 2000"}]}
DISCOVERY = {"endpointId": "cm-000123", "capabilities": [
    {"type": "AlexaInterface", "interface": "Alexa", "version": "3"},
    {"type": "AlexaInterface", "interface": "Alexa.InventoryUsageSensor", "version": "3", "instance": "CoffeePods.Usage",
     "capabilityResources": {"friendlyNames": [{"@type": "text", "value": {"text": "Coffee pods", "locale": "en-US"}}]},
     "configuration": {"measurement": {"@type": "Count"}}}]}
SHIPPED_DRS = {"notificationInfo": {"notificationType": "ItemShippedNotification", "notificationId": "n-7"},
               "orderInfo": {"instanceId": "amzn1.dash.v2.o.1", "slotId": "beans-slot",
                             "productInfo": [{"asin": "B000TEST", "quantity": 1, "unit": "count",
                                              "estimatedDeliveryDate": "2026-12-09"}]}}


def broken(message, path, value):
    """A copy of `message` with the member at `path` set to `value` (or removed for DELETE)."""
    message = copy.deepcopy(message)
    target = message
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return message


DELETE = object()
SCRATCH = ["slots", 0, "alexa", 0, "event"]

# (what, schema, message, whether it must pass, the JSON path the rejection must name)
CASES = [
    ("a status report as the device writes it", "status-1", STATUS, True, None),
    ("an orderStateChanged event", "event-orderStateChanged-1", ORDER, True, None),
    ("a reply", "reply-1", REPLY, True, None),
    ("a ChangeReport without scope, as the device sends it", ALEXA, CHANGE, True, None),
    ("an InventoryConsumed", ALEXA, CONSUMED, True, None),
    ("a DRS ItemShippedNotification as orderShipped", "command-orderShipped-1", SHIPPED_DRS, True, None),
    ("a float where DRS wants an integer", "status-1",
     broken(STATUS, ["slots", 0, "drs", "remainingQuantityInUnit"], 166.021), False, "$.slots[0].drs.remainingQuantityInUnit"),
    ("a status report without messageId", "status-1", broken(STATUS, ["messageId"], DELETE), False, "$"),
    ("an undocumented member", "event-orderStateChanged-1", broken(ORDER, ["note"], "x"), False, "$"),
    ("an orderStateChanged through the event dispatcher", "event-1", ORDER, True, None),
    ("an undocumented member, through the event dispatcher", "event-1", broken(ORDER, ["note"], "x"), False, "$"),
    ("an unknown event", "event-1", broken(ORDER, ["event"], "orderLost"), False, "$.event"),
    ("previousState null instead of \"none\"", "event-orderStateChanged-1",
     broken(ORDER, ["previousState"], None), False, "$.previousState"),
    ("a date with fractional seconds in our header", "reply-1",
     broken(REPLY, ["generatedAt"], "2026-11-22T03:00:00.5Z"), False, "$.generatedAt"),
    ("an ok reply with an error", "reply-1", broken(REPLY, ["error"], "why"), False, "$.error"),
    ("an Alexa messageId with '_'", ALEXA,
     broken(CHANGE, ["event", "header", "messageId"], "5b0d3c1e_8f7a"), False, "$.event.header.messageId"),
    ("an Alexa timeOfSample with 6 fractional digits", ALEXA,
     broken(CHANGE, ["event", "payload", "change", "properties", 0, "timeOfSample"], "2026-11-22T02:55:00.123456Z"),
     False, "$.event.payload.change.properties[0].timeOfSample"),
    ("payloadVersion 2", ALEXA, broken(CHANGE, ["event", "header", "payloadVersion"], "2"), False, "$.event.header.payloadVersion"),
    ("an unknown ChangeReport cause", ALEXA,
     broken(CHANGE, ["event", "payload", "change", "cause", "type"], "SOMETHING"), False, "$.event.payload.change.cause.type"),
    ("an endpointId with a space", ALEXA, broken(CHANGE, ["event", "endpoint", "endpointId"], "cm 1"), False, "$.event.endpoint.endpointId"),
    ("a negative uncertainty", ALEXA,
     broken(CHANGE, ["event", "payload", "change", "properties", 0, "uncertaintyInMilliseconds"], -1),
     False, "$.event.payload.change.properties[0].uncertaintyInMilliseconds"),
    ("a Count of 2.5", ALEXA, broken(CONSUMED, ["event", "payload", "usage", "value"], 2.5), False, "$.event.payload.usage.value"),
    ("US_GALLON, not an Alexa unit", ALEXA,
     broken(CHANGE, ["event", "payload", "change", "properties", 0, "value", "unit"], "US_GALLON"),
     False, "$.event.payload.change.properties[0].value.unit"),
    ("a scope that is not a BearerToken", ALEXA,
     broken(CHANGE, ["event", "endpoint", "scope"], {"type": "Cookie", "token": "t"}), False, "$.event.endpoint.scope.type"),
    ("a levelUsage slot's consumption and replacement", "status-1",
     broken(broken(STATUS, ["slots", 0, "sensor"], "levelUsage"), ["slots", 0, "alexa"], [FILTER_CONSUMED, REPLACED]), True, None),
    ("a levelUsage slot's uses before and after a replacement", "status-1",
     broken(broken(STATUS, ["slots", 0, "sensor"], "levelUsage"), ["slots", 0, "alexa"],
            [FILTER_CONSUMED, REPLACED, FILTER_CONSUMED]), True, None),
    ("a usage slot's consumption", "status-1",
     broken(broken(STATUS, ["slots", 0, "sensor"], "usage"), ["slots", 0, "alexa"], [CONSUMED]), True, None),
    ("a usage slot sending a ChangeReport", "status-1", broken(STATUS, ["slots", 0, "sensor"], "usage"), False, None),
    ("a usage slot sending the levelUsage namespace", "status-1",
     broken(broken(STATUS, ["slots", 0, "sensor"], "usage"), ["slots", 0, "alexa"], [FILTER_CONSUMED]), False, None),
    ("a level slot sending two ChangeReports", "status-1", broken(STATUS, ["slots", 0, "alexa"], [CHANGE, CHANGE]), False, None),
    ("an InventoryReplaced without its level", ALEXA, broken(REPLACED, ["event", "payload", "level"], DELETE), False, "$.event.payload"),
    ("a ChangeReport without a changed property", ALEXA,
     broken(CHANGE, ["event", "payload", "change", "properties"], []), False, "$.event.payload.change.properties"),
    ("a Percentage of 120", ALEXA,
     broken(CHANGE, ["event", "payload", "change", "properties", 0, "value"], {"@type": "Percentage", "value": 120}),
     False, "$.event.payload.change.properties[0].value.value"),
    ("an alexa member that is null", "status-1", broken(STATUS, ["slots", 0, "alexa"], None), False, "$.slots[0].alexa"),
    ("a DRS notification with two products", "command-orderShipped-1",
     broken(SHIPPED_DRS, ["orderInfo", "productInfo"], [{}, {}]), False, None),
    ("a config answer as the device writes it", "config-reported-1", REJECTED, True, None),
    ("a rejected config answer without its problems", "config-reported-1", broken(REJECTED, ["problems"], DELETE), False, None),
    ("a rolled-back config answer without its reason", "config-reported-1",
     broken(broken(REJECTED, ["problems"], DELETE), ["status"], "rolled-back"), False, None),
    ("alexa-discovery's output", "alexa/discovery", DISCOVERY, True, None),
    ("a usage sensor declaring the level property", "alexa/discovery",
     broken(DISCOVERY, ["capabilities", 1, "properties"], {"supported": [{"name": "level"}], "proactivelyReported": True,
                                                          "retrievable": False}), False, None),
    ("an endpoint without the Alexa interface first", "alexa/discovery",
     broken(DISCOVERY, ["capabilities", 0], DISCOVERY["capabilities"][1]), False, None),
    ("availability other than online/offline", "availability-1", "maybe", False, "$"),
]


def main():
    contract = Contract()
    complete = contract.subschema(ALEXA, "/$defs/complete")
    surprises = 0
    checked = 0

    def expect(what, errors, valid, path):
        nonlocal surprises, checked
        checked += 1
        if valid is True and errors:
            surprises += 1
            print(f"SELF-CHECK: {what} should be valid, got {errors[0][0]}: {errors[0][1][:200]}")
        elif valid is False and not errors:
            surprises += 1
            print(f"SELF-CHECK: {what} should be rejected and was not")
        elif valid is False and path and errors[0][0] != path:
            surprises += 1
            print(f"SELF-CHECK: {what} rejected at {errors[0][0]}, expected {path}: {errors[0][1][:200]}")

    for what, name, message, valid, path in CASES:
        expect(what, contract.errors(name, message), valid, path)
    expect("a ChangeReport without scope, for the cloud (complete)", contract.errors(ALEXA, CHANGE, complete), False, "$.event.endpoint")
    scoped = broken(CHANGE, ["event", "endpoint", "scope"], {"type": "BearerToken", "token": "access-token"})
    expect("a ChangeReport with scope, for the cloud (complete)", contract.errors(ALEXA, scoped, complete), True, None)
    if surprises:
        print(f"self-check: {surprises} of {checked} cases surprised")
        return 1
    print(f"self-check: {checked} cases, every broken message rejected and every good one accepted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
