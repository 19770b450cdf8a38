import Logging
import ReplenishMQTT
import ReplenishStore
import ReplenishSystemd
import Synchronization

/// What the drainer reacts to.
enum DrainerInput: Sendable {
    case transport(MQTTEvent)
    /// Rows were added to the outbox.
    case outboxChanged
}

/// Delivery counters, readable from any thread (status, demo, tests).
public struct DeliveryStats: Sendable, Equatable {
    public var connected = false
    /// A clean stop is under way: the coming disconnect is expected.
    public var stopping = false
    public var delivered: UInt64 = 0
    public var lastAcknowledgedSeq: UInt64 = 0
}

/// Publishes outbox rows oldest first at QoS 1 with a bounded in-flight window, and deletes a
/// row only when its PUBACK arrives. After a reconnect it starts again from the oldest row, so
/// nothing unacknowledged is left behind.
///
/// PUBACKs are settled in batches (group commit): a flusher task deletes every seq acknowledged
/// since its last transaction in one transaction, so a synchronous=FULL write of the log is paid
/// per batch, not per message. Until its batch commits, an acknowledged row is not published again.
final class OutboxDrainer: Sendable {
    private let store: StateStore
    private let queue: BlockingQueue
    private let client: MQTTClient
    private let window: Int
    private let logger: Logger
    /// The birth message published on every connect (topic, payload, retained: `mqtt.retain`).
    private let birth: (topic: String, payload: [UInt8], retain: Bool)?
    private let liveness: LoopLiveness
    let stats = Mutex(DeliveryStats())
    /// Acknowledged seqs: those waiting for the flusher, and every one not yet deleted.
    private let acknowledged = Mutex(Acknowledged())

    private struct Acknowledged {
        var waiting: [UInt64] = []
        var unsettled: Set<UInt64> = []
    }

    init(store: StateStore, queue: BlockingQueue, client: MQTTClient, window: Int,
         birth: (topic: String, payload: [UInt8], retain: Bool)? = nil, liveness: LoopLiveness = LoopLiveness(), logger: Logger) {
        self.store = store
        self.queue = queue
        self.client = client
        self.window = max(1, window)
        self.birth = birth
        self.liveness = liveness
        self.logger = logger
    }

    private struct Flight {
        var connection: UInt64?
        /// Message id on the current connection -> outbox seq.
        var inflight: [Int32: UInt64] = [:]
        /// Highest seq handed to the client on the current connection.
        var cursor: UInt64 = 0
    }

    func run(inputs: AsyncStream<DrainerInput>) async {
        // The flusher: woken after PUBACKs (wake-ups coalesce while it writes), it settles all
        // that arrived meanwhile. It finishes its last batch before `run` returns.
        let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let flusher = Task { for await _ in wakeUps { await settleAcknowledged() } }
        var flight = Flight()
        await handle(inputs, &flight, wake: wake)
        wake.finish()
        await flusher.value
    }

    private func handle(_ inputs: AsyncStream<DrainerInput>, _ flight: inout Flight,
                        wake: AsyncStream<Void>.Continuation) async {
        for await input in inputs {
            liveness.begin("transport")
            defer { liveness.end("transport") }
            switch input {
            case .transport(.connected(let connection, _)):
                flight = Flight(connection: connection)
                stats.withLock { $0.connected = true }
                logger.notice("broker connected; draining the outbox", metadata: JournalMessageID.brokerBack.metadata
                    .merging(["connection": "\(connection)"]) { $1 })
                if let birth {
                    // Retained (unless mqtt.retain is false), so the cloud sees the device online whenever it subscribes.
                    do {
                        _ = try client.publish(topic: birth.topic, payload: birth.payload, qos: 1, retain: birth.retain)
                    } catch {
                        logger.debug("birth message not sent", metadata: ["error": "\(error)"])
                    }
                }
                await fill(&flight)

            case .transport(.disconnected(let connection, let reason)):
                if flight.connection == connection {
                    flight = Flight()
                    let stopping = stats.withLock { s in
                        s.connected = false
                        return s.stopping
                    }
                    if !stopping {
                        logger.warning("broker connection lost", metadata: JournalMessageID.brokerLost.metadata
                            .merging(["reason": "\(reason)"]) { $1 })
                    }
                }

            case .transport(.published(let connection, let messageID)):
                guard flight.connection == connection, let seq = flight.inflight.removeValue(forKey: messageID) else {
                    continue
                }
                acknowledged.withLock {
                    $0.waiting.append(seq)
                    $0.unsettled.insert(seq)
                }
                wake.yield()
                // Refill at half a window, half a window of rows in one read, rather than a read
                // for every PUBACK; new rows still go out at once (`.outboxChanged`).
                if flight.inflight.count <= window / 2 { await fill(&flight) }

            case .transport(.message):
                break  // commands go to the ledger keeper, not here

            case .outboxChanged:
                await fill(&flight)
            }
        }
    }

    /// Deletes every acknowledged seq that waits, in one transaction, then counts them delivered.
    private func settleAcknowledged() async {
        let batch = acknowledged.withLock { a in
            defer { a.waiting.removeAll(keepingCapacity: true) }
            return a.waiting
        }
        guard !batch.isEmpty else { return }
        do {
            try await queue.run { [store] in try store.acknowledge(seqs: batch) }
            stats.withLock {
                $0.delivered += UInt64(batch.count)
                $0.lastAcknowledgedSeq = max($0.lastAcknowledgedSeq, batch.max() ?? 0)
            }
        } catch {
            // The rows stay and go out again after the next reconnect; the cloud drops the copies by messageId.
            logger.error("could not delete acknowledged rows", metadata: ["seqs": "\(batch.count)", "error": "\(error)"])
        }
        acknowledged.withLock { $0.unsettled.subtract(batch) }
    }

    /// Tops the in-flight window up from the outbox.
    private func fill(_ flight: inout Flight) async {
        while let connection = flight.connection, flight.inflight.count < window {
            let after = flight.cursor
            let limit = window - flight.inflight.count
            let rows: [OutboxMessage]
            do {
                rows = try await queue.run { [store] in try store.pending(afterSeq: after, limit: limit) }
            } catch {
                logger.error("could not read the outbox", metadata: ["error": "\(error)"])
                return
            }
            if rows.isEmpty { return }
            let unsettled = acknowledged.withLock { $0.unsettled }
            for row in rows {
                // Acknowledged on an earlier connection, its delete still to commit: not again.
                if unsettled.contains(row.seq) {
                    flight.cursor = row.seq
                    continue
                }
                do {
                    let sent = try client.publish(topic: row.topic, payload: row.payload, qos: 1, retain: false)
                    guard sent.connection == connection else {
                        // A newer connection took over; its .connected event restarts from the oldest row.
                        flight = Flight()
                        return
                    }
                    flight.inflight[sent.messageID] = row.seq
                    flight.cursor = row.seq
                    logger.debug("published", metadata: ["seq": "\(row.seq)", "topic": "\(row.topic)"])
                } catch {
                    logger.debug("publish refused; waiting for the next connection", metadata: ["error": "\(error)"])
                    stats.withLock { $0.connected = false }
                    flight = Flight()
                    return
                }
            }
        }
    }
}
