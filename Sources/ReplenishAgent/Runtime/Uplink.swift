import ReplenishCore
import Logging
import ReplenishMQTT
import ReplenishStore
import Synchronization

/// The state database and the broker connection with its outbox drainer: what a reload keeps
/// when the `mqtt` settings, the database path and the device id are unchanged, so that changing
/// a threshold neither disconnects nor re-announces the device. Each generation of the service
/// attaches its ledger feed and recorder; what arrives while none is attached waits for the next.
final class Uplink: Sendable {
    let mqtt: MQTTSettings
    let storagePath: String
    /// `report.expire_after`, which the drainer puts on status reports: a change needs a new uplink.
    private let statusExpiry: Int?
    /// The database is opened for this device (the store refuses another device's file).
    let deviceID: String
    let store: StateStore
    let queue: BlockingQueue
    let client: MQTTClient
    let drainer: OutboxDrainer
    let availability: String
    private let commands: String
    /// `{base}/config/desired`, and where its documents go (the supervisor, which owns reloads).
    private let desiredTopic: String
    private let remote: AsyncStream<RemoteInput>.Continuation?
    /// `{base}/state`, subscribed to while a connection change is tentative: its round trip confirms it.
    private let stateTopic: String?
    /// The drainer's input: the keeper says here that the outbox changed.
    let drainerFeed: AsyncStream<DrainerInput>.Continuation
    private let drainerInputs: AsyncStream<DrainerInput>
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let route = Mutex(Route())
    private let logger: Logger

    /// Where the forwarder sends what the ledger needs.
    struct Listener: Sendable {
        var ledger: AsyncStream<BookInput>.Continuation
        var recorder: RuntimeRecorder
    }

    private struct Route {
        var listener: Listener?
        /// Commands and delivery notices that arrived between two generations.
        var pending: [BookInput] = []
        /// Kept with the listener under one lock, so a generation attaching learns it exactly once.
        var connected = false
    }

    /// `previous`, a stopped uplink, lends its database when the path is the same: one process
    /// keeps one connection (and one lock) on its database across reloads. `clock` paces the
    /// drainer (publish rate, PUBACK timeout): real time, also under `--time-scale`, as the broker's
    /// limits are.
    init(config: AgentConfig, previous: Uplink? = nil, liveness: LoopLiveness, clock: any AgentClock = SystemClock(),
         remote: AsyncStream<RemoteInput>.Continuation? = nil, logger: Logger) throws {
        self.logger = logger
        self.remote = remote
        desiredTopic = config.mqtt.baseTopic + "/config/desired"
        stateTopic = config.remoteTentative && remote != nil ? config.mqtt.baseTopic + "/state" : nil
        mqtt = config.mqtt
        statusExpiry = config.report.expireAfterSeconds
        storagePath = config.storage.path
        deviceID = config.device.id
        if let previous, previous.storagePath == config.storage.path, previous.deviceID == deviceID {
            (store, queue) = (previous.store, previous.queue)
        } else {
            store = try StateStore(path: config.storage.path, deviceID: config.device.id)
            queue = BlockingQueue(label: "replenishd.store")
        }
        availability = config.mqtt.baseTopic + "/availability"
        commands = config.mqtt.baseTopic + "/commands/"
        var options = try MQTTOptionsBuilder.options(for: config)
        // A persistent session: commands sent while the device is offline wait at the broker.
        options.cleanSession = false
        options.will = MQTTWill(topic: availability, payload: Array("offline".utf8), qos: 1, retain: config.mqtt.retain)
        options.retainRefusalFix = "set mqtt.retain: false"
        client = try MQTTClient(options: options, logger: logger)
        try client.subscribe(commands + "+", qos: 1)
        // Retained by the cloud: the broker hands the newest document over on every (re)subscribe.
        if remote != nil { try client.subscribe(desiredTopic, qos: 1) }
        if let stateTopic { try client.subscribe(stateTopic, qos: 1) }
        drainer = OutboxDrainer(store: store, queue: queue, client: client, window: 32,
                                birth: (availability, Array("online".utf8), config.mqtt.retain),
                                stateTopic: (config.mqtt.baseTopic + "/state", config.mqtt.retain),
                                maxPublishRate: config.mqtt.maxPublishRate, ackTimeout: config.mqtt.ackTimeoutSeconds,
                                statusExpiry: config.report.expireAfterSeconds.map { UInt32(clamping: $0) },
                                clock: clock, liveness: liveness, logger: logger)
        (drainerInputs, drainerFeed) = AsyncStream.makeStream(of: DrainerInput.self)
        drainer.onRefusal { [weak self] seq, reason in
            self?.route.withLock { $0.listener?.recorder }?.publishRefused(seq: seq, reason: reason)
        }
        drainer.onDeadLetter { [weak self] letter in self?.toLedger(.deadLettered(letter)) }
    }

    /// `init` off the cooperative pool: opening the database checks it and reads key files.
    static func open(config: AgentConfig, previous: Uplink? = nil, liveness: LoopLiveness,
                     remote: AsyncStream<RemoteInput>.Continuation? = nil, logger: Logger) async throws -> Uplink {
        try await BlockingQueue.offPool("replenishd.uplink.open") {
            Result { try Uplink(config: config, previous: previous, liveness: liveness, remote: remote, logger: logger) }
        }.get()
    }

    /// True when a generation running `config` can use this uplink as it is.
    func serves(_ config: AgentConfig) -> Bool {
        config.mqtt == mqtt && config.storage.path == storagePath && config.device.id == deviceID
            && config.report.expireAfterSeconds == statusExpiry
    }

    /// Connects, and starts delivering the outbox and routing what the broker sends.
    func start() {
        client.start()
        let drainerTask = Task { [drainer, drainerInputs, drainerFeed] in await drainer.run(inputs: drainerInputs, feed: drainerFeed) }
        let forwarder = Task { [self] in
            for await event in client.events {
                switch event {
                case let .message(topic, payload, retained, request):
                    if topic.hasPrefix(commands) {
                        toLedger(.command(name: String(topic.dropFirst(commands.count)), payload: payload,
                                          retained: retained, replyTo: replyRoute(request, command: topic)))
                    } else if topic == desiredTopic, !payload.isEmpty {
                        // An empty payload clears the retained document: nothing to apply.
                        remote?.yield(.desired(payload))
                    } else if topic == stateTopic, let hash = RemoteInput.configHash(ofState: payload) {
                        remote?.yield(.stateSeen(configHash: hash))
                    }
                case .connected:
                    if stateTopic != nil { remote?.yield(.connected) }
                    route.withLock { route in route.connected = true; return route.listener?.recorder }?.brokerConnected()
                    drainerFeed.yield(.transport(event))
                    toLedger(.deliveryResumed(evicted: nil))
                case .disconnected(_, let reason):
                    route.withLock { route in route.connected = false; return route.listener?.recorder }?
                        .brokerLost(reason: reason)
                    drainerFeed.yield(.transport(event))
                default:
                    drainerFeed.yield(.transport(event))
                }
            }
        }
        tasks.withLock { $0 = [drainerTask, forwarder] }
    }

    /// Where the reply to a command goes (MQTT 5): its response topic, if it is one we may publish
    /// to, and its correlation data. A response topic that is not is logged and the reply goes to
    /// `{base}/replies`, where every reply can be read, with the correlation data all the same.
    private func replyRoute(_ request: MQTTRequestProperties, command topic: String) -> ReplyRoute? {
        var responseTopic = request.responseTopic
        if let given = responseTopic, let problem = TopicRules.responseTopicProblem(given, limits: mqtt.broker.limits) {
            logger.warning("command's response topic refused; its reply goes to the replies topic", metadata: [
                "topic": "\(topic)", "responseTopic": "\(CommandDecoder.printable(given, limit: 300))", "reason": "\(problem)",
            ])
            responseTopic = nil
        }
        return ReplyRoute(responseTopic: responseTopic, correlationData: request.correlationData)
    }

    /// A generation's ledger takes over; it first gets what waited for it.
    func attach(_ listener: Listener) {
        let (pending, connected) = route.withLock { route in
            route.listener = listener
            defer { route.pending = [] }
            return (route.pending, route.connected)
        }
        if connected { listener.recorder.brokerConnected() }
        for input in pending { listener.ledger.yield(input) }
    }

    func detach() {
        route.withLock { $0.listener = nil }
    }

    private func toLedger(_ input: BookInput) {
        let (listener, waiting) = route.withLock { route -> (Listener?, Int) in
            if route.listener == nil { route.pending.append(input) }
            return (route.listener, route.pending.count)
        }
        guard let listener else {
            logger.debug("held for the next generation", metadata: [
                "input": "\(input.kind)", "waiting": "\(waiting)",
            ])
            return
        }
        listener.ledger.yield(input)
    }

    /// Disconnects and waits for the drainer. `final` publishes `offline`; a reload that replaces
    /// the uplink does not, as the next one connects at once.
    func stop(final: Bool) async {
        drainer.stats.withLock { $0.stopping = true }
        let farewell = final ? (topic: availability, payload: Array("offline".utf8), retain: mqtt.retain) : nil
        // The client's stop waits (up to seconds) for the final message and its network thread.
        await BlockingQueue.offPool("replenishd.uplink.stop") { [client] in client.stop(final: farewell) }
        let running = tasks.withLock { $0 }
        if let forwarder = running.last { await forwarder.value }
        drainerFeed.finish()
        if let drainerTask = running.first { await drainerTask.value }
    }
}
