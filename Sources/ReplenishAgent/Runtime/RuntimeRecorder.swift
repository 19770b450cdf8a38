import FoundationEssentials
import Glibc
import Logging
import ReplenishCore
import ReplenishStore
import Synchronization

/// Keeps the daemon's `RuntimeSnapshot` (broker state, slot health) current in memory for the
/// `STATUS=` line, and in the state database for `replenishd status`. Writes are coalesced and
/// made on the store's queue, off the sensor and transport paths.
final class RuntimeRecorder: Sendable {
    private let snapshot: Mutex<RuntimeSnapshot>
    private let writes: AsyncStream<Void>.Continuation
    private let pending: AsyncStream<Void>

    init(brokerURL: String, slots: [String], configHash: String? = nil, now: Date = Date()) {
        snapshot = Mutex(RuntimeSnapshot(
            pid: getpid(), running: true, startedAt: now, updatedAt: now,
            broker: .init(url: brokerURL, connected: false, since: now),
            health: Dictionary(uniqueKeysWithValues: slots.map { ($0, SlotHealth.ok.rawValue) }),
            configHash: configHash))
        (pending, writes) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        writes.yield()
    }

    var current: RuntimeSnapshot { snapshot.withLock { $0 } }

    func brokerConnected(at now: Date = Date()) {
        update(now) { $0.broker.connected = true; $0.broker.since = now; $0.broker.lastError = nil }
    }

    func brokerLost(reason: String, at now: Date = Date()) {
        update(now) { $0.broker.connected = false; $0.broker.since = now; $0.broker.lastError = reason }
    }

    /// The broker refused the publish of `seq` (MQTT 5 PUBACK) for `reason`.
    func publishRefused(seq: UInt64, reason: String, at now: Date = Date()) {
        update(now) { s in
            s.refused = .init(count: (s.refused?.count ?? 0) + 1, lastSeq: seq, lastReason: reason, lastAt: now)
        }
    }

    func health(_ health: SlotHealth, slot: String, at now: Date = Date()) {
        update(now) { $0.health[slot] = health.rawValue }
    }

    /// The last write: the daemon stopped cleanly. Ends `run`.
    func stopped(at now: Date = Date()) {
        update(now) { $0.running = false; $0.broker.connected = false }
        writes.finish()
    }

    private func update(_ now: Date, _ change: (inout RuntimeSnapshot) -> Void) {
        let changed = snapshot.withLock { s in
            let before = s
            change(&s)
            guard s != before else { return false }
            s.updatedAt = now
            return true
        }
        if changed { writes.yield() }
    }

    /// Writes the newest snapshot after each change until `stopped`.
    func run(store: StateStore, queue: BlockingQueue, logger: Logger) async {
        for await _ in pending {
            let blob: [UInt8]
            do { blob = try current.encoded() } catch { continue }
            do {
                try await queue.run { try store.commit { tx in try tx.setValue(RuntimeSnapshot.key, blob) } }
            } catch {
                logger.warning("runtime state not written", metadata: ["error": "\(error)"])
            }
        }
    }
}
