import ArgumentParser
import Dispatch
import FoundationEssentials
import Glibc
import Logging
import ReplenishAgent
import ReplenishCore
import ReplenishHardware
import ReplenishSystemd

struct Replenishd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replenishd",
        abstract: "Consumable tracking agent: sensors to daily ledger to MQTT, with nothing lost on the way.",
        version: AgentVersion.current,
        subcommands: [Run.self, Check.self, Reload.self, Status.self, ConfigCommand.self, Reset.self, Probe.self, AlexaDiscovery.self, Demo.self,
                      Version.self]
    )

    /// Then as ArgumentParser's `main`, except that an error a command throws ends the process
    /// through `ExitStatus`, the one mapping from error to exit status every command uses.
    static func runCommand() async {
        var command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot(nil)
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: ExitStatus.ending(error, of: command))
        }
    }
}

/// The process's entry point. `run` holds its signals before anything else happens (see
/// `StartupSignals`); the other commands keep the default actions, so SIGTERM and Ctrl-C end them
/// as usual.
///
/// The other commands are what people run, often unprivileged (`status` as the service user):
/// there libdispatch's manager thread is refused the nice value -4 it asks for and logs
/// "Failed to set thread priority for worker thread … errno=13" to the journal, once per command.
/// They leave libdispatch's log off unless the caller set LIBDISPATCH_LOG; the daemon keeps it
/// (its unit allows that nice value, see replenishd.service).
///
/// The command runs on the concurrency runtime's pool while the main thread waits for it, instead
/// of an `async` main: that one ends in `dispatch_main`, which leaves the main thread with
/// `pthread_exit`, whose forced unwind loads libgcc_s and searches the binary's unwind tables —
/// about 1 MiB of a 2 MiB table made resident once, at every start, for nothing (issue 16). Nothing
/// here runs on the main actor or the main queue.
@main
enum Entry {
    static func main() {
        if CommandLine.arguments.dropFirst().first == "run" {
            StartupSignals.hold()
        } else {
            setenv("LIBDISPATCH_LOG", "NO", 0)
        }
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await Replenishd.runCommand()
            finished.signal()
        }
        finished.wait()
    }
}

/// `--config`, declared once for every command that reads the configuration file.
struct ConfigPath: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config: String = "/etc/replenishd/replenishd.yaml"

    /// The config, or the `AgentError(.configRejected)` that `ExitStatus` turns into exit 78 with one line per
    /// problem (as `check` prints them; under systemd one journal entry, see `reportRejected`).
    /// `forRun` also checks what the daemon will open (database directory, key files), as `check` does.
    func load(forRun: Bool = false) throws(AgentError) -> AgentConfig {
        try forRun ? ConfigLoader.loadForRun(path: config) : ConfigLoader.load(path: config)
    }
}

/// A command with `--config`: a refused configuration is reported against its file.
protocol ConfigFileCommand: ParsableCommand {
    var file: ConfigPath { get }
}

extension Replenishd {
    struct Run: AsyncParsableCommand, ConfigFileCommand {
        static let configuration = CommandConfiguration(abstract: "Run the daemon.")

        @OptionGroup var file: ConfigPath

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
            // The file, with the cloud's overlay merged over it; an overlay the file no longer takes
            // is set aside for this run (the cloud's retained document is checked again and answered).
            let (loaded, overlayProblems) = try RemoteOverlay.loadForStart(configPath: file.config)
            if let overlayProblems {
                logger.error("remote configuration overlay not applied; running on the local file alone")
                for line in overlayProblems.message.split(separator: "\n") { logger.error("\(line)") }
            }
            try await Daemon.run(config: loaded, configPath: file.config, simulate: simulate, timeScale: timeScale,
                                 timeOrigin: timeOrigin.flatMap { Timestamp.parse($0) }, logger: logger)
        }
    }

    struct Check: ParsableCommand, ConfigFileCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file and the files it names, without touching hardware or network.",
            discussion: "Exits 0 when valid, 78 (EX_CONFIG) with one line per problem when not.")

        @OptionGroup var file: ConfigPath

        @Flag(name: .long, help: ArgumentHelp(
            "Check the file alone, not the directories and key files it names on this machine.",
            discussion: "For a config written for another board, e.g. a profile checked in a build pipeline."))
        var fileOnly = false

        func run() throws {
            let loaded = try file.load(forRun: !fileOnly)
            print("\(file.config): ok (device \(loaded.device.id), \(loaded.slots.count) slots, config \(loaded.configHash))")
        }
    }

    struct Status: ParsableCommand, ConfigFileCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each slot's level, consumption, forecast and replenishment, the broker and the outbox.",
            discussion: "Reads the state database read-only, so it works while the daemon runs. "
                + "Exits 78 on a bad config, 69 (EX_UNAVAILABLE) when there is no state database yet.")

        @OptionGroup var file: ConfigPath

        @Flag(name: .long, help: "One JSON object, for scripts.")
        var json = false

        func run() throws {
            // The configuration in force: the file with the cloud's overlay merged over it.
            let loaded = try RemoteOverlay.loadInForce(configPath: file.config, forRun: false).config
            let status = try DeviceStatus.read(config: loaded)
            print(json ? try StatusJSON.render(status) : StatusText.render(status, zone: loaded.device.zone))
        }
    }

    struct ConfigCommand: ParsableCommand, ConfigFileCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract: "Show the configuration in force: the file with the cloud's overlay merged over it.",
            discussion: "--show prints one key per line with its origin: the file's line, or the remote version "
                + "that set it. Reads the files only. Exits 78 on a bad config.")

        @OptionGroup var file: ConfigPath

        @Flag(name: .long, help: "Print the merged configuration with the origin of each key.")
        var show = false

        func validate() throws {
            guard show else { throw ValidationError("nothing to do: give --show") }
        }

        func run() throws {
            print(try ConfigShow.render(configPath: file.config))
        }
    }

    struct Reset: ParsableCommand, ConfigFileCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the state database afresh, keeping the old one beside it as <path>.broken-<time>.",
            discussion: "For a database `run` refuses (empty, damaged, another device's): the old file and its "
                + "-wal/-shm are renamed, never deleted, and a fresh database for the config's device.id takes its "
                + "place; seqs continue after the old database's last one when it can still be read. "
                + "Exits 75 (EX_TEMPFAIL) while a daemon runs on the database, 78 on a bad config.")

        @OptionGroup var file: ConfigPath

        @Option(name: .long, help: "The fresh database's first seq (default: after the old one's last, else 1).")
        var firstSeq: UInt64?

        func run() throws {
            let loaded = try file.load()
            for line in try DatabaseReset.run(config: loaded, configPath: file.config, firstSeq: firstSeq) { print(line) }
        }
    }

    struct Probe: AsyncParsableCommand, ConfigFileCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read each configured sensor once (or continuously) for bench bring-up.",
            discussion: "Shows the raw value and what the slot's ledger would see, and says exactly what is wrong "
                + "when a GPIO line or I2C device cannot be opened. Runs as any user in the device groups.")

        @OptionGroup var file: ConfigPath

        @Option(name: .long, help: "Only this slot.")
        var slot: String?

        @Flag(name: .long, help: "Keep reading at each slot's sample interval until interrupted.")
        var watch = false

        func run() async throws {
            let loaded = try file.load()
            let opened = try ReplenishAgent.Probe.open(loaded, slot: slot)
            defer { for case (_, .success(let source)) in opened { source.stop() } }
            var failed = false
            var samplers = opened.map { SlotPipeline(source: $0.0.source, definition: $0.0.definition) }
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

    struct AlexaDiscovery: ParsableCommand, ConfigFileCommand {
        static let configuration = CommandConfiguration(
            commandName: "alexa-discovery",
            abstract: "Print the Alexa discovery capabilities of the device's slots as JSON, for the maker's cloud.",
            discussion: "One object: endpointId (device.alexa_endpoint_id) and capabilities, the Alexa interface and "
                + "one inventory sensor per slot with its instance, friendly name, measurement and Dash replenishment "
                + "id. Reads the config file only. Exits 78 on a bad config (among them a device id that cannot be an "
                + "endpoint id while device.alexa_endpoint_id is unset).")

        @OptionGroup var file: ConfigPath

        func run() throws {
            // A device id that cannot be an endpoint id is a config error (the reports address Alexa too).
            let loaded = try file.load()
            print(try ReplenishAgent.AlexaDiscovery.render(loaded))
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the coffee-machine profile simulated against a broker and show each day as it is reported.",
            discussion: "The daemon runs as `run` runs it, on a config file in a temporary directory. A simulated cloud "
                + "answers reorder requests and, on the 10th daily report (runs of more than 10 days), lowers the bean "
                + "hopper's low threshold with a desired document on {base}/config/desired; the device's answer and the "
                + "reports that use the new configuration are shown.")

        @Option(name: .long, help: "Broker URL (mqtt://host:port); default: a private mosquitto on a free loopback port.")
        var broker: String?

        @Option(name: .long, help: "Simulated days to run.")
        var days: Int = 30

        @Option(name: .long, help: "Simulated seconds per real second (86400: a day a second).")
        var speed: Double = 86_400

        @Option(name: .long, help: "The profile to run.")
        var profile: String?

        @Option(name: .long, help: ArgumentHelp("Append every message heard, and every command the demo's cloud sends, to FILE as JSON lines (topic, payload, retained), for Tests/Contract/validate.py.", valueName: "FILE"))
        var capture: String?

        func validate() throws {
            guard days > 0 else { throw ValidationError("--days must be at least 1") }
            guard speed > 0 else { throw ValidationError("--speed must be positive") }
        }

        func run() async throws {
            bootstrapLogging(level: .warning)
            let options = DemoOptions(broker: broker, days: days, speed: speed, profile: profile, capture: capture)
            try await DemoRun(options: options, output: { print($0) }).run()
        }
    }

    struct Reload: AsyncParsableCommand, ConfigFileCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the running daemon take the config file again, and wait until it has (systemd's ExecReload=).",
            discussion: "Checks the file as `check` does (exit 78 with one line per problem; the daemon is not asked), "
                + "sends the daemon SIGHUP, and waits until it runs the new configuration: exit 0 when it does or "
                + "nothing changed, 69 (EX_UNAVAILABLE) when no daemon runs on the config's database, 1 when it "
                + "did not take the configuration within --timeout seconds (the journal says why).")

        @OptionGroup var file: ConfigPath

        @Option(name: .long, help: "Seconds to wait for the daemon.")
        var timeout: Double = 30

        func run() async throws {
            switch try await ReloadRequest.run(configPath: file.config, timeout: timeout) {
            case .applied(let hash): print("\(file.config): reloaded (config \(hash))")
            case .unchanged(let hash): print("\(file.config): unchanged (config \(hash)); nothing to reload")
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

/// A refused config: on a terminal, exactly what `check` prints; under systemd (`run`, and
/// `reload` as ExecReload=), one entry at priority err with MESSAGE_ID configRejected whose
/// message carries every problem, so `journalctl -u replenishd -p err` shows the reason itself.
func reportRejected(_ error: AgentError, path: String) {
    guard journalAttached else { return printErr(error.description) }
    let logger = Logger(label: "replenishd") { JournalLogHandler(label: $0) }
    logger.error("configuration rejected: \(error.diagnostics.map(\.description).joined(separator: "; "))",
                 metadata: JournalMessageID.configRejected.metadata.merging([
                     "file": "\(path)", "problems": "\(error.diagnostics.count)",
                 ]) { $1 })
}

func printErr(_ text: String) {
    StandardError.write(text + "\n")
}

/// Whether stderr is the journal (systemd's `JOURNAL_STREAM`).
let journalAttached = JournalLogHandler.isJournal(journalStream: getenv("JOURNAL_STREAM").map { String(cString: $0) })

/// The journal when stderr is the journal, readable lines otherwise; `level` until SIGUSR1 toggles debug.
func bootstrapLogging(level: Logger.Level) {
    LogLevelSwitch.shared.configure(level)
    LoggingSystem.bootstrap { label in
        journalAttached ? JournalLogHandler(label: label) as any LogHandler : ConsoleLogHandler(label: label)
    }
}
