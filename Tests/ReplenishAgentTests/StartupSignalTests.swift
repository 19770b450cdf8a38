import Foundation
import ReplenishMQTT
import Testing
import ReplenishTestSupport

/// Signals in the first milliseconds of `run` (issue 13): before its handlers existed, SIGTERM,
/// SIGHUP or SIGUSR1 killed it by their default action.
@Suite("signals while the daemon starts", .serialized)
struct StartupSignalTests {
    /// The signals a process catches with a handler of its own, from /proc (nil once it is gone).
    /// Handlers are process-wide; a thread's blocked mask is not (the main thread of an async
    /// `main` ends in libdispatch's `sigsuspend` with nothing blocked, while the code runs on a
    /// worker), so the handler `StartupSignals.hold()` installs is what says the daemon holds them.
    static func caughtSignals(_ pid: Int32) -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }) else { return nil }
        return UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
    }

    /// Waits until `run` has entered `main` and holds its signals: from here on nothing depends on luck.
    /// (Before `main` a process is still the dynamic loader's, and any program dies of SIGTERM there.)
    static func waitUntilHolding(_ process: ChildProcess) async throws {
        do {
            try await waitUntil("the daemon holds its signals") {
                guard let mask = caughtSignals(process.processIdentifier) else { return !process.isRunning }
                return mask & (1 << UInt64(SIGTERM - 1)) != 0
            }
        } catch {
            // What the process was doing, for the record.
            let pid = process.processIdentifier
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? "gone"
            let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            let stacks = threads.map { tid in
                let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8)) ?? "?"
                let mask = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8))?
                    .split(separator: "\n").first { $0.hasPrefix("SigBlk:") } ?? "?"
                let wchan = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/wchan", encoding: .utf8)) ?? "?"
                return "\(tid) \(name.trimmingCharacters(in: .whitespacesAndNewlines)) \(mask) wchan=\(wchan)"
            }
            Issue.record("pid \(pid) running \(process.isRunning)\n\(status)\nthreads:\n\(stacks.joined(separator: "\n"))")
            throw error
        }
    }

    static func waitForExit(_ process: ChildProcess) async throws {
        try await waitUntil("the daemon exits", within: .seconds(30)) { !process.isRunning }
        process.waitUntilExit()
    }

    struct Setup {
        let directory: TemporaryDirectory
        let broker: TestBroker
        let subscriber: Subscriber
        let config: String

        init(device: String) async throws {
            directory = try TemporaryDirectory()
            broker = try TestBroker.start()
            config = directory.path("replenishd.yaml")
            try testConfig(deviceID: device, broker: broker, database: directory.path("state.db"))
                .write(toFile: config, atomically: true, encoding: .utf8)
            subscriber = try Subscriber(broker: broker, base: "replenish/v1/\(device)")
            try await subscriber.ready()
        }

        func stop() {
            subscriber.stop()
            broker.stop()
        }
    }

    @Test("a SIGTERM or SIGINT while starting is a clean stop", arguments: [SIGTERM, SIGINT])
    func stopWhileStarting(signal: Int32) async throws {
        let setup = try await Setup(device: "early-stop")
        defer { setup.stop() }
        for run in 0..<10 {
            let process = try DaemonProcessTests.launch(["run", "--config", setup.config, "--simulate"],
                                                        in: setup.directory, name: "run\(run)")
            try await Self.waitUntilHolding(process)
            kill(process.processIdentifier, signal)
            try await Self.waitForExit(process)
            #expect(process.terminationReason == .exit, "run \(run) died of a signal")
            #expect(process.terminationStatus == 0, "run \(run)")
        }
    }

    @Test("a SIGHUP or SIGUSR1 while starting does not kill the daemon", arguments: [SIGHUP, SIGUSR1])
    func survivesWhileStarting(signal: Int32) async throws {
        let setup = try await Setup(device: "early-hup")
        defer { setup.stop() }
        for run in 1...5 {
            let process = try DaemonProcessTests.launch(["run", "--config", setup.config, "--simulate"],
                                                        in: setup.directory, name: "run\(run)")
            try await Self.waitUntilHolding(process)
            kill(process.processIdentifier, signal)
            try await setup.subscriber.waitFor("start-up report \(run)") { $0.filter { $0.reason == "startup" }.count == run }
            #expect(process.isRunning)
            kill(process.processIdentifier, SIGTERM)
            try await Self.waitForExit(process)
            #expect(process.terminationReason == .exit && process.terminationStatus == 0, "run \(run)")
        }
    }

    @Test("--time-scale outside 1 to 1,000,000 is refused", arguments: ["0", "-5", "nan", "inf", "1e7", "0.5"])
    func timeScaleRange(scale: String) throws {
        let directory = try TemporaryDirectory()
        let config = directory.path("replenishd.yaml")
        let broker = try TestBroker.start()
        defer { broker.stop() }
        try testConfig(deviceID: "scale", broker: broker, database: directory.path("state.db"))
            .write(toFile: config, atomically: true, encoding: .utf8)
        let (status, stderr) = try DaemonProcessTests.run(["run", "--config", config, "--simulate", "--time-scale=\(scale)"],
                                                          in: directory)
        #expect(status == 78)
        #expect(stderr.contains("--time-scale must be from 1 to 1000000"), "\(stderr)")
    }

    @Test("SIGTERM stops a run at the fastest time scale promptly")
    func stopScaledRun() async throws {
        let setup = try await Setup(device: "fast-stop")
        defer { setup.stop() }
        let process = try DaemonProcessTests.launch(
            ["run", "--config", setup.config, "--simulate", "--time-scale", "1000000"], in: setup.directory, name: "fast")
        try await setup.subscriber.waitFor("simulated hours going by") { $0.filter { $0.reason == "periodic" }.count >= 3 }
        let asked = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        try await Self.waitForExit(process)
        let took = ContinuousClock.now - asked
        print("SIGTERM to exit at --time-scale 1000000: \(took)")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(took < .seconds(5))  // generous for a loaded CI host; the figure is printed
    }
}
