// libFuzzer entry point for sequences of commands (`make fuzz`): random commands, retained or not,
// between sensor readings, applied to the books of three slots as the daemon applies them. After
// every step the books must be sound; at the end a status report must encode; every command must
// have had exactly one reply (a retained one at most one, an empty message none), and no command
// may have moved a meter.
//
// Input: records separated by 0x1E. A record's first byte holds flags (bit 0: retained; bit 1: a
// level reading of (byte >> 2) × 30 on `water` and a use of (byte >> 2) on `pods` come first), then
// the command name, a newline and the payload.
import FoundationEssentials
import ReplenishCore

let slots = [
    SlotDefinition(id: "water", sensor: .level, measurement: Measurement(type: .volume, unit: .milliliter), capacity: 1800),
    SlotDefinition(id: "pods", sensor: .usage, measurement: Measurement(type: .count), capacity: 50),
    SlotDefinition(id: "descaler", sensor: .levelUsage, measurement: Measurement(type: .volume, unit: .milliliter), capacity: 500),
]
let start = Date(timeIntervalSince1970: 1_796_000_000)
let day = DayKey(year: 2026, month: 12, day: 1)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandSequence(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var journal = CommandJournal()
    var ledgers = Dictionary(uniqueKeysWithValues: slots.map { ($0.id, SlotLedger()) })
    var policies = Dictionary(uniqueKeysWithValues: slots.map { ($0.id, ReplenishmentPolicy()) })
    var now = start
    for record in bytes.split(separator: 0x1E, omittingEmptySubsequences: true) {
        let flags = record.first!
        let body = record.dropFirst()
        now = now.addingTimeInterval(60)
        if flags & 2 != 0 {
            let step = Double(flags >> 2)
            _ = ledgers["water"]!.apply(Reading(slot: "water", at: now, observation: .level(step * 30)), definition: slots[0], day: day)
            _ = ledgers["pods"]!.apply(Reading(slot: "pods", at: now, observation: .consumed(step)), definition: slots[1], day: day)
        }
        let split = body.firstIndex(of: 0x0A) ?? body.endIndex
        let name = String(decoding: body[..<split], as: UTF8.self)
        let payload = split < body.endIndex ? Array(body[(split + 1)...]) : []
        let meters = ledgers.mapValues(\.consumedTotal)
        let outcome = journal.answer(name: name, payload: payload, retained: flags & 1 != 0, slots: slots,
                                     policies: &policies, ledgers: &ledgers, now: now)
        if payload.isEmpty {
            precondition(outcome.reply == nil, "an empty message was answered")
        } else if flags & 1 == 0 {
            precondition(outcome.reply != nil, "a command got no reply")
        }
        if let reply = outcome.reply {
            precondition(reply.error.map { $0.utf8.count < 4096 } ?? true, "unbounded rejection reason")
            precondition(reply.correlationId.map { $0.utf8.count <= CommandDecoder.maxCorrelationIdBytes } ?? true)
        }
        precondition(!outcome.buildsReport || outcome.reply?.error == nil, "a rejected command built a report")
        precondition(ledgers.mapValues(\.consumedTotal) == meters, "a command moved a meter")
        for slot in slots {
            var ledger = ledgers[slot.id]!
            var policy = policies[slot.id]!
            precondition(ledger.repair(capacity: slot.capacity).isEmpty, "a command left an impossible ledger")
            precondition(policy.repair(capacity: slot.capacity).isEmpty, "a command left an impossible policy")
        }
    }
    let statuses = slots.map { slot in
        var status = SlotStatus(definition: slot, ledger: ledgers[slot.id]!, health: .ok, now: now, clock: .synchronized)
        status.totalQuantityOnHand = policies[slot.id]!.totalQuantityOnHand
        status.replenishment = policies[slot.id]!.status(at: now)
        return status
    }
    let header = MessageHeader(schema: StatusReport.schema, deviceId: "fuzz", seq: 1, generatedAt: now,
                               clock: .synchronized, agentVersion: "fuzz", configHash: "fuzz")
    do {
        let parts = try StatusReport.parts(header: header, reason: .command, slots: statuses, maxBytes: 128 << 10)
        precondition(parts.count == 1, "three slots need no parts")
        _ = try StatusReport(header: header, reason: .command, slots: statuses).json()
        _ = try JSONEncoder().encode(journal)
        for policy in policies.values { _ = try JSONEncoder().encode(policy) }
        for ledger in ledgers.values { _ = try JSONEncoder().encode(ledger) }
    } catch {
        preconditionFailure("the books no longer encode: \(error)")
    }
    return 0
}

// SwiftPM links an executable's entry point as `fuzz_sequence_main`; libFuzzer's driver runs from it.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("fuzz_sequence_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzCommandSequence)
}
