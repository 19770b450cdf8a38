import FoundationEssentials
import Logging
import ReplenishCore
import ReplenishHardware
import ReplenishMQTT
import ReplenishStore
#if canImport(Glibc)
import Glibc
#endif

/// Settings of `replenishd demo`.
public struct DemoOptions: Sendable {
    public var broker: String?
    public var days: Int
    public var speed: Double
    public var profile: String?
    /// `--capture FILE`: every message the listener hears, and every command the demo's cloud
    /// sends, as JSON lines for Tests/Contract/validate.py (`MessageCapture`).
    public var capture: String?

    public init(broker: String?, days: Int, speed: Double, profile: String?, capture: String? = nil) {
        self.broker = broker
        self.days = days
        self.speed = speed
        self.profile = profile
        self.capture = capture
    }
}

/// `replenishd demo`: the coffee-machine profile, simulated and sped up, against a real broker;
/// it listens to its own topics and prints each day as its report arrives.
public struct DemoRun: Sendable {
    let options: DemoOptions
    let output: @Sendable (String) -> Void

    public init(options: DemoOptions, output: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.output = output
    }

    public func run() async throws {
        let started = ContinuousClock.now
        let profilePath = try options.profile ?? DemoRun.findProfile("coffee-machine.yaml")
        var config = try ConfigLoader.load(path: profilePath)

        let workDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("replenishd-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workDir) }
        config.storage.path = workDir.appendingPathComponent("state.db").path
        // The demo shows the device deciding: the last level slot with a low threshold (the bean
        // hopper of the coffee machine) reorders itself, with two days' lead time so a whole cycle
        // fits in a month, against a simulated cloud. Profiles that chose a mode keep it.
        if config.slots.allSatisfy({ $0.replenishment.mode == .cloud }),
           let pick = config.slots.lastIndex(where: { $0.definition.sensor == .level && $0.definition.lowThreshold != nil }) {
            config.slots[pick].replenishment.mode = .device
            config.slots[pick].replenishment.leadTimeDays = 2
            config.slots[pick].replenishment.safetyMarginDays = 1
        }

        let logger = Logger(label: "replenishd.demo")
        var broker: LocalBroker?
        if let url = options.broker {
            config.mqtt.url = try DemoRun.brokerURL(url)
        } else {
            broker = try LocalBroker.start(logger: logger)
            config.mqtt.url = BrokerURL(tls: false, host: broker!.host, port: broker!.port)
        }
        defer { broker?.stop() }

        let listener = try MQTTClient(
            options: MQTTClientOptions(host: config.mqtt.url.host, port: config.mqtt.url.port,
                                       clientID: "replenishd-demo-listener-\(getpid())"),
            logger: logger)
        try listener.subscribe(config.mqtt.baseTopic + "/status", qos: 1)
        try listener.subscribe(config.mqtt.baseTopic + "/events", qos: 1)
        try listener.subscribe(config.mqtt.baseTopic + "/replies", qos: 1)
        try listener.subscribe(config.mqtt.baseTopic + "/state", qos: 1)
        try listener.subscribe(config.mqtt.baseTopic + "/availability", qos: 1)
        let capture = try options.capture.map { try MessageCapture(path: $0) }
        // The daemon starts once the listener hears its own probe: subscribed, so it misses nothing.
        let probe = config.mqtt.baseTopic + "/demo-probe-\(getpid())"
        try listener.subscribe(probe, qos: 1)
        listener.start()
        defer { listener.stop() }

        output("replenishd demo: \(config.device.id), profile \(profilePath)")
        output("broker \(config.mqtt.url)\(broker == nil ? "" : " (private mosquitto)"), "
               + "\(options.days) simulated days at \(Int(options.speed))x, state in \(config.storage.path)")
        output("")

        let clock = ScaledClock(origin: Date(), scale: options.speed)
        let sources = try Daemon.sources(for: config, simulate: true, start: clock.now())
        let service = ReplenishService(config: config, sources: sources, clock: clock, trust: FixedClockTrust(true),
                                       logger: logger)
        var daemon: Task<Void, any Error>?

        var view = DemoView(config: config, zone: service.zone)
        var cloud = DemoCloud(base: config.mqtt.baseTopic,
                              capacities: Dictionary(uniqueKeysWithValues: config.slots.map { ($0.definition.id, $0.definition.capacity) }))
        // Three simulated days without a message means something is wrong (30 s at least).
        let quiet = Duration.seconds(max(30, 3 * 86_400 / options.speed))
        let (inputs, feed) = AsyncStream.makeStream(of: DemoInput.self)
        let forwarder = Task {
            for await event in listener.events { feed.yield(.transport(event)) }
            feed.finish()
        }
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                feed.yield(.tick)
            }
        }
        defer {
            forwarder.cancel()
            watchdog.cancel()
        }
        var lastHeard = ContinuousClock.now
        loop: for await input in inputs {
            switch input {
            case .tick:
                if ContinuousClock.now - lastHeard > quiet {
                    daemon?.cancel()
                    throw AgentError(.broker, "no report arrived for \(quiet); is the broker at \(config.mqtt.url) reachable?")
                }
            case .transport(.connected):
                _ = try? listener.publish(topic: probe, payload: Array("probe".utf8), qos: 1, retain: false)
            case .transport(.message(probe, _, _, _)):
                if daemon == nil { daemon = Task { try await service.run() } }
            case .transport(.message(let topic, let payload, let retained, _)):
                capture?.record(topic: topic, payload: payload, retained: retained)
                // Availability is plain text for the cloud's presence view; nothing to show.
                if topic.hasSuffix("/availability") { continue }
                lastHeard = ContinuousClock.now
                for line in view.take(topic: topic, payload: payload) { output(line) }
                if case .object(let json)? = try? JSONValue.parse(payload) {
                    for sent in cloud.react(topic: topic, json: json) {
                        view.note(sent.again ? "☁ cloud sends \(sent.command) for \(sent.slot) again: the device's state does not list it"
                                             : "☁ cloud sends \(sent.command) for \(sent.slot)")
                        let topic = config.mqtt.baseTopic + "/commands/" + sent.command
                        capture?.record(topic: topic, payload: Array(sent.body.utf8), retained: false)
                        _ = try? listener.publish(topic: topic, payload: Array(sent.body.utf8), qos: 1, retain: false)
                    }
                }
                // One simulated day per daily report: the N-th closes the run.
                if view.dailyReports >= options.days { break loop }
            case .transport:
                break
            }
        }

        // What the device committed until now reaches the broker before it stops: a few seconds at
        // most, unless the machine is very busy (the bound only ends the wait for a broker that is gone).
        let drained = ContinuousClock.now + .seconds(30)
        while service.delivery.lastAcknowledgedSeq < service.lastCommittedSeq, ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(20))
        }
        daemon?.cancel()
        _ = try? await daemon?.value
        let stats = try StateStore(path: config.storage.path).outboxStats()
        let elapsed = ContinuousClock.now - started
        let household = Dictionary(uniqueKeysWithValues: sources.compactMap { $0 as? SimulatedSource }
            .map { ($0.slot, (used: $0.totalUsed, refills: $0.refills)) })
        let ledger = Dictionary(uniqueKeysWithValues: (try? DeviceStatus.read(config: config))?.slots
            .map { ($0.slot, $0.consumedTotal) } ?? [])
        for line in view.summary(elapsed: elapsed, outboxLeft: stats.count, delivery: service.delivery,
                                 ledger: ledger, household: household) { output(line) }
    }

    static func brokerURL(_ text: String) throws -> BrokerURL {
        guard case .success(let broker) = BrokerURL.parse(text), !broker.tls else {
            throw AgentError(.invalidArguments, "--broker: expected mqtt://host[:port], got '\(text)'")
        }
        // The demo speaks plaintext MQTT, which replenishd allows only on loopback.
        guard broker.isLoopback else {
            throw AgentError(.invalidArguments, "--broker: the demo uses plaintext MQTT, so only a loopback broker "
                             + "(localhost, 127.0.0.0/8, ::1) is accepted, got '\(broker.host)'")
        }
        return broker
    }

    /// Looks for a profile beside the working directory, the executable, or the installed share folder.
    static func findProfile(_ name: String) throws -> String {
        let workingDirectory = FileManager.default.currentDirectoryPath
        var candidates = [workingDirectory + "/Hardware/profiles/" + name]
        let argument = CommandLine.arguments[0]
        let executable = realpath(argument, nil).map { resolved in
            defer { free(resolved) }
            return String(cString: resolved)
        } ?? (argument.hasPrefix("/") ? argument : workingDirectory + "/" + argument)
        var dir = executable.split(separator: "/").dropLast()
        for _ in 0..<4 {
            candidates.append("/" + (dir + ["Hardware", "profiles", Substring(name)]).joined(separator: "/"))
            dir = dir.dropLast()
        }
        candidates.append("/usr/share/replenishd/profiles/" + name)
        guard let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) else {
            throw AgentError(.unreadable, "profile \(name) not found; looked in: \(candidates.joined(separator: ", "))")
        }
        return found
    }
}

/// What the demo's loop waits on: a message from the broker, or a second passing.
private enum DemoInput: Sendable {
    case transport(MQTTEvent)
    case tick
}
