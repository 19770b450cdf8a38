import CMosquitto
import Dispatch
import FoundationEssentials
import Logging
import ReplenishThreads
import Synchronization

/// The network thread behind `MQTTClient`: one fresh `MosquittoHandle` per connection attempt,
/// `mosquitto_loop` driven on a dedicated thread, reconnect with backoff, events handed on
/// through the stream's continuation. C callbacks run on this thread inside `mosquitto_loop`.
final class MQTTNetworkLoop: Sendable {
    struct Subscription: Sendable {
        var filter: String
        var qos: Int32
    }

    struct State {
        /// The live handle; nil between connections. Other threads touch it only under the lock.
        var handle: MosquittoHandle?
        /// `mosquitto_connect` succeeded on `handle`, so `mosquitto_disconnect` may be called.
        var socketOpen = false
        /// CONNACK accepted on `handle` and not yet lost: publishing is allowed.
        var connected = false
        var establishedThisAttempt = false
        var disconnectRequested = false
        var disconnectReason: String?
        var generation: UInt64 = 0
        var failedAttempts = 0
        var subscriptions: [Subscription] = []
        var started = false
        var stopping = false
        var finalMessageID: Int32?
        /// Retained publishes on `handle` not yet acknowledged: a broker that refuses retained
        /// messages closes the connection instead.
        var retainedUnacknowledged: Set<Int32> = []
        /// SUBSCRIBEs on `handle` awaiting their SUBACK: message id -> topic filter.
        var pendingSubscriptions: [Int32: String] = [:]
    }

    let options: MQTTClientOptions
    let logger: Logger
    let continuation: AsyncStream<MQTTEvent>.Continuation
    let state = Mutex(State())
    /// libmosquitto's error lines of the current attempt (OpenSSL's reason for a TLS failure).
    /// A lock of its own: libmosquitto may log from a call made while `state` is locked.
    let attemptErrors = Mutex<[String]>([])
    /// Signalled by `stop` to cut a backoff sleep short.
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Signalled when the final message of `stop(final:)` is acknowledged or cannot be.
    private let finalSettled = DispatchSemaphore(value: 0)
    /// Signalled when the thread's body returns (our join).
    private let exited = DispatchSemaphore(value: 0)

    static let finalMessageWait: Double = 2
    static let threadExitWait: Double = 5

    init(options: MQTTClientOptions, logger: Logger, continuation: AsyncStream<MQTTEvent>.Continuation) {
        self.options = options
        self.logger = logger
        self.continuation = continuation
    }

    static func from(_ userdata: UnsafeMutableRawPointer?) -> MQTTNetworkLoop? {
        guard let userdata else { return nil }
        return Unmanaged<MQTTNetworkLoop>.fromOpaque(userdata).takeUnretainedValue()
    }

    var metadata: Logger.Metadata {
        ["mqtt.host": "\(options.host)", "mqtt.port": "\(options.port)", "mqtt.clientID": "\(options.clientID)"]
    }

    // MARK: - Public operations (any thread)

    func start() {
        let shouldStart = state.withLock { s in
            guard !s.started, !s.stopping else { return false }
            s.started = true
            return true
        }
        guard shouldStart else { return }
        PosixThread.detach(name: "mqtt-network") { [self] in run() }
    }

    func publish(topic: String, payload: [UInt8], qos: Int32, retain: Bool,
                 properties: MQTTPublishProperties?) throws(MQTTError) -> (connection: UInt64, messageID: Int32) {
        guard (0...2).contains(qos) else {
            throw MQTTError(code: .invalidArgument, message: "QoS must be 0, 1 or 2, not \(qos)")
        }
        let sent = try state.withLock { s throws(MQTTError) -> (connection: UInt64, messageID: Int32) in
            guard s.connected, !s.stopping, let handle = s.handle else {
                throw MQTTError(code: .notConnected, message: s.stopping ? "client is stopped" : "not connected to the broker")
            }
            let mid = try handle.publish(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties)
            if retain, qos > 0 { s.retainedUnacknowledged.insert(mid) }
            return (s.generation, mid)
        }
        logger.trace("published", metadata: [
            "mqtt.topic": "\(topic)", "mqtt.mid": "\(sent.messageID)", "mqtt.connection": "\(sent.connection)",
            "mqtt.bytes": "\(payload.count)",
        ])
        return sent
    }

    func subscribe(_ filter: String, qos: Int32) throws(MQTTError) {
        guard (0...2).contains(qos) else {
            throw MQTTError(code: .invalidArgument, message: "QoS must be 0, 1 or 2, not \(qos)")
        }
        let rc = mosquitto_sub_topic_check(filter)
        guard rc == MosquittoLibrary.success else {
            throw MQTTError(code: .invalidArgument, message: "invalid subscription filter '\(filter)'", mosquittoResult: rc)
        }
        state.withLock { s in
            if let index = s.subscriptions.firstIndex(where: { $0.filter == filter }) {
                s.subscriptions[index].qos = qos
            } else {
                s.subscriptions.append(Subscription(filter: filter, qos: qos))
            }
            // When not connected it is sent by handleConnect on the next connection.
            if s.connected, let handle = s.handle {
                let rc = Self.subscribe(filter, qos: qos, on: handle, awaiting: &s.pendingSubscriptions)
                if rc != MosquittoLibrary.success {
                    logger.warning("subscribe failed; retried after reconnect", metadata: [
                        "mqtt.topic": "\(filter)", "error": "\(MosquittoLibrary.describe(rc))",
                    ])
                }
            }
        }
        logger.debug("subscribed", metadata: ["mqtt.topic": "\(filter)", "mqtt.qos": "\(qos)"])
    }

    func dropConnection(reason: String) {
        state.withLock { s in
            guard s.socketOpen, s.connected, !s.disconnectRequested, !s.stopping, let handle = s.handle else { return }
            s.disconnectReason = reason
            s.disconnectRequested = true
            handle.disconnect()
        }
    }

    func stop(final: (topic: String, payload: [UInt8], retain: Bool)?) {
        let (firstStop, started, finalMessageID) = state.withLock { s -> (Bool, Bool, Int32?) in
            guard !s.stopping else { return (false, s.started, nil) }
            s.stopping = true
            if let final, !(s.connected && s.handle != nil) {
                logger.notice("final message not sent: not connected", metadata: ["mqtt.topic": "\(final.topic)"])
            }
            if let final, s.connected, let handle = s.handle {
                do {
                    s.finalMessageID = try handle.publish(topic: final.topic, payload: final.payload, qos: 1, retain: final.retain)
                    if final.retain, let mid = s.finalMessageID { s.retainedUnacknowledged.insert(mid) }
                } catch {
                    logger.warning("final message not sent", metadata: ["mqtt.topic": "\(final.topic)", "error": "\(error)"])
                }
            }
            return (true, s.started, s.finalMessageID)
        }
        guard firstStop else { return }
        if let finalMessageID {
            if finalSettled.wait(timeout: .now() + Self.finalMessageWait) == .timedOut {
                logger.warning("final message not acknowledged in time", metadata: [
                    "mqtt.topic": "\(final?.topic ?? "")", "mqtt.mid": "\(finalMessageID)",
                ])
            }
        }
        state.withLock { s in
            if s.socketOpen, !s.disconnectRequested, let handle = s.handle {
                s.disconnectRequested = true
                handle.disconnect()
            }
        }
        wakeUp.signal()
        if started, exited.wait(timeout: .now() + Self.threadExitWait) == .timedOut {
            // Only a blocking TCP connect to an unreachable host can hold the thread this long;
            // it finishes on its own and destroys its handle.
            logger.warning("network thread still busy after stop; leaving it to finish", metadata: metadata)
        }
        continuation.finish()
        logger.info("MQTT client stopped", metadata: metadata)
    }

    // MARK: - The network thread

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func run() {
        defer { exited.signal() }
        let backoff = ReconnectBackoff(minimum: options.reconnectDelayMin, maximum: options.reconnectDelayMax)
        while !isStopping {
            runOneConnection()
            let failures: Int? = state.withLock { s in
                guard !s.stopping else { return nil }
                defer { s.failedAttempts += 1 }
                return s.failedAttempts
            }
            guard let failures else { break }
            let delay = backoff.delay(afterFailures: failures)
            logger.debug("reconnecting after delay", metadata: metadata.merging([
                "mqtt.delay": "\(delay)", "mqtt.failedAttempts": "\(failures)",
            ]) { $1 })
            _ = wakeUp.wait(timeout: .now() + delay)
        }
    }

    private func runOneConnection() {
        let handle: MosquittoHandle
        do {
            handle = try MosquittoHandle(options: options, userdata: Unmanaged.passUnretained(self).toOpaque())
        } catch {
            logger.error("cannot create mosquitto handle", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return
        }
        let proceed = state.withLock { s in
            guard !s.stopping else { return false }
            s.handle = handle
            s.socketOpen = false
            s.connected = false
            s.establishedThisAttempt = false
            s.disconnectRequested = false
            s.disconnectReason = nil
            s.retainedUnacknowledged = []
            s.pendingSubscriptions = [:]
            return true
        }
        guard proceed else { return }
        attemptErrors.withLock { $0 = [] }

        let keepAlive = options.keepAliveSeconds
        let rc = handle.connect(host: options.host, port: options.port, keepAliveSeconds: keepAlive)
        guard rc == MosquittoLibrary.success else {
            state.withLock { $0.handle = nil }
            let libraryErrors = attemptErrors.withLock { $0 }
            let reason = ([MosquittoLibrary.describe(rc)] + libraryErrors).joined(separator: "; ")
            logger.warning(options.tls == nil ? "MQTT connect failed" : "MQTT TLS connect failed",
                           metadata: metadata.merging(["error": "\(reason)"]) { $1 })
            return
        }
        state.withLock { s in
            s.socketOpen = true
            // stop() ran while we were in mosquitto_connect and could not disconnect yet.
            if s.stopping, !s.disconnectRequested {
                s.disconnectRequested = true
                handle.disconnect()
            }
        }
        // An idle connection sleeps in select(); libmosquitto shortens the wait to send PINGREQ
        // in time, and publish/disconnect from other threads wake it through its socket pair.
        let timeout = Int32(clamping: (keepAlive > 0 ? keepAlive : 60) * 1000)
        var loopResult: Int32
        repeat {
            loopResult = handle.loop(timeoutMilliseconds: timeout)
        } while loopResult == MosquittoLibrary.success

        let (established, generation, reason, stopping, retainedPending) = state.withLock { s in
            s.handle = nil
            s.socketOpen = false
            s.connected = false
            return (s.establishedThisAttempt, s.generation, s.disconnectReason, s.stopping, !s.retainedUnacknowledged.isEmpty)
        }
        let libraryErrors = attemptErrors.withLock { $0 }
        let why = ([reason ?? describeLoss(loopResult)] + libraryErrors).joined(separator: "; ")
            + (stopping ? "" : retainRefusalHint(established: established, retainedPending: retainedPending,
                                                 reason: reason, libraryErrors: libraryErrors))
        if established {
            if stopping {
                logger.info("MQTT disconnected", metadata: metadata.merging(["mqtt.connection": "\(generation)"]) { $1 })
            } else {
                logger.warning("MQTT connection lost", metadata: metadata.merging([
                    "mqtt.connection": "\(generation)", "reason": "\(why)",
                ]) { $1 })
            }
            continuation.yield(.disconnected(connection: generation, reason: why))
        } else if !stopping, options.tls == nil {
            logger.warning("MQTT connection attempt failed", metadata: metadata.merging(["reason": "\(why)"]) { $1 })
        } else if !stopping {
            // A broker that rejects our client certificate (expired, unknown issuer) just closes
            // the TLS connection: libmosquitto then reports a protocol error and no OpenSSL reason.
            // The disconnect callback may or may not have run for the closed socket (a race with
            // the close); only a CONNACK refusal explains the failure by itself.
            let refusedByConnack = reason?.hasPrefix("connection refused:") == true
            let hint = libraryErrors.isEmpty && !refusedByConnack
                ? "; the broker closed the TLS connection before CONNACK, as it does when it rejects the client certificate (expired, or signed by a CA it does not trust)"
                : ""
            logger.warning("MQTT TLS connection attempt failed", metadata: metadata.merging(["reason": "\(why)\(hint)"]) { $1 })
        }
        // `handle` is destroyed here, on this thread, after no other thread can reach it.
    }

    /// Why a connection ended, for the log. libmosquitto 2.0.11 has no text for MOSQ_ERR_KEEPALIVE
    /// ("Unknown error."): it means the broker let a PINGREQ go unanswered for a whole keepalive,
    /// so nothing came from it for 1.5 to 2 keepalives.
    func describeLoss(_ result: Int32) -> String {
        guard result == Int32(MOSQ_ERR_KEEPALIVE.rawValue) else { return MosquittoLibrary.describe(result) }
        return "the broker stopped answering: no answer within 1.5 × keepalive (keepalive \(options.keepAliveSeconds)s)"
    }

    // MARK: - C callbacks (network thread, inside mosquitto_loop)

    func handleConnect(result: Int32, flags: Int32) {
        guard result == 0 else {
            // MQTT 5: a CONNACK reason code (0x80 and above); 3.1.1: a CONNACK return code (1 to 5).
            let reason = options.protocolVersion == .v5
                ? MosquittoLibrary.describe(reasonCode: UInt8(truncatingIfNeeded: result))
                    + retainNotSupportedHint(result, what: "its will is retained")
                : String(cString: mosquitto_connack_string(result))
            state.withLock { $0.disconnectReason = "connection refused: \(reason)" }
            logger.error("MQTT broker refused the connection", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
            return
        }
        let generation = state.withLock { s in
            s.generation += 1
            s.connected = true
            s.establishedThisAttempt = true
            s.failedAttempts = 0
            if let handle = s.handle {
                for subscription in s.subscriptions {
                    let rc = Self.subscribe(subscription.filter, qos: subscription.qos, on: handle,
                                            awaiting: &s.pendingSubscriptions)
                    if rc != MosquittoLibrary.success {
                        logger.warning("re-subscribe failed", metadata: [
                            "mqtt.topic": "\(subscription.filter)", "error": "\(MosquittoLibrary.describe(rc))",
                        ])
                    }
                }
            }
            return s.generation
        }
        let sessionPresent = flags & 1 != 0
        logger.info("MQTT connected", metadata: metadata.merging([
            "mqtt.connection": "\(generation)", "mqtt.sessionPresent": "\(sessionPresent)",
        ]) { $1 })
        continuation.yield(.connected(connection: generation, sessionPresent: sessionPresent))
    }

    func handleDisconnect(result: Int32) {
        let settleFinal = state.withLock { s in
            s.connected = false
            if s.disconnectReason == nil {
                s.disconnectReason = result == 0 ? "disconnected by client" : describeLoss(result)
                if options.protocolVersion == .v5, result >= 0x80, result <= 0xFF {
                    // An MQTT 5 DISCONNECT from the broker: its reason code (libmosquitto's own
                    // results are all below 0x80).
                    s.disconnectReason = "the broker disconnected: "
                        + MosquittoLibrary.describe(reasonCode: UInt8(truncatingIfNeeded: result))
                        + retainNotSupportedHint(result, what: "a retained message was sent")
                }
            }
            return s.finalMessageID != nil
        }
        if settleFinal { finalSettled.signal() }
    }

    /// `reasonCode`: the MQTT 5 PUBACK's (0 under 3.1.1).
    func handlePublished(messageID: Int32, reasonCode: UInt8) {
        let (generation, isFinal) = state.withLock { s in
            s.retainedUnacknowledged.remove(messageID)
            return (s.generation, s.finalMessageID == messageID)
        }
        logger.trace("PUBACK", metadata: [
            "mqtt.mid": "\(messageID)", "mqtt.connection": "\(generation)", "mqtt.reasonCode": "\(reasonCode)",
        ])
        continuation.yield(.published(connection: generation, messageID: messageID, reasonCode: reasonCode))
        if isFinal { finalSettled.signal() }
    }

    func handleMessage(_ message: mosquitto_message, request: MQTTRequestProperties = .init()) {
        let topic = String(cString: message.topic)
        let count = Int(message.payloadlen)
        let payload: [UInt8] = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
        logger.trace("message", metadata: ["mqtt.topic": "\(topic)", "mqtt.bytes": "\(payload.count)"])
        continuation.yield(.message(topic: topic, payload: payload, retained: message.retain, request: request))
    }

    /// Errors and warnings always reach the log (with the attempt's failure reason); the rest,
    /// one line per packet, only at trace level.
    func handleLibraryLog(level: Int32, text: UnsafePointer<CChar>) {
        switch level {
        case Int32(MOSQ_LOG_ERR):
            let line = String(cString: text)
            attemptErrors.withLock { $0.append(line) }
            logger.error("libmosquitto error", metadata: metadata.merging(["mosquitto.text": "\(line)"]) { $1 })
        case Int32(MOSQ_LOG_WARNING):
            logger.warning("libmosquitto warning", metadata: metadata.merging(["mosquitto.text": "\(String(cString: text))"]) { $1 })
        default:
            guard logger.logLevel <= .trace else { return }
            logger.trace("libmosquitto", metadata: ["mosquitto.level": "\(level)", "mosquitto.text": "\(String(cString: text))"])
        }
    }
}
