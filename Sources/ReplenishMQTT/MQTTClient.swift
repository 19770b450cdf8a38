import CMosquitto
import Logging

/// An MQTT 5 or 3.1.1 client (`MQTTClientOptions.protocolVersion`) over libmosquitto for QoS 1 delivery driven by an outbox.
///
/// Each connection uses a fresh libmosquitto handle, so nothing is re-sent by the library across
/// connections: after `.connected` the caller republishes whatever its outbox still holds.
/// Message ids are only meaningful together with the connection generation.
public final class MQTTClient: Sendable {
    /// Connection, PUBACK and message events. Single consumer; buffering is unbounded.
    public let events: AsyncStream<MQTTEvent>
    private let networkLoop: MQTTNetworkLoop

    /// Validates the options (a throwaway libmosquitto handle is configured with them) without
    /// touching the network.
    public init(options: MQTTClientOptions, logger: Logger) throws {
        try Self.validate(options)
        _ = try MosquittoHandle(options: options, userdata: nil)
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTEvent.self, bufferingPolicy: .unbounded)
        events = stream
        networkLoop = MQTTNetworkLoop(options: options, logger: logger, continuation: continuation)
    }

    deinit {
        networkLoop.stop(final: nil)
    }

    /// Starts the network thread: connect, and on failure or loss retry with backoff. Idempotent.
    public func start() {
        networkLoop.start()
    }

    /// Publishes on the current connection; returns the connection generation and message id.
    /// Throws (code `notConnected`) when there is no connection: the caller republishes from its
    /// outbox after the next `.connected`. The `.published` event may be emitted before this returns.
    /// `properties` go out under MQTT 5 only.
    @discardableResult
    public func publish(topic: String, payload: [UInt8], qos: Int32, retain: Bool,
                        properties: MQTTPublishProperties? = nil) throws -> (connection: UInt64, messageID: Int32) {
        try networkLoop.publish(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties)
    }

    /// Ends the current connection with `reason` (logged, and in the `.disconnected` event); the
    /// client reconnects after the usual backoff. For a connection that is up but useless, such as
    /// one whose PUBACKs stopped coming. Nothing happens without a connection.
    public func reconnect(reason: String) {
        networkLoop.dropConnection(reason: reason)
    }

    /// Subscribes now if connected; remembered and re-subscribed after every reconnect.
    public func subscribe(_ filter: String, qos: Int32) throws {
        try networkLoop.subscribe(filter, qos: qos)
    }

    /// Clean stop: optionally publishes a final message at QoS 1 (e.g. retained "offline") and
    /// waits up to 2 s for its PUBACK, disconnects (so the broker discards the will), joins the
    /// network thread (bounded) and finishes `events`. Idempotent.
    public func stop(final: (topic: String, payload: [UInt8], retain: Bool)? = nil) {
        networkLoop.stop(final: final)
    }

    private static func validate(_ options: MQTTClientOptions) throws(MQTTError) {
        func invalid(_ message: String) -> MQTTError { MQTTError(code: .invalidArgument, message: message) }
        guard !options.host.isEmpty else { throw invalid("host is empty") }
        guard (1...65535).contains(options.port) else { throw invalid("port \(options.port) is not in 1...65535") }
        guard options.keepAliveSeconds == 0 || (5...65535).contains(options.keepAliveSeconds) else {
            throw invalid("keepAliveSeconds \(options.keepAliveSeconds) must be 0 or in 5...65535")
        }
        guard options.reconnectDelayMin > 0, options.reconnectDelayMax >= options.reconnectDelayMin else {
            throw invalid("reconnect delays must satisfy 0 < min (\(options.reconnectDelayMin)) <= max (\(options.reconnectDelayMax))")
        }
        guard (0...65535).contains(options.maxInflight) else {
            throw invalid("maxInflight \(options.maxInflight) is not in 0...65535")
        }
        if let will = options.will {
            guard (0...2).contains(will.qos) else { throw invalid("will QoS must be 0, 1 or 2, not \(will.qos)") }
        }
        if options.password != nil, options.username == nil {
            throw invalid("a password needs a username")
        }
        if let problem = options.tls?.problem { throw invalid(problem) }
    }
}
