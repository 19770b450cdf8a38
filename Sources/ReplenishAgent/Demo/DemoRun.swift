import Foundation
import Logging
import ReplenishCore
import ReplenishMQTT
import ReplenishStore

/// Settings of `replenishd demo`.
public struct DemoOptions: Sendable {
    public var broker: String?
    public var days: Int
    public var speed: Double
    public var profile: String?

    public init(broker: String?, days: Int, speed: Double, profile: String?) {
        self.broker = broker
        self.days = days
        self.speed = speed
        self.profile = profile
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

        var broker: LocalBroker?
        if let url = options.broker {
            config.mqtt.url = try DemoRun.brokerURL(url)
        } else {
            broker = try LocalBroker.start()
            config.mqtt.url = BrokerURL(tls: false, host: broker!.host, port: broker!.port)
        }
        defer { broker?.stop() }

        let logger = Logger(label: "replenishd.demo")
        let listener = try MQTTClient(
            options: MQTTClientOptions(host: config.mqtt.url.host, port: config.mqtt.url.port,
                                       clientID: "replenishd-demo-listener-\(getpid())"),
            logger: logger)
        try listener.subscribe(config.mqtt.baseTopic + "/status", qos: 1)
        try listener.subscribe(config.mqtt.baseTopic + "/events", qos: 1)
        listener.start()
        defer { listener.stop() }

        output("replenishd demo: \(config.device.id), profile \(profilePath)")
        output("broker \(config.mqtt.url)\(broker == nil ? "" : " (private mosquitto)"), "
               + "\(options.days) simulated days at \(Int(options.speed))x, state in \(config.storage.path)")
        output("")

        let clock = ScaledClock(origin: Date(), scale: options.speed)
        let sources = Daemon.sources(for: config, simulate: true, start: clock.now())
        let service = ReplenishService(config: config, sources: sources, clock: clock, logger: logger)
        let daemon = Task { try await service.run() }

        var view = DemoView(config: config, timeZone: service.timeZone)
        let end = clock.origin.addingTimeInterval(Double(options.days) * 86_400)
        let quiet = Duration.seconds(max(30, 3 * 86_400 / options.speed))
        let stream = listener.events
        var iterator = stream.makeAsyncIterator()
        while view.dailyReports < options.days {
            guard let event = await DemoRun.next(&iterator, within: quiet) else {
                daemon.cancel()
                throw AgentError(.broker, "no report arrived for \(quiet); is the broker at \(config.mqtt.url) reachable?")
            }
            guard case let .message(topic, payload, _) = event else { continue }
            for line in view.take(topic: topic, payload: payload) { output(line) }
            if let last = view.lastGeneratedAt, last >= end, view.dailyReports >= options.days { break }
        }

        daemon.cancel()
        _ = try? await daemon.value
        let stats = try StateStore(path: config.storage.path).outboxStats()
        let elapsed = ContinuousClock.now - started
        for line in view.summary(elapsed: elapsed, outboxLeft: stats.count) { output(line) }
    }

    /// The next event, or nil when none came within `limit`.
    static func next(_ iterator: inout AsyncStream<MQTTEvent>.Iterator, within limit: Duration) async -> MQTTEvent? {
        // A timer task ends the wait by handing back nil; whichever finishes first wins.
        let box = IteratorBox(iterator)
        let result = await withTaskGroup(of: MQTTEvent?.self) { group in
            group.addTask { await box.next() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        iterator = box.iterator
        return result
    }

    static func brokerURL(_ text: String) throws -> BrokerURL {
        guard let url = URLComponents(string: text), url.scheme == "mqtt", let host = url.host, !host.isEmpty else {
            throw AgentError(.invalidArguments, "--broker: expected mqtt://host[:port], got '\(text)'")
        }
        return BrokerURL(tls: false, host: host, port: url.port ?? 1883)
    }

    /// Looks for a profile beside the working directory, the executable, or the installed share folder.
    static func findProfile(_ name: String) throws -> String {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [FileManager.default.currentDirectoryPath + "/Hardware/profiles/" + name]
        var dir = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("Hardware/profiles/\(name)").path)
            dir = dir.deletingLastPathComponent()
        }
        candidates.append("/usr/share/replenishd/profiles/" + name)
        guard let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) else {
            throw AgentError(.unreadable, "profile \(name) not found; looked in: \(candidates.joined(separator: ", "))")
        }
        return found
    }
}

/// Holds an iterator across the child task that waits on it.
private final class IteratorBox: @unchecked Sendable {
    // Only one task touches the iterator at a time: the waiting child, then the caller after the group ends.
    var iterator: AsyncStream<MQTTEvent>.Iterator
    init(_ iterator: AsyncStream<MQTTEvent>.Iterator) { self.iterator = iterator }
    func next() async -> MQTTEvent? { await iterator.next() }
}
