import Logging
import ReplenishCore
import ReplenishMQTT
import ReplenishStore
import ReplenishSystemd
import Synchronization

/// Publishes outbox rows oldest first at QoS 1 with a bounded in-flight window, and deletes a
/// row only when its PUBACK arrives and, under MQTT 5, does not refuse it. After a reconnect it starts again from the oldest row, so
/// nothing unacknowledged is left behind.
///
/// Flow control: with a publish rate (`mqtt.max_publish_rate`) rows go out through a token bucket;
/// a PUBACK that has not come within `ack_timeout` (a broker that throttles by withholding it)
/// makes the client reconnect, after which the row goes out again with the rest. Both wait on the
/// injected monotonic clock, one timer at a time.
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
    /// Where the device's state goes (`{base}/state`), and whether retained (`mqtt.retain`).
    private let stateTopic: (topic: String, retain: Bool)?
    /// The newest state; only the input loop touches it.
    private let latestState = Mutex<[UInt8]?>(nil)
    private let liveness: LoopLiveness
    private let clock: any AgentClock
    private let ackTimeout: Double
    /// MQTT 5 message expiry interval on status reports (`report.expire_after`), seconds.
    private let statusExpiry: UInt32?
    /// Told of each refused publish (seq, reason), for `replenishd status`.
    private let refusal = Mutex<(@Sendable (UInt64, String) -> Void)?>(nil)
    /// Told of each row moved to the dead-letter table, for the `outboxDeadLettered` event.
    private let deadLetterHandler = Mutex<(@Sendable (DeadLetter) -> Void)?>(nil)
    /// Refusals per seq, across connections; a row refused this many times leaves the outbox.
    private let refusals = Mutex<[UInt64: Int]>([:])
    /// The same row refused this many times (one try per connection) is refused for good: a topic
    /// the device may not write, a message too large for the broker. It then stops holding up the
    /// rows behind it on every reconnect.
    static let deadLetterAfter = 3
    /// Only the input loop touches it; a Mutex for Sendable.
    private let bucket: Mutex<TokenBucket?>
    let stats = Mutex(DeliveryStats())
    /// Acknowledged seqs: those waiting for the flusher, and every one not yet deleted.
    private let acknowledged = Mutex(Acknowledged())

    private struct Acknowledged {
        var waiting: [UInt64] = []
        var unsettled: Set<UInt64> = []
    }

    init(store: StateStore, queue: BlockingQueue, client: MQTTClient, window: Int,
         birth: (topic: String, payload: [UInt8], retain: Bool)? = nil,
         stateTopic: (topic: String, retain: Bool)? = nil, maxPublishRate: Double? = nil,
         ackTimeout: Double = 30, statusExpiry: UInt32? = nil, clock: any AgentClock = SystemClock(),
         liveness: LoopLiveness = LoopLiveness(), logger: Logger) {
        self.statusExpiry = statusExpiry
        self.store = store
        self.queue = queue
        self.client = client
        self.window = max(1, window)
        self.birth = birth
        self.stateTopic = stateTopic
        self.liveness = liveness
        self.logger = logger
        self.clock = clock
        self.ackTimeout = ackTimeout
        bucket = Mutex(maxPublishRate.map { TokenBucket(rate: $0) })
    }

    private struct Flight {
        var connection: UInt64?
        /// Message id on the current connection -> outbox seq.
        var inflight: [Int32: UInt64] = [:]
        /// Highest seq handed to the client on the current connection.
        var cursor: UInt64 = 0
        /// Message id -> when it was published (monotonic seconds), for `ack_timeout`.
        var sentAt: [Int32: Double] = [:]
        /// No token until then (monotonic seconds).
        var tokenDue: Double?
        /// `ack_timeout` passed and the client was told to reconnect.
        var reconnecting = false
        /// Message id -> the birth message or state sent on this connection (not outbox rows), so
        /// that a PUBACK refusing one is logged.
        var outside: [Int32: (what: String, topic: String)] = [:]
    }

    /// The one pending `.timer` wake-up.
    private struct Timer {
        var task: Task<Void, Never>?
        var deadline: Double?
    }

    /// `feed` is the continuation of `inputs`: the drainer's timer wakes it there.
    func run(inputs: AsyncStream<DrainerInput>, feed: AsyncStream<DrainerInput>.Continuation) async {
        // The flusher: woken after PUBACKs (wake-ups coalesce while it writes), it settles all
        // that arrived meanwhile. It finishes its last batch before `run` returns.
        let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let flusher = Task { for await _ in wakeUps { await settleAcknowledged() } }
        var flight = Flight()
        var timer = Timer()
        await handle(inputs, &flight, &timer, feed: feed, wake: wake)
        timer.task?.cancel()
        wake.finish()
        await flusher.value
    }

    private func handle(_ inputs: AsyncStream<DrainerInput>, _ flight: inout Flight, _ timer: inout Timer,
                        feed: AsyncStream<DrainerInput>.Continuation, wake: AsyncStream<Void>.Continuation) async {
        for await input in inputs {
            liveness.begin("transport")
            defer { liveness.end("transport") }
            if case .timer = input { timer = Timer() }  // it fired: whatever comes next needs a new one
            await take(input, &flight, wake: wake)
            rearm(&timer, for: flight, feed: feed)
        }
    }

    /// Keeps one timer for the earliest of the next token and the oldest PUBACK's deadline. A timer
    /// that is already due earlier stays (it finds nothing to do and re-arms), so PUBACKs, which
    /// move the oldest deadline on, do not replace the timer each time.
    private func rearm(_ timer: inout Timer, for flight: Flight, feed: AsyncStream<DrainerInput>.Continuation) {
        var deadline = flight.tokenDue
        if !flight.reconnecting, let oldest = flight.sentAt.values.min() {
            deadline = min(deadline ?? .infinity, oldest + ackTimeout)
        }
        guard let deadline else { return }
        if let armed = timer.deadline, armed <= deadline { return }
        timer.task?.cancel()
        timer = Timer(deadline: deadline)
        timer.task = Task { [clock] in
            do { try await clock.sleep(for: deadline - clock.monotonic()) } catch { return }
            feed.yield(.timer)
        }
    }

    private func take(_ input: DrainerInput, _ flight: inout Flight, wake: AsyncStream<Void>.Continuation) async {
            switch input {
            case .transport(.connected(let connection, _)):
                flight = Flight(connection: connection)
                stats.withLock { $0.connected = true }
                logger.notice("broker connected; draining the outbox", metadata: JournalMessageID.brokerBack.metadata
                    .merging(["connection": "\(connection)"]) { $1 })
                if let birth {
                    // Retained (unless mqtt.retain is false), so the cloud sees the device online whenever it subscribes.
                    publishOutsideOutbox("birth message", topic: birth.topic, payload: birth.payload, retain: birth.retain,
                                         &flight)
                }
                publishState(&flight)
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

            case .transport(.published(let connection, let messageID, let reasonCode)):
                guard flight.connection == connection, let seq = flight.inflight.removeValue(forKey: messageID) else {
                    if flight.connection == connection, let sent = flight.outside.removeValue(forKey: messageID),
                       MQTTEvent.isFailure(reasonCode: reasonCode) {
                        logger.warning("the broker refused the \(sent.what); the next connect sends it again", metadata: [
                            "topic": "\(sent.topic)", "reason": "\(MQTTEvent.describe(reasonCode: reasonCode))",
                        ])
                    }
                    return
                }
                flight.sentAt[messageID] = nil
                if MQTTEvent.isFailure(reasonCode: reasonCode) {
                    await refused(seq: seq, reasonCode: reasonCode)
                    if flight.inflight.count <= window / 2 { await fill(&flight) }
                    return
                }
                acknowledged.withLock {
                    $0.waiting.append(seq)
                    $0.unsettled.insert(seq)
                }
                refusals.withLock { if !$0.isEmpty { $0[seq] = nil } }
                wake.yield()
                // Refill at half a window, half a window of rows in one read, rather than a read
                // for every PUBACK; new rows still go out at once (`.outboxChanged`).
                if flight.inflight.count <= window / 2 { await fill(&flight) }

            case .transport(.message):
                break  // commands go to the ledger keeper, not here

            case .outboxChanged:
                await fill(&flight)

            case .state(let payload):
                latestState.withLock { $0 = payload }
                if flight.connection != nil { publishState(&flight) }

            case .timer:
                let now = clock.monotonic()
                let overdue = flight.inflight.filter { now - (flight.sentAt[$0.key] ?? now) >= ackTimeout }.values.min()
                if !flight.reconnecting, let seq = overdue {
                    flight.reconnecting = true
                    stats.withLock { $0.ackTimeouts += 1 }
                    let reason = "no PUBACK within ack_timeout (\(ConfigReader.seconds(ackTimeout))) for seq \(seq)"
                    logger.warning("\(reason); reconnecting to publish it again", metadata: [
                        "seq": "\(seq)", "inflight": "\(flight.inflight.count)",
                    ])
                    client.reconnect(reason: reason)
                }
                await fill(&flight)
            }
    }

    /// An MQTT 5 PUBACK that refuses the row (not authorized, quota exceeded, packet too large):
    /// the row stays in the outbox. The cursor has passed it, so it goes out again only with the
    /// next connection's republishing, not in a loop.
    ///
    /// Refused `deadLetterAfter` times, it moves to the dead-letter table (never a silent delete:
    /// logged at error, counted, and announced by an `outboxDeadLettered` event, unless it was
    /// such an event itself, so that a topic the device may not write cannot feed a loop).
    private func refused(seq: UInt64, reasonCode: UInt8) async {
        let reason = MQTTEvent.describe(reasonCode: reasonCode)
        stats.withLock { $0.refused += 1 }
        refusal.withLock { $0 }?(seq, reason)
        let count = refusals.withLock { counts in
            counts[seq, default: 0] += 1
            return counts[seq] ?? 0
        }
        guard count >= Self.deadLetterAfter else {
            logger.warning("the broker refused the message; it stays in the outbox and goes out again after the next reconnect",
                           metadata: ["seq": "\(seq)", "reason": "\(reason)", "refusals": "\(count)"])
            return
        }
        refusals.withLock { $0[seq] = nil }
        let movedAt = clock.now().timeIntervalSince1970
        let moved: OutboxMessage?
        do {
            moved = try await queue.run { [store] in try store.deadLetter(seq: seq, reason: reason, at: movedAt) }
        } catch {
            logger.error("could not move a refused message to the dead-letter table", metadata: [
                "seq": "\(seq)", "error": "\(error)",
            ])
            return
        }
        guard let moved else { return }
        stats.withLock { $0.deadLettered += 1 }
        logger.error("the broker refused the message \(count) times; moved to the dead-letter table", metadata: [
            "seq": "\(seq)", "topic": "\(moved.topic)", "reason": "\(reason)",
        ])
        let isAnnouncement = moved.kind == .event
            && String(decoding: moved.payload, as: UTF8.self).contains(#""event":"outboxDeadLettered""#)
        if !isAnnouncement {
            deadLetterHandler.withLock { $0 }?(DeadLetter(seq: seq, topic: moved.topic, reason: reason, refusals: count))
        }
    }

    /// Who announces a row moved to the dead-letter table; set once, before `run`.
    func onDeadLetter(_ handler: @escaping @Sendable (DeadLetter) -> Void) {
        deadLetterHandler.withLock { $0 = handler }
    }

    /// Who hears of each refused publish (seq and reason); set once, before `run`.
    func onRefusal(_ handler: @escaping @Sendable (UInt64, String) -> Void) {
        refusal.withLock { $0 = handler }
    }

    /// The newest state, after the birth message on every connect and at once when it changes.
    /// Like the birth message it does not wait for a token but counts against the rate, and it is
    /// not an outbox row: a state lost with a connection is replaced by the next connect's.
    private func publishState(_ flight: inout Flight) {
        guard let stateTopic, let payload = latestState.withLock({ $0 }) else { return }
        publishOutsideOutbox("state", topic: stateTopic.topic, payload: payload, retain: stateTopic.retain, &flight,
                             properties: MQTTPublishProperties(userProperties: [(name: "schema", value: DeviceState.schema)]))
    }

    /// The birth message and the state: QoS 1 but no outbox row (the next connect sends them
    /// again). They do not wait for a token, but count against the rate.
    private func publishOutsideOutbox(_ what: String, topic: String, payload: [UInt8], retain: Bool,
                                      _ flight: inout Flight, properties: MQTTPublishProperties? = nil) {
        bucket.withLock { $0?.spend(at: clock.monotonic()) }
        do {
            let sent = try client.publish(topic: topic, payload: payload, qos: 1, retain: retain, properties: properties)
            if sent.connection == flight.connection { flight.outside[sent.messageID] = (what, topic) }
        } catch {
            logger.debug("\(what) not sent", metadata: ["error": "\(error)"])
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

    /// Under MQTT 5: the row's schema as the user property `schema`, on a status report the
    /// message expiry interval, on a reply its command's correlation data. The client leaves them
    /// out under 3.1.1.
    private func properties(of row: OutboxMessage) -> MQTTPublishProperties {
        let schema = ConfigReported.isAnswer(row) ? ConfigReported.schema : row.kind.schema
        return MQTTPublishProperties(userProperties: schema.map { [(name: "schema", value: $0)] } ?? [],
                              messageExpirySeconds: row.kind == .status ? statusExpiry : nil,
                              correlationData: row.correlationData)
    }

    /// Tops the in-flight window up from the outbox, as fast as the publish rate allows.
    private func fill(_ flight: inout Flight) async {
        if let due = flight.tokenDue {
            guard clock.monotonic() >= due else { return }
            flight.tokenDue = nil
        }
        while let connection = flight.connection, !flight.reconnecting, flight.inflight.count < window {
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
                let now = clock.monotonic()
                if let wait = bucket.withLock({ $0?.take(at: now) }) {
                    flight.tokenDue = now + wait
                    return
                }
                do {
                    // The answer to a desired configuration is retained like the state (`mqtt.retain`): the newest counts.
                    let retain = ConfigReported.isAnswer(row) && stateTopic?.retain == true
                    let sent = try client.publish(topic: row.topic, payload: row.payload, qos: 1, retain: retain,
                                                  properties: properties(of: row))
                    guard sent.connection == connection else {
                        // A newer connection took over; its .connected event restarts from the oldest row.
                        flight = Flight()
                        return
                    }
                    flight.inflight[sent.messageID] = row.seq
                    flight.sentAt[sent.messageID] = now
                    flight.cursor = row.seq
                    stats.withLock { $0.published += 1 }
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
