import ArgumentParser
import Dispatch
import Foundation
import Logging
import ReplenishAgent
import ReplenishCore
import ReplenishSystemd

@main
struct Replenishd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replenishd",
        abstract: "Consumable tracking agent: sensors to daily ledger to MQTT, with nothing lost on the way.",
        version: AgentVersion.current,
        subcommands: [Run.self, Check.self, Reload.self, Status.self, Reset.self, Probe.self, Demo.self, Version.self]
    )

    /// `run` holds its signals before anything else happens (see `StartupSignals`); the other
    /// commands keep the default actions, so SIGTERM and Ctrl-C end them as usual.
    ///
    /// The other commands are what people run, often unprivileged (`status` as the service user):
    /// there libdispatch's manager thread is refused the nice value -4 it asks for and logs
    /// "Failed to set thread priority for worker thread … errno=13" to the journal, once per
    /// command. They leave libdispatch's log off unless the caller set LIBDISPATCH_LOG; the
    /// daemon keeps it (its unit allows that nice value, see replenishd.service).
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "run" {
            StartupSignals.hold()
        } else {
            setenv("LIBDISPATCH_LOG", "NO", 0)
        }
        await main(nil)
    }
}

/// EX_CONFIG from sysexits.h: systemd's RestartPreventExitStatus=78 keeps a bad config from looping.
let exConfig: Int32 = 78

/// EX_TEMPFAIL from sysexits.h: another daemon holds the state database; systemd retries, and
/// the start succeeds once that one has stopped.
let exTempFail: Int32 = 75

extension Replenishd {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the daemon.")

        @Option(name: .long, help: "The configuration file.")
        var config: String = "/etc/replenishd/replenishd.yaml"

        @Flag(name: .long, help: "Replace every hardware source with a simulated one.")
        var simulate = false

        @Option(name: .long, help: "Simulated seconds per real second (only when every source is simulated).")
        var timeScale: Double?

        @Option(name: .long, help: "With --time-scale: the simulated time to start at (ISO 8601, e.g. 2027-01-01T00:00:00Z; default now).")
        var timeOrigin: String?

        @Flag(name: .long, help: "Log debug messages.")
        var verbose = false

        func validate() throws {
            if let timeOrigin, Timestamp.parse(timeOrigin) == nil {
                throw ValidationError("--time-origin: expected an ISO 8601 time such as 2027-01-01T00:00:00Z, got '\(timeOrigin)'")
            }
        }

        func run() async throws {
            bootstrapLogging(level: verbose ? .debug : .info)
            let logger = Logger(label: "replenishd")
            let toggle = debugToggle(logger: logger)
            defer { toggle.cancel() }
            let loaded = try loadConfig(config, forRun: true)
            do {
                try await Daemon.run(config: loaded, configPath: config, simulate: simulate, timeScale: timeScale,
                                     timeOrigin: timeOrigin.flatMap { Timestamp.parse($0) }, logger: logger)
            } catch let error as AgentError
                where [.invalidArguments, .unsupported, .unreadable, .databaseRefused].contains(error.code) {
                // Configuration problems found when the config is used (files, permissions, arguments),
                // and a state database that restarting cannot fix (empty, damaged, foreign, another device's).
                printErr("replenishd: \(error)")
                throw ExitCode(exConfig)
            } catch let error as AgentError where error.code == .databaseInUse {
                printErr("replenishd: \(error)")
                throw ExitCode(exTempFail)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file and the files it names, without touching hardware or network.",
            discussion: "Exits 0 when valid, 78 (EX_CONFIG) with one line per problem when not.")

        @Option(name: .long, help: "The configuration file.")
        var config: String = "/etc/replenishd/replenishd.yaml"

        @Flag(name: .long, help: ArgumentHelp(
            "Check the file alone, not the directories and key files it names on this machine.",
            discussion: "For a config written for another board, e.g. a profile checked in a build pipeline."))
        var fileOnly = false

        func run() throws {
            do {
                let loaded = fileOnly ? try ConfigLoader.load(path: config) : try ConfigLoader.loadForRun(path: config)
                print("\(config): ok (device \(loaded.device.id), \(loaded.slots.count) slots, config \(loaded.configHash))")
            } catch {
                printErr(error.description)
                throw ExitCode(exConfig)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each slot's level, consumption, forecast and replenishment, the broker and the outbox.",
            discussion: "Reads the state database read-only, so it works while the daemon runs. "
                + "Exits 78 on a bad config, 69 (EX_UNAVAILABLE) when there is no state database yet.")

        @Option(name: .long, help: "The configuration file.")
        var config: String = "/etc/replenishd/replenishd.yaml"

        @Flag(name: .long, help: "One JSON object, for scripts.")
        var json = false

        func run() throws {
            let loaded = try loadConfig(config)
            let status: DeviceStatus
            do {
                status = try DeviceStatus.read(config: loaded)
            } catch let error as AgentError where error.code == .unavailable {
                printErr("replenishd: \(error)")
                throw ExitCode(69)
            } catch let error as AgentError where error.code == .unreadable {
                printErr("replenishd: \(error)")
                throw ExitCode(1)
            }
            print(json ? try StatusJSON.render(status) : StatusText.render(status, timeZone: loaded.device.timeZone.flatMap(TimeZone.init(identifier:)) ?? .current))
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the state database afresh, keeping the old one beside it as <path>.broken-<time>.",
            discussion: "For a database `run` refuses (empty, damaged, another device's): the old file and its "
                + "-wal/-shm are renamed, never deleted, and a fresh database for the config's device.id takes its "
                + "place; seqs continue after the old database's last one when it can still be read. "
                + "Exits 75 (EX_TEMPFAIL) while a daemon runs on the database, 78 on a bad config.")

        @Option(name: .long, help: "The configuration file.")
        var config: String = "/etc/replenishd/replenishd.yaml"

        @Option(name: .long, help: "The fresh database's first seq (default: after the old one's last, else 1).")
        var firstSeq: UInt64?

        func run() throws {
            let loaded = try loadConfig(config)
            do {
                for line in try DatabaseReset.run(config: loaded, configPath: config, firstSeq: firstSeq) { print(line) }
            } catch let error as AgentError where error.code == .databaseInUse {
                printErr("replenishd: \(error)")
                throw ExitCode(exTempFail)
            } catch let error as AgentError where error.code == .databaseRefused {
                printErr("replenishd: \(error)")
                throw ExitCode(exConfig)
            } catch {
                printErr("replenishd: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Probe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read each configured sensor once (or continuously) for bench bring-up.",
            discussion: "Shows the raw value and what the slot's ledger would see, and says exactly what is wrong "
                + "when a GPIO line or I2C device cannot be opened. Runs as any user in the device groups.")

        @Option(name: .long, help: "The configuration file.")
        var config: String = "/etc/replenishd/replenishd.yaml"

        @Option(name: .long, help: "Only this slot.")
        var slot: String?

        @Flag(name: .long, help: "Keep reading at each slot's sample interval until interrupted.")
        var watch = false

        func run() async throws {
            let loaded = try loadConfig(config)
            let opened = try ReplenishAgent.Probe.open(loaded, slot: slot)
            defer { for case (_, .success(let source)) in opened { source.stop() } }
            var failed = false
            var samplers = opened.map { SlotSampler(source: $0.0.source, definition: $0.0.definition) }
            let started = ContinuousClock.now
            repeat {
                for (index, (slotConfig, source)) in opened.enumerated() {
                    let elapsed = ContinuousClock.now - started
                    let line = ReplenishAgent.Probe.read(slotConfig, source, sampler: &samplers[index], at: Date(),
                                                         monotonic: Double(elapsed.components.seconds)
                                                             + Double(elapsed.components.attoseconds) * 1e-18)
                    failed = failed || !line.ok
                    print(line)
                }
                if watch {
                    let interval = opened.map(\.0.source.sampleIntervalSeconds).min() ?? 1
                    try await Task.sleep(for: .seconds(max(0.1, min(interval, 5))))
                    print("")
                }
            } while watch
            if failed { throw ExitCode(1) }
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the coffee-machine profile simulated against a broker and show each day as it is reported.")

        @Option(name: .long, help: "Broker URL (mqtt://host:port); default: a private mosquitto on a free loopback port.")
        var broker: String?

        @Option(name: .long, help: "Simulated days to run.")
        var days: Int = 30

        @Option(name: .long, help: "Simulated seconds per real second (86400: a day a second).")
        var speed: Double = 86_400

        @Option(name: .long, help: "The profile to run.")
        var profile: String?

        func validate() throws {
            guard days > 0 else { throw ValidationError("--days must be at least 1") }
            guard speed > 0 else { throw ValidationError("--speed must be positive") }
        }

        func run() async throws {
            bootstrapLogging(level: .warning)
            let options = DemoOptions(broker: broker, days: days, speed: speed, profile: profile)
            try await DemoRun(options: options, output: { print($0) }).run()
        }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the running daemon take the config file again, and wait until it has (systemd's ExecReload=).",
            discussion: "Checks the file as `check` does (exit 78 with one line per problem; the daemon is not asked), "
                + "sends the daemon SIGHUP, and waits until it runs the new configuration: exit 0 when it does or "
                + "nothing changed, 69 (EX_UNAVAILABLE) when no daemon runs on the config's database, 1 when it "
                + "did not take the configuration within --timeout seconds (the journal says why).")

        @Option(name: .long, help: "The configuration file.")
        var config: String = "/etc/replenishd/replenishd.yaml"

        @Option(name: .long, help: "Seconds to wait for the daemon.")
        var timeout: Double = 30

        func run() async throws {
            do {
                switch try await ReloadRequest.run(configPath: config, timeout: timeout) {
                case .applied(let hash): print("\(config): reloaded (config \(hash))")
                case .unchanged(let hash): print("\(config): unchanged (config \(hash)); nothing to reload")
                }
            } catch let error as ConfigError {
                reportRejected(error, path: config)
                throw ExitCode(exConfig)
            } catch let error as AgentError where error.code == .unavailable {
                printErr("replenishd: \(error)")
                throw ExitCode(69)
            } catch let error as AgentError {
                printErr("replenishd: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the version.")

        func run() {
            print("replenishd \(AgentVersion.current)")
        }
    }
}

/// The config at `path`, or exit 78 with one line per problem (as `check` prints them), after
/// `rejected` has had its say.
/// `forRun` also checks what the daemon will open (database directory, key files), as `check` does.
func loadConfig(_ path: String, forRun: Bool = false) throws -> AgentConfig {
    do {
        return try forRun ? ConfigLoader.loadForRun(path: path) : ConfigLoader.load(path: path)
    } catch {
        reportRejected(error, path: path)
        throw ExitCode(exConfig)
    }
}

/// A refused config: on a terminal, exactly what `check` prints; under systemd (`run`, and
/// `reload` as ExecReload=), one entry at priority err with MESSAGE_ID configRejected whose
/// message carries every problem, so `journalctl -u replenishd -p err` shows the reason itself.
func reportRejected(_ error: ConfigError, path: String) {
    guard journalAttached else { return printErr(error.description) }
    let logger = Logger(label: "replenishd") { JournalLogHandler(label: $0) }
    logger.error("configuration rejected: \(error.diagnostics.map(\.description).joined(separator: "; "))",
                 metadata: JournalMessageID.configRejected.metadata.merging([
                     "file": "\(path)", "problems": "\(error.diagnostics.count)",
                 ]) { $1 })
}

func printErr(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Whether stderr is the journal (systemd's `JOURNAL_STREAM`).
let journalAttached = JournalLogHandler.isJournal(journalStream: ProcessInfo.processInfo.environment["JOURNAL_STREAM"])

/// The journal when stderr is the journal, readable lines otherwise; `level` until SIGUSR1 toggles debug.
func bootstrapLogging(level: Logger.Level) {
    LogLevelSwitch.shared.configure(level)
    LoggingSystem.bootstrap { label in
        journalAttached ? JournalLogHandler(label: label) as any LogHandler : ConsoleLogHandler(label: label)
    }
}

/// SIGUSR1 switches debug logging on and off without a restart.
func debugToggle(logger: Logger) -> any DispatchSourceSignal {
    StartupSignals.prepareSource(for: SIGUSR1)
    let source = DispatchSource.makeSignalSource(signal: SIGUSR1)
    source.setEventHandler {
        let level = LogLevelSwitch.shared.toggleDebug()
        logger.notice("SIGUSR1: log level is now \(level)")
    }
    source.resume()
    return source
}
