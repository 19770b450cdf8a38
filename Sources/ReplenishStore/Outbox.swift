import FoundationEssentials
import ReplenishCore
import Synchronization

/// The outbox as the keeper commits to it. Every commit is one transaction: the messages with
/// fresh seqs, and the rows of the book they were built from, so after a crash at any instant the
/// state and the outbox agree. It keeps the outbox under its byte bound by evicting the oldest
/// status reports, and keeps commits possible on a full disk: the reserve given back and the
/// write-ahead log folded in, then the oldest reports evicted a quarter at a time in small
/// transactions. Every eviction is tallied (agent_value `outbox.evicted`, owned here) until the
/// keeper announces it. What happened on the way is returned as `Note`s for the journal.
/// Call it from the store's queue.
public final class Outbox: Sendable {
    /// A message to queue, encoded once its seq is known.
    public struct Message: Sendable {
        public var topic: String
        public var kind: MessageKind
        public var correlationData: [UInt8]?
        public var encode: @Sendable (UInt64) throws -> [UInt8]

        public init(topic: String, kind: MessageKind, correlationData: [UInt8]? = nil,
                    encode: @escaping @Sendable (UInt64) throws -> [UInt8]) {
            self.topic = topic
            self.kind = kind
            self.correlationData = correlationData
            self.encode = encode
        }

        /// A message the book produced, on `{base}/{leaf}` (or the response topic a command
        /// named), with `header` (schema and seq filled in).
        public init(_ message: Outgoing, base: String, header: MessageHeader) {
            self.init(topic: message.responseTopic ?? base + "/" + message.leaf, kind: MessageKind(message.kind),
                      correlationData: message.correlationData) { seq in
                var header = header
                header.schema = message.schema
                header.seq = seq
                return try message.encode(header)
            }
        }
    }

    /// What a commit did besides queueing, for the journal.
    public enum Note: Sendable, Equatable {
        /// The outbox bound evicted reports; the tally so far.
        case boundEvicted(soFar: Int)
        /// The disk was full: the reserve went back and the log was folded in.
        case reserveReleased(available: Int)
        /// Still full (once per episode): reports are evicted to make room. `reason` says why.
        case diskFull(reason: String, detail: String)
        /// Reports evicted to make room on a full disk.
        case spaceEvicted(count: Int, soFar: Int)
        case evictionFailed(String)
        /// The reserve is back: the episode is over.
        case spaceBack
    }

    /// The key of the eviction tally in agent_value.
    public static let tallyKey = "outbox.evicted"
    /// Report bytes deleted per transaction when evicting for space (see `evictForSpace`).
    static let evictionChunkBytes = 16 * 1024

    public let store: StateStore
    let limitBytes: Int
    let maxMessageBytes: Int
    private struct State {
        var tally: OutboxEviction?
        /// The reserve was given back and is not restored yet.
        var reserveReleased = false
        /// The disk stayed full after that: reports are being evicted to make room.
        var diskFull = false
    }
    private let state: Mutex<State>

    /// `tally` as stored (`Outbox.tally(in:)`).
    public init(store: StateStore, limitBytes: Int, maxMessageBytes: Int, tally: OutboxEviction?) {
        self.store = store
        self.limitBytes = limitBytes
        self.maxMessageBytes = maxMessageBytes
        state = Mutex(State(tally: tally))
    }

    /// The stored tally of evictions not yet announced.
    public static func tally(in values: [String: [UInt8]]) -> OutboxEviction? {
        values[tallyKey].flatMap { try? JSONDecoder().decode(OutboxEviction?.self, from: Data($0)) } ?? nil
    }

    /// Evictions not yet announced.
    public var tally: OutboxEviction? { state.withLock { $0.tally } }

    /// The tally's row in `tx` (`null` once announced); `tally(in:)` reads it back.
    private static func write(_ tally: OutboxEviction?, in tx: inout StoreTransaction) throws {
        try tx.setValue(tallyKey, Array(try JSONEncoder().encode(tally)))
    }

    /// Makes the disk-full reserve; false when there is no room for it yet (it is retried after
    /// every commit).
    public func prepare() -> Bool {
        let ready = store.ensureReserve()
        if !ready { state.withLock { $0.reserveReleased = true } }
        return ready
    }

    /// Queues `messages` with fresh seqs and writes `rows` (`slotRows` by slot id, `values` by
    /// key), all in one transaction; `clearingTally` writes the tally as announced (null) with
    /// them. On a full disk, makes room and retries (up to four times). Returns the last seq
    /// issued (0 for none); `notes` gets what happened even when it throws.
    public func commit(_ messages: [Message], slotRows: [(id: String, blob: [UInt8])], values: [(key: String, blob: [UInt8])],
                       createdAt: Double, clearingTally: Bool = false, notes: inout [Note]) throws -> UInt64 {
        var relief = 0
        while true {
            do {
                let seq = try commitOnce(messages, slotRows: slotRows, values: values, createdAt: createdAt,
                                         clearingTally: clearingTally, notes: &notes)
                afterCommit(&notes)
                return seq
            } catch let error as StoreError where error.code == .diskFull && relief < 4 {
                relief += 1
                state.withLock { $0.reserveReleased = true }
                if relief == 1 {
                    // Often the write-ahead log has just outgrown a small disk: the reserve and a
                    // checkpoint are enough when they leave room.
                    store.releaseSpace()
                    let available = store.availableBytes ?? 0
                    notes.append(.reserveReleased(available: available))
                    if available >= StateStore.reserveBytes { continue }
                }
                // Truly full: make room inside the database, which its next writes reuse, while the
                // released reserve still gives the eviction room to be written.
                makeRoom(because: "has no room", detail: "\(error)", &notes)
            }
        }
    }

    private func commitOnce(_ messages: [Message], slotRows: [(id: String, blob: [UInt8])], values: [(key: String, blob: [UInt8])],
                            createdAt: Double, clearingTally: Bool, notes: inout [Note]) throws -> UInt64 {
        let tally = clearingTally ? nil : self.tally
        let (limit, maxBytes) = (limitBytes, maxMessageBytes)
        let (last, newTally) = try store.commit { tx in
            var last: UInt64 = 0
            var firstReport: UInt64?
            for message in messages {
                let seq = try tx.nextSeq()
                let payload = try message.encode(seq)
                // Known before it is queued: a broker drops (or disconnects over) a larger
                // message and still, under MQTT 3.1.1, may never say so.
                guard payload.count <= maxBytes else {
                    throw StoreError.oversized(topic: message.topic, bytes: payload.count, maxBytes: maxBytes)
                }
                try tx.enqueue(seq: seq, topic: message.topic, kind: message.kind, payload: payload,
                               createdAt: createdAt, correlationData: message.correlationData)
                last = seq
                if message.kind == .status, firstReport == nil { firstReport = seq }
            }
            var newTally = tally
            if let firstReport {
                // Every part of the report just built is spared.
                let evicted = try tx.evictOldest(kind: .status, toFitBytes: limit, sparingFrom: firstReport)
                newTally = OutboxEviction.adding(evicted, to: tally)
            }
            if clearingTally || newTally != tally {
                try Self.write(newTally, in: &tx)
            }
            for (id, blob) in slotRows { try tx.setSlotState(id, blob) }
            for (key, blob) in values { try tx.setValue(key, blob) }
            return (last, newTally)
        }
        state.withLock { $0.tally = newTally }
        if let newTally, newTally != tally { notes.append(.boundEvicted(soFar: newTally.reports)) }
        return last
    }

    /// While short of space, folds the log in after every commit so it never grows, and evicts
    /// before the released reserve is used up: an eviction writes to the log too, so on a disk
    /// with no byte left even making room fails.
    private func afterCommit(_ notes: inout [Note]) {
        guard state.withLock({ $0.reserveReleased }) else { return }
        store.checkpoint()
        // Free pages an eviction left inside the database count as room: the file system does
        // not see them, but the next commits reuse them.
        let restored = store.ensureReserve()
        let available = (store.availableBytes ?? 0) + store.reusableBytes
        if restored {
            let wasFull = state.withLock { s in
                defer { s.reserveReleased = false; s.diskFull = false }
                return s.diskFull
            }
            if wasFull { notes.append(.spaceBack) }
        } else if available < StateStore.reserveBytes {
            makeRoom(because: "is almost out of room", detail: "available \(available)", &notes)
        }
    }

    /// Says once that the disk is full, evicts, and folds the log in. A failed eviction is noted,
    /// not thrown: the keeper's counts stay in memory until space returns.
    private func makeRoom(because reason: String, detail: String, _ notes: inout [Note]) {
        let first = state.withLock { s in
            defer { s.diskFull = true }
            return !s.diskFull
        }
        if first { notes.append(.diskFull(reason: reason, detail: detail)) }
        do {
            try evictForSpace(&notes)
        } catch {
            notes.append(.evictionFailed("\(error)"))
        }
        store.checkpoint()
    }

    /// Evicts the oldest status reports, a quarter of the outbox's bytes, tallied as the bound's
    /// evictions are, so the cloud hears of them. On a full disk a delete needs room in the
    /// write-ahead log too, so it goes in small transactions (`evictionChunkBytes` of reports
    /// each), the log folded in after each: what one needs stays well inside the disk reserve.
    private func evictForSpace(_ notes: inout [Note]) throws {
        let target = try store.outboxStats().bytes * 3 / 4
        var evictedNow = 0
        while true {
            let tally = self.tally
            let step: ([UInt64], OutboxEviction?)
            do {
                let bytes = try store.outboxStats().bytes
                guard bytes > target else { break }
                step = try store.commit { tx in
                    let evicted = try tx.evictOldest(kind: .status, toFitBytes: max(target, bytes - Self.evictionChunkBytes))
                    let newTally = OutboxEviction.adding(evicted, to: tally)
                    if newTally != tally { try Self.write(newTally, in: &tx) }
                    return (evicted, newTally)
                }
                store.checkpoint()
            } catch where evictedNow > 0 {
                break  // some room made; the next full disk tries again
            }
            state.withLock { $0.tally = step.1 }
            evictedNow += step.0.count
            if step.0.isEmpty { break }
        }
        if evictedNow > 0 { notes.append(.spaceEvicted(count: evictedNow, soFar: tally?.reports ?? 0)) }
    }
}
