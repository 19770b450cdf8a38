import Foundation
import Logging
@testable import ReplenishAgent
import ReplenishCore
import ReplenishMQTT
import ReplenishStore
import ReplenishTestSupport
import Synchronization
import Testing

// Helpers for TortureTests: seeds, a daemon process wrapper, an in-process service on a manual
// clock with its log kept in memory, and the audit of what a subscriber received.

// MARK: - Seeds

enum TortureSeed {
    /// `TORTURE_SEED=<n>` replays a run (printed at the start of every test and in every failure);
    /// otherwise a fresh random seed.
    static func make(_ test: String) -> UInt64 {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["TORTURE_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        print("\(test): seed \(seed) (replay with TORTURE_SEED=\(seed) swift test --filter TortureTests)")
        return seed
    }
}

extension SplitMix64 {
    mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ probability: Double) -> Bool { unit() <= probability }
}

// MARK: - Waiting with context

/// `waitUntil`, but a timeout carries `context()` (seed, missing seqs, log tails) in its message.
func tortureWait(_ what: String, within limit: Duration, context: @autoclosure () -> String,
                 _ condition: @Sendable () throws -> Bool) async throws {
    do {
        try await waitUntil(what, within: limit, condition)
    } catch let error as TimedOut {
        throw TimedOut(description: "\(error.description) (after \(limit))\n\(context())")
    }
}

func tail(of text: String, lines: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
}

// MARK: - The database as seen from outside

enum StoreProbe {
    /// The committed seq counter; 0 while there is no database (or its schema is being created).
    static func lastSeq(_ path: String) -> UInt64 {
        guard FileManager.default.fileExists(atPath: path),
              let store = try? StateStore(path: path, readOnly: true),
              let state = try? store.loadState() else { return 0 }
        return state.lastSeq
    }

    /// Seqs still waiting in the outbox, oldest first.
    static func pendingSeqs(_ path: String, limit: Int = 1_000_000) throws -> [UInt64] {
        try StateStore(path: path, readOnly: true).pending(afterSeq: nil, limit: limit).map(\.seq)
    }
}

// MARK: - What the subscriber received

/// The numbers a torture test reports and asserts on.
struct DeliveryAudit: CustomStringConvertible {
    /// Every copy received, in arrival order.
    let arrivals: [UInt64]
    /// Distinct seqs in order of first arrival.
    let firstArrivals: [UInt64]
    /// Seqs received more than once, with their number of extra copies.
    let duplicates: [UInt64: Int]
    /// Seqs whose copies differ: one seq issued for two messages.
    let conflicting: [UInt64]

    init(_ messages: [ReceivedMessage]) {
        arrivals = messages.map(\.seq)
        var seen = Set<UInt64>()
        firstArrivals = arrivals.filter { seen.insert($0).inserted }
        var copies: [UInt64: Int] = [:]
        for seq in arrivals { copies[seq, default: 0] += 1 }
        duplicates = copies.filter { $0.value > 1 }.mapValues { $0 - 1 }
        conflicting = Dictionary(grouping: messages, by: \.seq)
            .filter { Set($0.value.map(\.json)).count > 1 }.keys.sorted()
    }

    /// Extra copies in all.
    var duplicateCount: Int { duplicates.values.reduce(0, +) }
    var distinct: Set<UInt64> { Set(firstArrivals) }
    var inOrder: Bool { firstArrivals == firstArrivals.sorted() }

    func missing(upTo last: UInt64) -> [UInt64] {
        guard last > 0 else { return [] }
        let distinct = self.distinct
        return (1...last).filter { !distinct.contains($0) }
    }

    /// Where first arrivals go backwards (at most `limit` places), for failure messages.
    func disorder(limit: Int = 10) -> String {
        let places = zip(firstArrivals, firstArrivals.dropFirst()).enumerated()
            .filter { $0.element.0 > $0.element.1 }.prefix(limit)
            .map { "#\($0.offset): \($0.element.0) then \($0.element.1)" }
        return places.isEmpty ? "none" : places.joined(separator: ", ")
    }

    var description: String {
        "received \(arrivals.count) copies of \(firstArrivals.count) seqs (\(firstArrivals.min() ?? 0)...\(firstArrivals.max() ?? 0)), "
            + "\(duplicateCount) duplicate copies of \(duplicates.count) seqs \(ranges(duplicates.keys.sorted())), "
            + "conflicting \(conflicting), out of order at \(disorder())"
    }
}

/// `[1, 2, 3, 7, 9, 10]` as `1...3, 7, 9...10`.
func ranges(_ seqs: [UInt64]) -> String {
    var parts: [String] = []
    var index = 0
    let sorted = seqs.sorted()
    while index < sorted.count {
        var end = index
        while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
        parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])...\(sorted[end])")
        index = end + 1
    }
    return "[" + parts.joined(separator: ", ") + "]"
}

// MARK: - Config

/// A daemon config for torture runs: the two simulated slots of `testConfig`, and quick reconnects
/// so that a flapping broker is found again within a fraction of a second. Without `refills` the
/// slots are only used up (slowly enough not to run dry within a month): no events, so every seq
/// is a status report and a test can count exactly how many it should see.
func tortureConfig(deviceID: String, broker: TestBroker, database: String, every: String, refills: Bool = true) -> String {
    let water = refills ? "daily_consumption: 900\n      uses_per_day: 6\n      refill: below 10%"
        : "daily_consumption: 50\n      uses_per_day: 6\n      refill: never"
    let pods = refills ? "daily_consumption: 5\n      uses_per_day: 5"
        : "daily_consumption: 1\n      uses_per_day: 1\n      refill: never"
    return """
    device:
      id: \(deviceID)
      timezone: UTC
    mqtt:
      url: \(broker.url)
      reconnect_min: 50ms
      reconnect_max: 200ms
    storage:
      path: \(database)
      flush_interval: 1h
    report:
      daily_at: "03:00"
      every: \(every)
    slots:
      - id: water
        sensor: level
        measurement: {type: Volume, unit: MILLILITER}
        capacity: 1800
        source:
          driver: simulated
          sample_every: 10m
        simulation:
          \(water)
      - id: pods
        sensor: usage
        measurement: {type: Count}
        capacity: 50
        source:
          driver: simulated
          sample_every: 10m
        simulation:
          \(pods)
    """
}

// MARK: - The real executable

/// One `replenishd` process, its stdout and stderr in files of the test's directory.
final class DaemonProcess: Sendable {
    let process: ChildProcess
    let stderrPath: String
    let name: String

    private init(process: ChildProcess, stderrPath: String, name: String) {
        self.process = process
        self.stderrPath = stderrPath
        self.name = name
    }

    static func launch(_ arguments: [String], in directory: TemporaryDirectory, name: String) throws -> DaemonProcess {
        let err = directory.path(name + ".err")
        let process = try ChildProcess(try replenishdExecutable(), arguments,
                                       stdout: .file(directory.path(name + ".out")), stderr: .file(err))
        return DaemonProcess(process: process, stderrPath: err, name: name)
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits (on the condition, not a fixed time) until the process has exited and been reaped.
    func waitForExit(within limit: Duration, context: @autoclosure () -> String) async throws {
        try await tortureWait("\(name) (pid \(pid)) to exit", within: limit, context: context()) { !self.process.isRunning }
    }

    func stderrTail(lines: Int = 25) -> String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "(no stderr file)"
        return "--- \(name) stderr (last \(lines) lines) ---\n" + tail(of: text, lines: lines)
    }
}

/// What the daemons' `--verbose` stderr says they sent: the drainer logs `published` with the
/// row's seq once the MQTT client has taken it, and `broker connected; draining the outbox` on
/// every connection. A SIGKILL can cut the last lines, so counts are lower bounds of what was sent.
struct DeviceLog {
    var publishes: [UInt64: Int] = [:]
    var connections = 0

    init(directory: TemporaryDirectory, runs: [String]) {
        for run in runs {
            let text = (try? String(contentsOfFile: directory.path(run + ".err"), encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                // ConsoleLogHandler's shape: time, level, message, then key=value metadata.
                if line.contains(" debug published "), let range = line.range(of: " seq=") {
                    let digits = line[range.upperBound...].prefix { $0.isNumber }
                    if let seq = UInt64(digits) { publishes[seq, default: 0] += 1 }
                } else if line.contains(" broker connected; draining the outbox") {
                    connections += 1
                }
            }
        }
    }

    /// Seqs sent more than once, as `seq×count`, for failure messages.
    var repeated: String {
        publishes.filter { $0.value > 1 }.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
    }
}

// MARK: - In process, on a manual clock

/// Keeps the last lines a logger wrote, so failures can show them without flooding passing runs,
/// and counts the drainer's `published` lines per seq: what the device itself sent, as opposed to
/// what the broker handed the subscriber (which adds its own redeliveries).
final class LogRing: Sendable {
    private let lines = Mutex<[String]>([])
    private let publishes = Mutex<[UInt64: Int]>([:])
    private let capacity: Int

    /// How often the drainer handed each seq to the MQTT client.
    var publishCounts: [UInt64: Int] { publishes.withLock { $0 } }

    func countPublish(_ seq: UInt64) { publishes.withLock { $0[seq, default: 0] += 1 } }

    init(capacity: Int = 400) { self.capacity = capacity }

    func append(_ line: String) {
        lines.withLock {
            $0.append(line)
            if $0.count > capacity { $0.removeFirst($0.count - capacity) }
        }
    }

    /// Whether a line (without its time stamp) contains `text`.
    func contains(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }

    func tail(_ count: Int) -> String {
        "--- service log (last \(count) lines) ---\n" + lines.withLock { $0.suffix(count).joined(separator: "\n") }
    }
}

struct RingLogHandler: LogHandler {
    let ring: LogRing
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        // OutboxDrainer.fill logs `published` with the row's seq once the client has taken it.
        if message.description == "published", let seq = all["seq"].flatMap({ UInt64("\($0)") }) {
            ring.countPublish(seq)
        }
        let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = String(format: "%.3f", Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 1000))
        ring.append("\(time) \(level) \(label): \(message) \(fields)")
    }
}

/// The service in process on a `ManualClock` against a broker the test owns: reports are made by
/// advancing the clock, so they keep coming whether or not the broker is up.
struct ManualClockRun {
    static let start = Date(timeIntervalSince1970: 1_772_323_200)  // 2026-03-01T00:00:00Z
    /// Two sources, the report scheduler and the flush timer.
    static let loops = 4

    let directory: TemporaryDirectory
    let broker: TestBroker
    let config: AgentConfig
    let clock: ManualClock
    let service: ReplenishService
    let subscriber: Subscriber
    let log: LogRing
    let task: Task<Void, any Error>

    init(device: String) async throws {
        directory = try TemporaryDirectory()
        broker = try TestBroker.start(persistence: true)
        config = try ConfigLoader.parse(
            tortureConfig(deviceID: device, broker: broker, database: directory.path("state.db"), every: "1h", refills: false),
            fileName: "torture.yaml")
        subscriber = try Subscriber(broker: broker, base: config.mqtt.baseTopic)
        try await subscriber.ready()
        clock = ManualClock(now: Self.start)
        let log = LogRing()
        self.log = log
        let logger = Logger(label: "torture.service") { label in RingLogHandler(ring: log, label: label) }
        service = ReplenishService(
            config: config, sources: try Daemon.sources(for: config, simulate: true, start: Self.start),
            clock: clock, trust: FixedClockTrust(true), logger: logger)
        task = Task { [service] in try await service.run() }
    }

    var databasePath: String { config.storage.path }

    /// Simulated hours, one at a time once every loop is parked: the scheduler emits one report
    /// per hour (missed periods would be folded into one report, by design).
    func advance(hours: Int, rng: inout SplitMix64) async throws {
        for _ in 0..<hours {
            try await waitUntil("every loop asleep") { clock.sleeperCount == Self.loops }
            clock.advance(by: 3600)
        }
    }

    func stop() async throws {
        task.cancel()
        try await task.value
        subscriber.stop()
        broker.stop()
    }
}
