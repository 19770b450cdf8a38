import FoundationEssentials
import Logging
import ReplenishCore
import ReplenishHardware
import ReplenishStore
import Synchronization

/// The demo's device: the daemon as `replenishd run --simulate` starts it, minus signals and
/// systemd. It holds the database's lock and runs the supervisor on the demo's config file, so a
/// desired document from the demo's cloud is checked, kept as an overlay and applied (a reload,
/// the same broker connection) by the code a device in the field runs.
final class DemoDaemon: Sendable {
    let config: AgentConfig
    private let supervisor: DaemonSupervisor
    /// Held for the daemon's life, as `run` holds it: one daemon per database.
    private let lock: DatabaseLock
    private let households = Households()
    private let task = Mutex<Task<Void, any Error>?>(nil)
    private let ended = Mutex<(any Error)?>(nil)

    /// Loads `configPath` as `run` does (no overlay exists yet in the demo's fresh directory).
    init(configPath: String, clock: ScaledClock, logger: Logger) throws {
        let (loaded, _) = try RemoteOverlay.loadForStart(configPath: configPath)
        config = loaded
        lock = try StateDatabase.openForDaemon(config: loaded, configPath: configPath)
        let start = clock.now()
        let (reloads, _) = AsyncStream.makeStream(of: Void.self)
        let households = self.households
        supervisor = DaemonSupervisor(
            config: loaded, configPath: configPath, reloadRequests: reloads,
            openSource: { slot in
                let source = try Daemon.source(for: slot, simulate: true, start: start)
                if let simulated = source as? SimulatedSource { households.opened(simulated, for: slot.definition.id) }
                return source
            },
            // Simulated time is the simulation's own truth, as under `run --time-scale`.
            clock: clock, trust: FixedClockTrust(true), logger: logger)
    }

    func start() {
        task.withLock { task in
            guard task == nil else { return }
            task = Task { [self] in
                do { try await supervisor.run() } catch {
                    ended.withLock { $0 = error }
                    throw error
                }
            }
        }
    }

    var isStarted: Bool { task.withLock { $0 != nil } }

    /// Why the daemon stopped on its own (its database refused, its sources failed), if it did.
    var failure: (any Error)? { ended.withLock { $0 } }

    /// Waits until the broker acknowledged everything committed so far, or `limit` passed.
    func drain(within limit: Duration) async {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            guard let link = supervisor.uplink.withLock({ $0 }),
                  let waiting = try? await link.queue.run({ try link.store.outboxStats().count }) else { return }
            if waiting == 0 { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the daemon the orderly way (ledgers written, `offline` published); returns what the
    /// broker acknowledged. A threshold change keeps the connection, so one drainer counted it all.
    func stop() async -> DeliveryStats {
        let link = supervisor.uplink.withLock { $0 }
        let running = task.withLock { $0 }
        running?.cancel()
        _ = try? await running?.value
        return link?.drainer.stats.withLock { $0 } ?? DeliveryStats()
    }

    /// The simulation's truth per slot: what the household used and how often it refilled.
    var household: [String: (used: Double, refills: Int)] { households.truth }

    /// Each slot's simulated household as last opened, to hold the ledger against at the end.
    private final class Households: Sendable {
        private let sources = Mutex<[String: SimulatedSource]>([:])

        func opened(_ source: SimulatedSource, for slot: String) {
            sources.withLock { $0[slot] = source }
        }

        var truth: [String: (used: Double, refills: Int)] {
            sources.withLock { $0.mapValues { ($0.totalUsed, $0.refills) } }
        }
    }
}
