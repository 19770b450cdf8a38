import FoundationEssentials
import Logging
import ReplenishCore
import ReplenishHardware
import ReplenishSystemd
import ServiceLifecycle
import Synchronization

/// Runs the daemon for the current configuration and swaps in a new one when asked (SIGHUP).
///
/// A reload first loads and checks the file as `replenishd check` does (the database's directory,
/// key files and certificates included): a config that fails is refused with the same messages
/// and the running one carries on. A valid one stops the running service the orderly way
/// (ledgers written to the database), then starts it again with the new config, which loads
/// those ledgers: no count is lost. Sources of slots whose configuration did not change stay
/// open throughout, so a pulse counter keeps counting edges during the swap; the database and
/// broker connection (`Uplink`) stay too when the `mqtt` settings and `storage.path` did not
/// change, and a reload never sends a `startup` report. A desired document from the cloud
/// (`{base}/config/desired`) takes the same path once checked; a connection change stays tentative
/// until its state round trip confirms it, and is rolled back otherwise (`DaemonSupervisor+Remote`).
public final class DaemonSupervisor: Service, Sendable {
    /// Builds a started source for a slot.
    public typealias SourceOpener = @Sendable (SlotConfig) throws -> any SensorSource

    private let initial: AgentConfig
    let configPath: String
    private let reloadRequests: AsyncStream<Void>
    private let openSource: SourceOpener
    let clock: any AgentClock
    let trust: (any ClockTrust)?
    private let notifier: ServiceNotifier
    private let stallLimit: Double?
    let logger: Logger
    /// The database and broker connection, kept across reloads that leave them alone.
    let uplink = Mutex<Uplink?>(nil)
    /// Shared by every generation, as the drainer of a kept uplink reports its steps here.
    private let liveness = LoopLiveness()
    /// Desired documents from `{base}/config/desired`, from whichever uplink is current.
    private let remoteInputs: AsyncStream<RemoteInput>
    private let remoteFeed: AsyncStream<RemoteInput>.Continuation

    public init(config: AgentConfig, configPath: String, reloadRequests: AsyncStream<Void>,
                openSource: @escaping SourceOpener, clock: any AgentClock, trust: (any ClockTrust)? = nil,
                notifier: ServiceNotifier = ServiceNotifier(), stallLimit: Double? = nil, logger: Logger) {
        self.initial = config
        self.configPath = configPath
        self.reloadRequests = reloadRequests
        self.openSource = openSource
        self.clock = clock
        self.trust = trust
        self.notifier = notifier
        self.stallLimit = stallLimit
        self.logger = logger
        (remoteInputs, remoteFeed) = AsyncStream.makeStream(of: RemoteInput.self)
    }

    private enum Event: Sendable {
        case reloadRequested
        case remote(RemoteInput)
        /// A tentative configuration's time to confirm ran out.
        case confirmationDue(version: Int)
        case ended(generation: Int, error: (any Error)?)
    }

    /// A connection change from the cloud applied tentatively.
    private struct PendingConnection {
        var version: Int
        var payload: [UInt8]
        var url: BrokerURL
        /// The new settings got a connection; the state round trip is what is missing.
        var connected = false
    }

    /// An open source and the slot configuration it was opened for.
    private struct OpenSource {
        var slot: SlotConfig
        var source: any SensorSource
    }

    public func run() async throws {
        // The service group made its signal sources before starting this service: what arrived
        // while the daemon was starting can be handled now.
        StartupSignals.replay()
        let (events, feed) = AsyncStream.makeStream(of: Event.self)
        let requests = Task { [reloadRequests] in
            for await _ in reloadRequests { feed.yield(.reloadRequested) }
        }
        let documents = Task { [remoteInputs] in
            for await input in remoteInputs { feed.yield(.remote(input)) }
        }
        defer {
            requests.cancel()
            documents.cancel()
        }

        var config = initial
        var none: [String: OpenSource] = [:]
        var open = try await openSources(for: config, keeping: &none)
        var generation = 0
        var (service, task) = start(config, open, generation: generation, feed: feed)
        // The configuration a reload replaced: should the new one fail to start after all checks
        // passed (a database refused when opened), the daemon goes back to it instead of exiting.
        var previous: AgentConfig?
        // A connection change from the cloud waiting for its confirmation; also after a restart in its window.
        var pending: PendingConnection?
        var confirmTimer: Task<Void, Never>?
        defer { confirmTimer?.cancel() }
        func awaitConfirmation(of candidate: AgentConfig) {
            guard let version = candidate.remoteVersion else { return }
            pending = PendingConnection(version: version, payload: Array((candidate.remoteText ?? "").utf8), url: candidate.mqtt.url)
            let seconds = candidate.remoteConfig.confirmWithinSeconds
            confirmTimer?.cancel()
            // Real time, as the broker's is (also under --time-scale).
            confirmTimer = Task {
                guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
                feed.yield(.confirmationDue(version: version))
            }
            logger.notice("connection change applied tentatively", metadata: [
                "version": "\(version)", "broker": "\(candidate.mqtt.url)", "confirmWithin": "\(seconds)",
            ])
        }
        if initial.remoteTentative { awaitConfirmation(of: initial) }

        /// The SIGHUP path: the running generation stops the orderly way (ledgers written), then
        /// `candidate` starts on the sources it shares. `stopped` runs in between, with no
        /// generation running: what it queues comes before every message of the new configuration.
        func swap(to candidate: AgentConfig, because why: String, stopped: () async -> Void = {}) async throws {
            notifier.reloading(status: why)
            logger.notice("reloading configuration", metadata: [
                "config": "\(candidate.configHash)", "previous": "\(config.configHash)", "why": "\(why)",
            ])
            service.prepareReload()
            task.cancel()
            _ = await task.result
            await stopped()
            previous = nil
            do {
                open = try await openSources(for: candidate, keeping: &open)
                previous = config
                config = candidate
                logger.notice("configuration reloaded", metadata: ["config": "\(config.configHash)"])
            } catch {
                logger.error("new configuration's sources could not be opened; keeping the previous one",
                             metadata: ["error": "\(error)"])
                open = try await openSources(for: config, keeping: &open)
            }
            generation += 1
            (service, task) = start(config, open, generation: generation, feed: feed)
        }

        do {
            try await withTaskCancellationHandler {
                for await event in events {
                    switch event {
                    case let .ended(ended, error?) where ended == generation && previous != nil:
                        let failed = config
                        config = previous!
                        previous = nil
                        logger.error("the reloaded configuration failed; going back to the previous one", metadata: [
                            JournalMessageID.metadataKey: .string(JournalMessageID.configRejected.rawValue),
                            "error": "\(error)", "config": "\(failed.configHash)", "previous": "\(config.configHash)",
                        ])
                        open = try await openSources(for: config, keeping: &open)
                        generation += 1
                        (service, task) = start(config, open, generation: generation, feed: feed)
                    case let .ended(ended, error) where ended == generation:
                        if let error { throw error }
                        return
                    case .ended:
                        continue  // the generation a reload replaced
                    case .reloadRequested:
                        guard !Task.isShuttingDownGracefully else { continue }
                        guard let candidate = load(replacing: config) else { continue }
                        try await swap(to: candidate, because: "reloading \(configPath)")
                    case .remote(.connected):
                        pending?.connected = true
                    case let .remote(.stateSeen(hash)):
                        guard let confirmed = pending, hash == config.configHash else { continue }
                        pending = nil
                        confirmTimer?.cancel()
                        do { try RemoteOverlay.confirm(RemoteOverlay.path(for: config)) } catch {
                            logger.error("could not record the connection change as confirmed", metadata: ["error": "\(error)"])
                        }
                        config.remoteTentative = false
                        await answer(.applied, version: confirmed.version, problems: [], payload: confirmed.payload, config: config)
                    case let .confirmationDue(version):
                        guard let failed = pending, failed.version == version, !Task.isShuttingDownGracefully else { continue }
                        pending = nil
                        let seconds = ConfigReader.seconds(config.remoteConfig.confirmWithinSeconds)
                        let reason = failed.connected
                            ? "connected to \(failed.url) but its own state did not come back within \(seconds)"
                            : "could not connect to \(failed.url) within \(seconds)"
                        let back = rollBack(from: config)
                        logger.error("connection change rolled back", metadata: [
                            "version": "\(version)", "reason": "\(reason)", "config": "\(back.configHash)",
                        ])
                        try await swap(to: back, because: "rolling back remote configuration version \(version)") {
                            await self.answer(.rolledBack, version: version, problems: [], reason: reason,
                                              payload: failed.payload, config: back)
                        }
                    case let .remote(.desired(payload)):
                        guard !Task.isShuttingDownGracefully, let link = await currentUplink() else { continue }
                        if let pending {
                            // Its answer comes with the confirmation or the rollback.
                            if pending.payload == payload { continue }
                            let problem = ConfigDiagnostic(file: "config/desired", line: 1, column: 1, keyPath: "",
                                                           message: "the connection change of version \(pending.version) is still being confirmed; send this again after its answer")
                            let version = try? RemoteDocument.parse(payload).get().version
                            await answer(.rejected, version: version, problems: [problem], payload: payload, config: config, uplink: link)
                            continue
                        }
                        if await ConfigReported.wasAnswered(payload, inForce: config, uplink: link) {
                            logger.info("desired configuration answered already; not again", metadata: ["config": "\(config.configHash)"])
                            continue
                        }
                        guard let (candidate, version) = await accept(payload, inForce: config, uplink: link) else { continue }
                        if candidate.remoteTentative {
                            try await swap(to: candidate, because: "applying remote configuration version \(version) tentatively")
                            awaitConfirmation(of: candidate)
                            continue
                        }
                        try await swap(to: candidate, because: "applying remote configuration version \(version)") {
                            await self.answer(.applied, version: version, problems: [], payload: payload, config: candidate)
                        }
                    }
                }
            } onCancel: {
                feed.finish()
            }
        } catch {
            await closeUplink()
            await ReplenishService.stop(open.values.map(\.source))
            throw error
        }
        task.cancel()
        _ = await task.result
        await closeUplink()
        await ReplenishService.stop(open.values.map(\.source))
    }

    /// The uplink for a generation running `config`: the current one when it serves it, else a new one.
    private func uplink(for config: AgentConfig) async throws -> Uplink {
        let current = uplink.withLock { $0 }
        if let current, current.serves(config) { return current }
        uplink.withLock { $0 = nil }
        // Replaced by a reload: the next connection follows at once, so no `offline`.
        if let current { await current.stop(final: false) }
        let fresh = try await Uplink.open(config: config, previous: current, liveness: liveness, remote: remoteFeed,
                                          logger: logger)
        // In place before it connects: a retained desired document may come with the connection.
        uplink.withLock { $0 = fresh }
        fresh.start()
        return fresh
    }

    /// The daemon stops: `offline` is published and the outbox drainer finishes.
    private func closeUplink() async {
        let current = uplink.withLock { link in
            defer { link = nil }
            return link
        }
        await current?.stop(final: true)
    }

    /// Starts one generation of the service; its end is reported on `feed`.
    private func start(_ config: AgentConfig, _ open: [String: OpenSource], generation: Int,
                       feed: AsyncStream<Event>.Continuation) -> (ReplenishService, Task<Void, any Error>) {
        let sources = config.slots.compactMap { open[$0.definition.id]?.source }
        let service = ReplenishService(config: config, sources: sources, clock: clock, trust: trust, notifier: notifier,
                                       stallLimit: stallLimit, ownsSources: false, liveness: liveness,
                                       announceStart: generation == 0, logger: logger)
        // An unstructured task keeps the graceful-shutdown context (a task-local) of this one.
        let task = Task {
            do {
                try await service.run(uplink: try await self.uplink(for: config))
                feed.yield(.ended(generation: generation, error: nil))
            } catch {
                feed.yield(.ended(generation: generation, error: error))
                throw error
            }
        }
        return (service, task)
    }

    /// The config file as it is now, when it is valid and differs from `current`; nil otherwise
    /// (the reasons are logged).
    private func load(replacing current: AgentConfig) -> AgentConfig? {
        let candidate: AgentConfig
        do {
            // Everything `check` verifies: ranges, the database's directory, key files and certificates;
            // with the cloud's overlay merged over the file again.
            candidate = try RemoteOverlay.loadInForceOrThrow(configPath: configPath)
            _ = try MQTTOptionsBuilder.options(for: candidate)  // the password file, read
        } catch {
            let problems = "\(error)"
            logger.error("configuration rejected; the running configuration stays", metadata: [
                JournalMessageID.metadataKey: .string(JournalMessageID.configRejected.rawValue),
                "file": "\(configPath)", "problems": "\(problems.split(separator: "\n").count)",
            ])
            for line in problems.split(separator: "\n") { logger.error("\(line)") }
            return nil
        }
        if candidate == current {
            logger.notice("configuration unchanged; nothing to reload", metadata: ["config": "\(current.configHash)"])
            return nil
        }
        return candidate
    }

    /// Opens (and starts) every slot's source, reusing those in `keeping` whose slot configuration
    /// is unchanged and stopping the rest first, so hardware lines are free to be requested again.
    /// Entries it stops are removed from `old`; on failure everything opened here is stopped again.
    /// Opening, starting and stopping a source block (a device opened, an event thread joined):
    /// they run off the cooperative pool.
    private func openSources(for config: AgentConfig,
                             keeping old: inout [String: OpenSource]) async throws -> [String: OpenSource] {
        var result: [String: OpenSource] = [:]
        var stopping: [any SensorSource] = []
        for (id, entry) in old {
            if let slot = config.slots.first(where: { $0.definition.id == id }), slot.opensSameSource(as: entry.slot) {
                result[id] = OpenSource(slot: slot, source: entry.source)
            } else {
                stopping.append(entry.source)
                old[id] = nil
            }
        }
        await ReplenishService.stop(stopping)
        let missing = config.slots.filter { result[$0.definition.id] == nil }
        let opened = await BlockingQueue.offPool("replenishd.sources") { [openSource] in
            var opened: [OpenSource] = []
            do {
                for slot in missing {
                    let source = try openSource(slot)
                    try source.start()
                    opened.append(OpenSource(slot: slot, source: source))
                }
                return Result<[OpenSource], any Error>.success(opened)
            } catch {
                for entry in opened { entry.source.stop() }
                return .failure(error)
            }
        }
        let fresh = try opened.get()
        for entry in fresh { result[entry.slot.definition.id] = entry }
        if !old.isEmpty || !stopping.isEmpty {
            logger.info("sources: \(result.count - fresh.count) kept open, \(fresh.count) opened, \(stopping.count) closed")
        }
        return result
    }
}
