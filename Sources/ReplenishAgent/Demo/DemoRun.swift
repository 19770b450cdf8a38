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
        // Its problems are named against the profile itself, before the demo writes its own file.
        let profile = try ConfigLoader.load(path: profilePath)

        let workDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("replenishd-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workDir) }

        let logger = Logger(label: "replenishd.demo")
        var broker: LocalBroker?
        let brokerURL: BrokerURL
        if let url = options.broker {
            brokerURL = try DemoRun.brokerURL(url)
        } else {
            broker = try LocalBroker.start(logger: logger)
            brokerURL = BrokerURL(tls: false, host: broker!.host, port: broker!.port)
        }
        defer { broker?.stop() }

        // The daemon runs on a file, as on a device: a desired document is merged over it.
        let configPath = workDir.appendingPathComponent("replenishd.yaml").path
        let profileText = String(decoding: FileManager.default.contents(atPath: profilePath) ?? Data(), as: UTF8.self)
        try DemoConfigFile.write(profile: profileText, profilePath: profilePath,
                                 overrides: DemoRun.overrides(profile, database: workDir.appendingPathComponent("state.db").path,
                                                              broker: brokerURL),
                                 to: configPath)
        let device = try DemoDaemon(configPath: configPath, clock: ScaledClock(origin: Date(), scale: options.speed),
                                    logger: logger)
        let config = device.config
        let base = config.mqtt.baseTopic

        let listener = try MQTTClient(
            options: MQTTClientOptions(host: config.mqtt.url.host, port: config.mqtt.url.port,
                                       clientID: "replenishd-demo-listener-\(getpid())"),
            logger: logger)
        for leaf in ["status", "events", "replies", "state", "availability", "config/reported"] {
            try listener.subscribe(base + "/" + leaf, qos: 1)
        }
        let capture = try options.capture.map { try MessageCapture(path: $0) }
        // The daemon starts once the listener hears its own probe: subscribed, so it misses nothing.
        let probe = base + "/demo-probe-\(getpid())"
        try listener.subscribe(probe, qos: 1)
        let desiredTopic = base + "/config/desired"
        listener.start()
        defer { listener.stop() }

        output("replenishd demo: \(config.device.id), profile \(profilePath)")
        output("broker \(config.mqtt.url)\(broker == nil ? "" : " (private mosquitto)"), "
               + "\(options.days) simulated days at \(Int(options.speed))x, config and state in \(workDir.path)")
        output("")

        var view = DemoView(config: config, zone: config.device.zone)
        // The configuration change needs a day after it to show in a report.
        var cloud = DemoCloud(base: base,
                              capacities: Dictionary(uniqueKeysWithValues: config.slots.map { ($0.definition.id, $0.definition.capacity) }),
                              change: options.days > DemoRemoteChange.day ? DemoRemoteChange(config: config) : nil)
        var reconfigured = false
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
                if let failure = device.failure {
                    throw failure
                }
                if ContinuousClock.now - lastHeard > quiet {
                    _ = await device.stop()
                    throw AgentError(.broker, "no report arrived for \(quiet); is the broker at \(config.mqtt.url) reachable?")
                }
            case .transport(.connected):
                // A desired document an earlier demo left on this broker would apply at the first connect.
                if !device.isStarted { _ = try? listener.publish(topic: desiredTopic, payload: [], qos: 1, retain: true) }
                _ = try? listener.publish(topic: probe, payload: Array("probe".utf8), qos: 1, retain: false)
            case .transport(.message(probe, _, _, _)):
                device.start()
            case .transport(.message(let topic, let payload, let retained, _)):
                capture?.record(topic: topic, payload: payload, retained: retained)
                // Availability is plain text for the cloud's presence view; nothing to show. A
                // retained copy comes from subscribing (an earlier run's, or one heard already).
                if topic.hasSuffix("/availability") || retained { continue }
                lastHeard = ContinuousClock.now
                for line in view.take(topic: topic, payload: payload) { output(line) }
                if case .object(let json)? = try? JSONValue.parse(payload) {
                    for sent in cloud.react(topic: topic, json: json) {
                        view.note(sent.again ? "☁ cloud sends \(sent.command) for \(sent.slot) again: the device's state does not list it"
                                             : "☁ cloud sends \(sent.command) for \(sent.slot)")
                        let topic = base + "/commands/" + sent.command
                        capture?.record(topic: topic, payload: Array(sent.body.utf8), retained: false)
                        _ = try? listener.publish(topic: topic, payload: Array(sent.body.utf8), qos: 1, retain: false)
                    }
                }
                if let change = cloud.reconfigure(dailyReports: view.dailyReports) {
                    // Retained, QoS 1, as a maker's cloud sends it: the device gets it on every connect.
                    view.note(change.note)
                    let document = Array(change.document.utf8)
                    capture?.record(topic: desiredTopic, payload: document, retained: true)
                    _ = try? listener.publish(topic: desiredTopic, payload: document, qos: 1, retain: true)
                    reconfigured = true
                }
                // One simulated day per daily report: the N-th closes the run.
                if view.dailyReports >= options.days { break loop }
            case .transport:
                break
            }
        }
        // Nothing of the demo stays on a broker it was given.
        if reconfigured { _ = try? listener.publish(topic: desiredTopic, payload: [], qos: 1, retain: true) }

        // What the device committed until now reaches the broker before it stops: a few seconds at
        // most, unless the machine is very busy (the bound only ends the wait for a broker that is gone).
        await device.drain(within: .seconds(30))
        let delivery = await device.stop()
        let stats = try StateStore(path: config.storage.path).outboxStats()
        let elapsed = ContinuousClock.now - started
        let ledger = Dictionary(uniqueKeysWithValues: (try? DeviceStatus.read(config: config))?.slots
            .map { ($0.slot, $0.consumedTotal) } ?? [])
        for line in view.summary(elapsed: elapsed, outboxLeft: stats.count, delivery: delivery,
                                 ledger: ledger, household: device.household) { output(line) }
    }

    /// The demo's own settings, merged over the profile: its database, its broker, and (unless the
    /// profile chose modes) the last level slot with a low threshold, the coffee machine's bean
    /// hopper, reordering itself with two days' lead time, so a whole cycle fits in a month.
    static func overrides(_ profile: AgentConfig, database: String, broker: BrokerURL) -> String {
        var lines = ["storage: {path: \(DemoConfigFile.quoted(database))}",
                     "mqtt: {url: \(DemoConfigFile.quoted(broker.description))}"]
        if profile.slots.allSatisfy({ $0.replenishment.mode == .cloud }),
           let pick = profile.slots.last(where: { $0.definition.sensor == .level && $0.definition.lowThreshold != nil }) {
            lines.append("slots: [{id: \(DemoConfigFile.quoted(pick.definition.id)), "
                         + "replenishment: {mode: device, lead_time_days: 2, safety_margin_days: 1}}]")
        }
        return lines.joined(separator: "\n")
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
