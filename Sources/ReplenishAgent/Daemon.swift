import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ReplenishCore
import ReplenishHardware
import ReplenishSystemd
import ServiceLifecycle
import UnixSignals

/// `replenishd run`: the sources the config asks for, the service, and signal handling.
public enum Daemon {
    /// Builds every slot's source. `simulate` replaces hardware drivers with simulated ones.
    public static func sources(for config: AgentConfig, simulate: Bool, start: Date) throws -> [any SensorSource] {
        try config.slots.map { try source(for: $0, simulate: simulate, start: start) }
    }

    /// One slot's source: its hardware driver, or a simulated household.
    static func source(for slot: SlotConfig, simulate: Bool, start: Date) throws -> any SensorSource {
        if simulate || slot.source.hardware == nil { return simulatedSource(for: slot, start: start) }
        return try HardwareSources.open(slot)
    }

    /// The slot's simulated household: its `simulation:` settings, else a slot that empties in about ten days.
    static func simulatedSource(for slot: SlotConfig, start: Date) -> SimulatedSource {
        SimulatedSource(definition: slot.definition,
                        settings: slot.simulation ?? .defaults(capacity: slot.definition.capacity),
                        sampleIntervalSeconds: slot.source.sampleIntervalSeconds, start: start)
    }

    /// The clock for a run: real time, or simulated time `timeScale` times faster (simulated sources
    /// only), starting at `origin` (default now; a harness that restarts the daemon passes where the
    /// previous run's simulated time had got to, so an accelerated month stays one month).
    public static func clock(for config: AgentConfig, simulate: Bool, timeScale: Double?,
                             origin: Date? = nil) throws -> any AgentClock {
        guard let timeScale, timeScale != 1 else {
            if origin != nil { throw AgentError(.invalidArguments, "--time-origin needs --time-scale") }
            return SystemClock()
        }
        guard timeScaleRange.contains(timeScale) else {
            throw AgentError(.invalidArguments,
                             "--time-scale must be from 1 to \(Int(timeScaleRange.upperBound)) (simulated seconds per real second), got \(timeScale)")
        }
        let hardware = config.slots.filter { $0.source.driver != .simulated }.map(\.definition.id)
        guard simulate || hardware.isEmpty else {
            throw AgentError(.invalidArguments,
                             "--time-scale needs every source simulated; hardware slots: \(hardware.joined(separator: ", ")) (add --simulate)")
        }
        return ScaledClock(origin: origin ?? Date(), scale: timeScale)
    }

    /// Simulated seconds per real second a run may go at. At a million, a ten-minute sample interval
    /// is 0.6 ms of real time; faster, the sources would produce readings faster than the ledger
    /// commits them, and a stop would wait for the backlog.
    public static let timeScaleRange: ClosedRange<Double> = 1...1_000_000

    /// Runs until SIGTERM or SIGINT; SIGHUP reloads `configPath`.
    public static func run(config: AgentConfig, configPath: String, simulate: Bool, timeScale: Double?,
                           timeOrigin: Date? = nil, logger: Logger) async throws {
        let clock = try clock(for: config, simulate: simulate, timeScale: timeScale, origin: timeOrigin)
        // Simulated time is the simulation's own truth: trust it. Real time is trusted per the kernel or an RTC.
        let trust: (any ClockTrust)? = clock is ScaledClock ? FixedClockTrust(true) : nil
        // Refuses an empty, damaged, foreign or other device's database, or one another daemon
        // runs on, before anything starts; the lock is kept until exit, across reloads.
        let databaseLock = try await BlockingQueue.offPool("replenishd.database.open") {
            Result { try StateDatabase.openForDaemon(config: config, configPath: configPath) }
        }.get()
        defer { withExtendedLifetime(databaseLock) {} }
        let start = clock.now()
        let (reloads, requestReload) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        // Every signal the daemon handles, here: SIGTERM and SIGINT are the service group's
        // graceful shutdown, SIGHUP and SIGUSR1 the signal service's. Their sources exist before
        // the supervisor starts and replays what arrived while starting (see `StartupSignals`).
        for signal in [SIGHUP, SIGUSR1] { StartupSignals.prepareSource(for: signal) }
        let signals = SignalService(signals: await UnixSignalsSequence(trapping: .sighup, .sigusr1),
                                    reload: requestReload, logger: logger)
        let supervisor = DaemonSupervisor(
            config: config, configPath: configPath, reloadRequests: reloads,
            openSource: { try source(for: $0, simulate: simulate, start: start) },
            clock: clock, trust: trust, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: signals), .init(service: supervisor)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.info("replenishd starting", metadata: [
            "device": "\(config.device.id)", "broker": "\(config.mqtt.url)", "slots": "\(config.slots.count)",
            "config": "\(config.configHash)", "remoteVersion": "\(config.remoteVersion.map(String.init) ?? "none")",
        ])
        try await group.run()
    }
}

/// SIGHUP asks the supervisor for a reload; SIGUSR1 toggles debug logging. Stops with the group,
/// after the supervisor (a SIGHUP during shutdown is not a reload).
struct SignalService: Service {
    let signals: UnixSignalsSequence
    let reload: AsyncStream<Void>.Continuation
    let logger: Logger

    func run() async {
        for await signal in signals.cancelOnGracefulShutdown() {
            if signal == .sighup {
                reload.yield()
            } else if signal == .sigusr1 {
                let level = LogLevelSwitch.shared.toggleDebug()
                logger.notice("SIGUSR1: log level is now \(level)")
            }
        }
    }
}
