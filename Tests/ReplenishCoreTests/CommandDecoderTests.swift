import Foundation
@testable import ReplenishCore
import Testing

@Suite("command decoding")
struct CommandDecoderTests {
    @Test("a well-formed reportNow decodes")
    func reportNow() throws {
        let request = try CommandDecoder.decode(name: "reportNow", payload: Array(#"{"correlationId":"abc-1"}"#.utf8)).get()
        #expect(request == CommandRequest(correlationId: "abc-1", command: .reportNow))
        #expect(request.name == .reportNow)
    }

    @Test("what is refused, and why", arguments: [
        ("reportNow", "", nil, "invalid JSON"),
        ("reportNow", "null", nil, "expected a JSON object"),
        ("reportNow", #"{"correlationId":""}"#, nil, "correlationId must be 1 to 128 bytes of printable text"),
        ("reportNow", #"{"correlationId":"a\u0007b"}"#, nil, "correlationId must be 1 to 128 bytes of printable text"),
        ("reportNow", "{\"correlationId\":\"\(String(repeating: "x", count: 129))\"}", nil,
         "correlationId must be 1 to 128 bytes of printable text"),
        ("reportNow", #"{"correlationId":"c","slots":[]}"#, "c", "unknown field 'slots'"),
        ("report\u{1}Now", #"{"correlationId":"c"}"#, "c", "unknown command 'report?Now'"),
        ("inventoryAdjust", #"{"correlationId":"c"}"#, "c", "missing slot"),
    ] as [(String, String, String?, String)])
    func refused(name: String, payload: String, correlationId: String?, reason: String) {
        guard case .failure(let rejection) = CommandDecoder.decode(name: name, payload: Array(payload.utf8)) else {
            Issue.record("accepted \(payload)")
            return
        }
        #expect(rejection.correlationId == correlationId)
        #expect(rejection.reason.hasPrefix(reason), "\(rejection.reason)")
    }

    static let delivery = Timestamp.parse("2026-11-29T10:00:00Z")!

    @Test("order commands decode to typed commands", arguments: [
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o-1"}"#,
         Command.orderPlaced(slot: "beans", orderId: "o-1", quantity: nil, unit: nil, asin: nil, estimatedDelivery: nil)),
        ("orderPlaced",
         #"{"correlationId":"c","slot":"beans","orderId":"o-1","quantity":2.5,"unit":"KILOGRAM","asin":"B00TEST123","estimatedDeliveryDate":"2026-11-29T10:00:00Z"}"#,
         Command.orderPlaced(slot: "beans", orderId: "o-1", quantity: 2.5, unit: "KILOGRAM", asin: "B00TEST123",
                             estimatedDelivery: delivery)),
        ("orderShipped", #"{"correlationId":"c","slot":"beans","orderId":"o-1","quantity":1000}"#,
         Command.orderShipped(slot: "beans", orderId: "o-1", quantity: 1000, estimatedDelivery: nil)),
        ("orderShipped",
         #"{"correlationId":"c","slot":"beans","orderId":"o-1","quantity":1000,"estimatedDeliveryDate":"2026-11-29T10:00:00Z"}"#,
         Command.orderShipped(slot: "beans", orderId: "o-1", quantity: 1000, estimatedDelivery: delivery)),
        ("orderCancelled", #"{"correlationId":"c","slot":"beans","orderId":"o-1"}"#,
         Command.orderCancelled(slot: "beans", orderId: "o-1")),
        ("deregistered", #"{"correlationId":"c"}"#, Command.deregistered(slot: nil)),
        ("deregistered", #"{"correlationId":"c","slot":"beans"}"#, Command.deregistered(slot: "beans")),
        ("registered", #"{"correlationId":"c"}"#, Command.registered(slot: nil)),
        ("subscriptionChanged", #"{"correlationId":"c","slot":"beans","subscribed":false}"#,
         Command.subscriptionChanged(slot: "beans", subscribed: false)),
        ("subscriptionChanged", #"{"correlationId":"c","slot":"beans","subscribed":true}"#,
         Command.subscriptionChanged(slot: "beans", subscribed: true)),
        ("inventoryAdjust", #"{"correlationId":"c","slot":"beans","totalQuantityOnHand":0}"#,
         Command.inventoryAdjust(slot: "beans", onHand: 0, remaining: nil)),
        ("inventoryAdjust", #"{"correlationId":"c","slot":"beans","remainingQuantityInUnit":250.5}"#,
         Command.inventoryAdjust(slot: "beans", onHand: nil, remaining: 250.5)),
    ] as [(String, String, Command)])
    func orderCommands(name: String, payload: String, command: Command) throws {
        let request = try CommandDecoder.decode(name: name, payload: Array(payload.utf8), knownSlots: ["beans", "water"]).get()
        #expect(request == CommandRequest(correlationId: "c", command: command))
        #expect(request.name.rawValue == name)
    }

    @Test("each order-command schema violation has its own reason", arguments: [
        ("orderPlaced", #"{"correlationId":"c","orderId":"o-1"}"#, "missing slot"),
        ("orderPlaced", #"{"correlationId":"c","slot":7,"orderId":"o-1"}"#, "slot must be 1 to 64 bytes of printable text"),
        ("orderPlaced", #"{"correlationId":"c","slot":"","orderId":"o-1"}"#, "slot must be 1 to 64 bytes of printable text"),
        ("orderPlaced", #"{"correlationId":"c","slot":"toner","orderId":"o-1"}"#, "unknown slot 'toner' (known: beans, water)"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans"}"#, "missing orderId"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":""}"#, "orderId must be 1 to 128 bytes of printable text"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"a\nb"}"#, "orderId must be 1 to 128 bytes of printable text"),
        ("orderPlaced", "{\"correlationId\":\"c\",\"slot\":\"beans\",\"orderId\":\"\(String(repeating: "o", count: 129))\"}",
         "orderId must be 1 to 128 bytes of printable text"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":42}"#, "orderId must be 1 to 128 bytes of printable text"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o","quantity":0}"#, "quantity must be a positive number"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o","quantity":-1}"#, "quantity must be a positive number"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o","quantity":"2"}"#, "quantity must be a positive number"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o","quantity":true}"#, "quantity must be a positive number"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o","unit":""}"#, "unit must be 1 to 64 bytes of printable text"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o","asin":3}"#, "asin must be 1 to 64 bytes of printable text"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o","estimatedDeliveryDate":"29.11.2026"}"#,
         "estimatedDeliveryDate must be an ISO 8601 date-time such as 2026-11-29T10:00:00Z"),
        ("orderPlaced", #"{"correlationId":"c","slot":"beans","orderId":"o","instanceId":"x"}"#, "unknown field 'instanceId'"),
        ("orderShipped", #"{"correlationId":"c","slot":"beans","orderId":"o"}"#, "missing quantity"),
        ("orderShipped", #"{"correlationId":"c","slot":"beans","orderId":"o","quantity":null}"#, "quantity must be a positive number"),
        ("orderShipped", #"{"correlationId":"c","slot":"beans","orderId":"o","quantity":1,"asin":"B0"}"#, "unknown field 'asin'"),
        ("orderCancelled", #"{"correlationId":"c","slot":"beans"}"#, "missing orderId"),
        ("orderCancelled", #"{"correlationId":"c","slot":"beans","orderId":"o","quantity":1}"#, "unknown field 'quantity'"),
        ("registered", #"{"correlationId":"c","slot":"toner"}"#, "unknown slot 'toner'"),
        ("deregistered", #"{"correlationId":"c","reason":"x"}"#, "unknown field 'reason'"),
        ("subscriptionChanged", #"{"correlationId":"c","slot":"beans"}"#, "missing subscribed"),
        ("subscriptionChanged", #"{"correlationId":"c","slot":"beans","subscribed":1}"#, "subscribed must be true or false"),
        ("subscriptionChanged", #"{"correlationId":"c","slot":"beans","subscribed":"true"}"#, "subscribed must be true or false"),
        ("inventoryAdjust", #"{"correlationId":"c","slot":"beans"}"#,
         "inventoryAdjust needs totalQuantityOnHand or remainingQuantityInUnit"),
        ("inventoryAdjust", #"{"correlationId":"c","slot":"beans","totalQuantityOnHand":-1}"#,
         "totalQuantityOnHand must be a number from 0 to 1000000000"),
        ("inventoryAdjust", #"{"correlationId":"c","slot":"beans","remainingQuantityInUnit":false}"#,
         "remainingQuantityInUnit must be a number from 0 to 1000000000"),
        ("inventoryAdjust", #"{"slot":"beans","totalQuantityOnHand":1}"#, "missing correlationId"),
    ] as [(String, String, String)])
    func orderCommandRefused(name: String, payload: String, reason: String) {
        guard case .failure(let rejection) = CommandDecoder.decode(name: name, payload: Array(payload.utf8),
                                                                   knownSlots: ["beans", "water"]) else {
            Issue.record("accepted \(payload)")
            return
        }
        #expect(rejection.command == name)
        #expect(rejection.correlationId == (reason == "missing correlationId" ? nil : "c"))
        #expect(rejection.reason.hasPrefix(reason), "\(rejection.reason)")
    }

    @Test("without knownSlots any slot id is accepted")
    func anySlot() throws {
        let request = try CommandDecoder.decode(
            name: "orderCancelled", payload: Array(#"{"correlationId":"c","slot":"toner","orderId":"o"}"#.utf8)).get()
        #expect(request.command == .orderCancelled(slot: "toner", orderId: "o"))
        #expect(request.command.slot == "toner")
    }

    @Test("invalid UTF-8 and oversized payloads are refused before parsing")
    func refusedEarly() {
        #expect(CommandDecoder.decode(name: "reportNow", payload: [0x7B, 0xFF, 0x7D]).rejection == "payload is not UTF-8")
        let big = [UInt8](repeating: 0x20, count: CommandDecoder.maxPayloadBytes + 1)
        #expect(CommandDecoder.decode(name: "reportNow", payload: big).rejection
            == "payload of 4097 bytes exceeds the limit of 4096")
    }

    @Test("100,000 random and mutated payloads never crash the decoder and each gets an answer", arguments: [
        ("reportNow", #"{"correlationId":"c-1"}"#),
        ("orderPlaced", #"{"correlationId":"c-1","slot":"beans","orderId":"o-1","quantity":2,"estimatedDeliveryDate":"2026-11-29T10:00:00Z"}"#),
        ("subscriptionChanged", #"{"correlationId":"c-1","slot":"beans","subscribed":true}"#),
    ])
    func randomPayloads(name: String, seedPayload: String) {
        var random = SplitMix64(seed: 0xC0FFEE)
        let seed = Array(seedPayload.utf8)
        var accepted = 0
        for _ in 0..<100_000 {
            var payload = seed
            for _ in 0..<(1 + random.next() % 6) {
                let at = Int(random.next() % UInt64(payload.count + 1))
                switch random.next() % 3 {
                case 0 where at < payload.count: payload[at] = UInt8(truncatingIfNeeded: random.next())
                case 1: payload.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                default: if at < payload.count { payload.remove(at: at) }
                }
            }
            if case .success = CommandDecoder.decode(name: name, payload: payload, knownSlots: ["beans"]) { accepted += 1 }
        }
        #expect(accepted < 100_000)
    }
}

extension Result where Failure == CoreError {
    /// The reason answered; any other code than `.commandRejected` shows in it, so no test passes on it.
    var rejection: String? {
        if case .failure(let r) = self { r.code == .commandRejected ? r.reason : "\(r.code): \(r.reason)" } else { nil }
    }
}
