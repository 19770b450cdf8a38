import Foundation
@testable import ReplenishCore
import Testing

/// `DeviceBook.take`, the one entry point per input, driven by tables: inputs in, the step the
/// keeper would commit out (messages, whether the book is written, what is logged). No SQLite,
/// no queues, no async code.
@Suite("device book steps")
struct DeviceBookStepTests {
    /// What one step is expected to give.
    struct Expect: Sendable {
        /// `leaf:schema` of each message, in order.
        var messages: [String] = []
        var writesBook = false
        var reporting: [String]?
        var clearsTally = false
        /// Texts of the notes logged before the commit, and of those logged once committed (with their seq index).
        var notes: [String] = []
        var committed: [String] = []
        var failure = "ledger flush failed"
        var healthChanged: String?
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var steps: [(input: BookInput, expect: Expect)]
        var maxMessageBytes = 128 * 1024
        var testDescription: String { name }
    }

    static let tank = SlotDefinition(id: "tank", sensor: .level, measurement: Measurement(type: .volume, unit: .milliliter),
                                     capacity: 1000, lowThreshold: 200)
    static let pods = SlotDefinition(id: "pods", sensor: .usage, measurement: Measurement(type: .count, unit: nil),
                                     capacity: 50)

    static func observed(_ slot: String, _ observations: [Observation], health: SlotHealth = .ok,
                         _ transition: HealthTransition? = nil) -> BookInput {
        .observed(slot: slot, at: Fixture.noon, observations: observations, health: health, transition: transition)
    }

    static func command(_ name: String, _ json: String, retained: Bool = false) -> BookInput {
        .command(name: name, payload: Array(json.utf8), retained: retained)
    }

    static let eviction = OutboxEviction(reports: 3, firstSeq: 4, lastSeq: 9)
    static let event = "events:replenish.event/1", status = "status:replenish.status/1", reply = "replies:replenish.reply/1"

    static let cases: [Case] = [
        Case(name: "the first sample writes the book, the next only once every slot has been sampled", steps: [
            (observed("tank", [.level(900)]), Expect(writesBook: true, failure: "events not committed")),
            (observed("tank", [.level(880)]), Expect(failure: "events not committed")),
            (.flush, Expect(writesBook: true)),
            (.flush, Expect()),
            (observed("pods", [.consumed(1)]), Expect(writesBook: true, failure: "events not committed")),
        ]),
        Case(name: "a level past the threshold is an event, logged with its seq once committed", steps: [
            (observed("tank", [.level(900)]), Expect(writesBook: true, failure: "events not committed")),
            (observed("tank", [.level(150)]), Expect(messages: [event], committed: ["events queued"],
                                                    failure: "events not committed")),
        ]),
        Case(name: "a fault and a recovery are events first, with the journal's ids; health changes reach the snapshot", steps: [
            (observed("tank", [], health: .degraded), Expect(writesBook: true, failure: "events not committed",
                                                            healthChanged: "tank degraded")),
            (observed("tank", [], health: .fault, .fault(reason: "bus")), Expect(
                messages: [event], committed: ["sensor fault: the slot's ledger stands still"],
                failure: "events not committed", healthChanged: "tank fault")),
            (observed("tank", [.level(500)], health: .ok, .recovered), Expect(
                messages: [event], committed: ["sensor recovered"], failure: "events not committed",
                healthChanged: "tank ok")),
        ]),
        Case(name: "a due report is every slot, committed as reported", steps: [
            (.reportDue(.daily), Expect(messages: [status], writesBook: true, reporting: ["tank", "pods"],
                                        committed: ["status report queued"],
                                        failure: "status report not committed; its consumption goes into the next one")),
        ]),
        Case(name: "a report too large for one message even per slot is refused, the book written all the same", steps: [
            (.reportDue(.periodic), Expect(writesBook: true, notes: ["status report cannot be encoded; nothing is queued for it"],
                                           failure: "reply not committed")),
            (command("reportNow", #"{"correlationId":"r1"}"#), Expect(
                messages: [reply], writesBook: true,
                notes: ["command accepted", "status report cannot be encoded; nothing is queued for it"],
                failure: "reply not committed")),
        ], maxMessageBytes: 300),
        Case(name: "reportNow: the report and its reply in one step; the same correlationId again is not applied twice", steps: [
            (command("reportNow", #"{"correlationId":"r1"}"#), Expect(
                messages: [status, reply], writesBook: true, reporting: ["tank", "pods"],
                notes: ["command accepted"], committed: ["status report queued"],
                failure: "status report not committed; its consumption goes into the next one")),
            (command("reportNow", #"{"correlationId":"r1"}"#), Expect(
                messages: [reply], writesBook: true, notes: ["command received again"],
                failure: "command answer not committed")),
        ]),
        Case(name: "a malformed command is answered rejected; a retained one too, once", steps: [
            (command("orderPlaced", "{"), Expect(messages: [reply], writesBook: true, notes: ["command rejected:"],
                                                 failure: "command answer not committed")),
            (command("reportNow", #"{"correlationId":"old"}"#, retained: true), Expect(
                messages: [reply], writesBook: true, notes: ["retained command"],
                failure: "command answer not committed")),
        ]),
        Case(name: "a message refused for good: announced in an event once committed", steps: [
            (.deadLettered(DeadLetter(seq: 7, topic: "replenish/v1/dev-1/replies", reason: "Not authorized (0x87)", refusals: 3)),
             Expect(messages: [event], committed: ["dead-lettered message announced"], failure: "dead-letter event not committed")),
        ]),
        Case(name: "delivery resumed: the eviction tally is announced and cleared in the same transaction", steps: [
            (.deliveryResumed(evicted: nil), Expect()),
            (.deliveryResumed(evicted: eviction), Expect(messages: [event], clearsTally: true,
                                                         committed: ["outbox evictions reported"],
                                                         failure: "eviction event not committed")),
        ]),
    ]

    static func context(maxMessageBytes: Int) -> BookContext {
        BookContext(slots: [tank, pods],
                    header: MessageHeader(schema: "", deviceId: "dev-1", seq: 0, generatedAt: Fixture.noon,
                                          clock: .synchronized, agentVersion: "0.1.0", configHash: "cafe"),
                    maxMessageBytes: maxMessageBytes, zone: Fixture.utc)
    }

    @Test("take", arguments: cases)
    func take(_ c: Case) {
        var book = DeviceBook()
        for slot in [Self.tank, Self.pods] {
            book.ledgers[slot.id] = SlotLedger()
            book.policies[slot.id] = ReplenishmentPolicy(settings: ReplenishmentSettings(mode: .cloud))
        }
        let context = Self.context(maxMessageBytes: c.maxMessageBytes)
        for (index, (input, expect)) in c.steps.enumerated() {
            let step = book.take(input, context)
            let label = Comment(rawValue: "step \(index + 1)")
            #expect(step.messages.map { "\($0.leaf):\($0.schema)" } == expect.messages, label)
            #expect(step.writesBook == expect.writesBook, label)
            #expect(step.reporting?.map(\.slot) == expect.reporting, label)
            #expect(step.clearsTally == expect.clearsTally, label)
            #expect(step.notes.map(\.text).map(Self.prefix) == expect.notes.map(Self.prefix), label)
            #expect(step.committedNotes.map(\.text) == expect.committed, label)
            #expect(step.failure.text == expect.failure, label)
            #expect(step.healthChanged.map { "\($0.slot) \($0.health)" } == expect.healthChanged, label)
            if !step.isEmpty { book.committed(step, at: context.now) }
        }
    }

    @Test("a command's response topic and correlation data go with its reply (with a report or alone), not with its events")
    func replyRoute() {
        var book = DeviceBook()
        book.ledgers["tank"] = SlotLedger()
        book.policies["tank"] = ReplenishmentPolicy(settings: ReplenishmentSettings(mode: .cloud))
        let context = Self.context(maxMessageBytes: 128 * 1024)
        let route = ReplyRoute(responseTopic: "cloud/answers", correlationData: [0, 1, 0xff])
        let report = book.take(.command(name: "reportNow", payload: Array(#"{"correlationId":"r"}"#.utf8),
                                        retained: false, replyTo: route), context)
        #expect(report.messages.map(\.leaf) == ["status", "replies"])
        #expect(report.messages.map(\.responseTopic) == [nil, "cloud/answers"])
        #expect(report.messages.map(\.correlationData) == [nil, [0, 1, 0xff]])
        #expect(report.notes.first?.fields["responseTopic"] == "cloud/answers")
        let refused = book.take(.command(name: "orderShipped", payload: Array(#"{"correlationId":"s"}"#.utf8),
                                         retained: false, replyTo: ReplyRoute(responseTopic: nil, correlationData: [7])), context)
        #expect(refused.messages.map(\.leaf) == ["replies"])
        #expect(refused.messages.first?.responseTopic == nil && refused.messages.first?.correlationData == [7])
        #expect(ReplyRoute(responseTopic: nil, correlationData: nil) == nil)
    }

    @Test("the start-up report waits for the first reading of every slot, or names the unread ones when the wait is over")
    func startupWait() throws {
        var book = DeviceBook()
        for slot in [Self.tank, Self.pods] { book.ledgers[slot.id] = SlotLedger() }
        let context = Self.context(maxMessageBytes: 128 * 1024)
        let held = book.take(.reportDue(.startup), context)
        #expect(held.messages.isEmpty && book.startupWaiting)
        #expect(held.notes.first?.fields["unread"] == "tank,pods")
        _ = book.take(Self.observed("tank", []), context)
        #expect(!book.startupReady(context))
        _ = book.take(Self.observed("pods", [.consumed(1)]), context)
        #expect(book.startupReady(context))
        let report = book.take(.reportDue(.startup), context)
        #expect(report.messages.map(\.leaf) == ["status"] && !book.startupWaiting)
        #expect(book.take(.startupWaitOver, context).isEmpty)

        var late = DeviceBook()
        for slot in [Self.tank, Self.pods] { late.ledgers[slot.id] = SlotLedger() }
        _ = late.take(.reportDue(.startup), context)
        _ = late.take(Self.observed("pods", [.consumed(1)]), context)
        let over = late.take(.startupWaitOver, context)
        #expect(over.messages.map(\.leaf) == ["status"] && !late.startupWaiting)
        #expect(over.notes.last?.fields["unread"] == "tank")
        var header = context.header
        header.schema = StatusReport.schema
        header.seq = 1
        let json = String(decoding: try over.messages[0].encode(header), as: UTF8.self)
        #expect(json.contains(#""unreadSlots":["tank"]"#), "\(json)")
    }

    /// Notes are compared by their first two words (the rest names the command's details).
    static func prefix(_ text: String) -> String { text.split(separator: " ").prefix(2).joined(separator: " ") }

    @Test("a fault's note carries its event's seq and the journal id; a report is marked reported only once committed")
    func seqAndReported() {
        var book = DeviceBook()
        book.ledgers["pods"] = SlotLedger()
        let context = Self.context(maxMessageBytes: 128 * 1024)
        let fault = book.take(Self.observed("pods", [], health: .fault, .fault(reason: "bus")), context)
        #expect(fault.committedNotes == [BookStep.Note(.error, "sensor fault: the slot's ledger stands still",
                                                       ["slot": "pods", "reason": "bus"], journal: .sensorFault, seqOf: 0)])
        _ = book.take(Self.observed("pods", [.consumed(4)], health: .ok, .recovered), context)
        let report = book.take(.reportDue(.daily), context)
        #expect(book.ledgers["pods"]?.consumedSinceLastReport == 4)
        #expect(book.unsaved)
        book.committed(report, at: context.now)
        #expect(book.ledgers["pods"]?.consumedSinceLastReport == 0)
        #expect(!book.unsaved)
    }
}
