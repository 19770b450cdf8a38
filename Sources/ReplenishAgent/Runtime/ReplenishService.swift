import Foundation
import Logging
import ReplenishCore
import ReplenishHardware
import ReplenishMQTT
import ReplenishStore
import ReplenishSystemd
import ServiceLifecycle
import Synchronization

/// The daemon: sources feed the ledger keeper, which commits reports and events to the store;
/// the drainer delivers the outbox over MQTT. Stops cleanly on graceful shutdown or cancellation,
/// flushing the ledgers first.
public final class ReplenishService: Service, Sendable {
    private let config: AgentConfig
    private let sources: [any SensorSource]
    private let clock: any AgentClock
    private let trust: any ClockTrust
    private let logger: Logger
    private let calendar: Calendar
    private let committed = Mutex<UInt64>(0)
    private let drainerBox = Mutex<OutboxDrainer?>(nil)
    private let notifier: ServiceNotifier
    /// Shared by the generations of one supervisor: the drainer of a kept uplink reports here.
    private let liveness: LoopLiveness
    private let stallLimit: Double
    private let ownsSources: Bool
    /// Set before cancelling for a configuration reload: the stop is then not announced.
    private let reloading = Atomic<Bool>(false)
    /// False for the generations a reload starts: no `startup` report.
    private let announceStart: Bool

    /// `trust` says when wall time can be believed: the kernel's NTP state by default, always
    /// with an RTC the config declares. `notifier` reaches systemd (from the environment by
    /// default); a loop stuck in one step for `stallLimit` seconds (default: the watchdog
    /// interval) stops the watchdog pings. With `ownsSources` false the caller starts and stops
    /// the sources, so they can outlive a reload; `liveness` is shared with the uplink a reload keeps,
    /// and `announceStart` false leaves out the `startup` report.
    public init(config: AgentConfig, sources: [any SensorSource], clock: any AgentClock,
                trust: (any ClockTrust)? = nil, notifier: ServiceNotifier = ServiceNotifier(),
                stallLimit: Double? = nil, ownsSources: Bool = true, liveness: LoopLiveness? = nil,
                announceStart: Bool = true, logger: Logger) {
        self.config = config
        self.sources = sources
        self.clock = clock
        self.trust = trust ?? KernelClockTrust.forDevice(hasRTC: config.device.hasRTC)
        self.notifier = notifier
        self.stallLimit = stallLimit ?? notifier.watchdogInterval ?? 60
        self.ownsSources = ownsSources
        self.liveness = liveness ?? LoopLiveness()
        self.announceStart = announceStart
        self.logger = logger
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = config.device.timeZone.flatMap(TimeZone.init(identifier:)) ?? .current
        self.calendar = calendar
    }

    /// The zone of day boundaries and `daily_at`.
    public var timeZone: TimeZone { calendar.timeZone }

    /// Highest seq committed by this process so far (0 before the first).
    public var lastCommittedSeq: UInt64 { committed.withLock { $0 } }

    /// Delivery counters of the running drainer.
    public var delivery: DeliveryStats { drainerBox.withLock { $0?.stats.withLock { $0 } } ?? DeliveryStats() }

    /// The next stop is a reload: no `STOPPING=1`, no `offline` availability message.
    public func prepareReload() { reloading.store(true, ordering: .relaxed) }

    public func run() async throws {
        try await run(uplink: nil)
    }

    /// Runs one generation. With `shared` (a reload kept the connection) the database and the
    /// broker connection are the caller's and outlive this run; without, they are opened here
    /// and closed at the end.
    func run(uplink shared: Uplink?) async throws {
        let uplink = try shared ?? Uplink(config: config, liveness: liveness, logger: logger)
        let store = uplink.store, queue = uplink.queue
        let stored = try await queue.run { try store.loadState() }
        logger.info("state loaded", metadata: [
            "path": "\(config.storage.path)", "lastSeq": "\(stored.lastSeq)", "slots": "\(stored.slots.count)",
        ])
        drainerBox.withLock { $0 = uplink.drainer }
        let (ledgerInputs, ledgerFeed) = AsyncStream.makeStream(of: LedgerInput.self)
        let recorder = RuntimeRecorder(brokerURL: config.mqtt.url.description, slots: config.slots.map(\.definition.id),
                                       configHash: config.configHash)
        let keeper = LedgerKeeper(
            config: config, store: store, queue: queue, clock: clock, trust: trust, calendar: calendar, logger: logger,
            liveness: liveness,
            outboxChanged: { uplink.outboxChanged() },
            committedSeq: { [self] seq in self.committed.withLock { $0 = max($0, seq) } },
            healthChanged: { slot, health in recorder.health(health, slot: slot) })
        var reportSettings = config.report
        // A reload is not a start: the cloud gets no `startup` report for it.
        if !announceStart { reportSettings.onStart = false }
        let scheduler = ReportScheduler(settings: reportSettings, clock: clock, calendar: calendar, trust: trust)
        let watchdog = ServiceWatchdog(notifier: notifier, liveness: liveness, recorder: recorder,
                                       stallLimit: stallLimit, logger: logger)

        if ownsSources { for source in sources { try source.start() } }
        defer { if ownsSources { for source in sources { source.stop() } } }
        uplink.attach(.init(ledger: ledgerFeed, recorder: recorder))
        if shared == nil { uplink.start() }
        let recorderTask = Task { await recorder.run(store: store, queue: queue, logger: logger) }
        // Ready once config, database and sources are up; the broker may come later (boards boot offline).
        notifier.ready(status: StatusLine.text(recorder.current, outbox: nil, now: Date()))
        let keeperTask = Task { await keeper.run(inputs: ledgerInputs, stored: stored) }

        // Producers end on graceful shutdown or cancellation.
        let producers = Task {
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    for source in self.sources {
                        group.addTask { await self.sample(source, into: ledgerFeed) }
                    }
                    group.addTask { await scheduler.run { ledgerFeed.yield(.reportDue($0)) } }
                    group.addTask { await self.flushPeriodically(into: ledgerFeed) }
                    group.addTask { await watchdog.pingWhileAlive() }
                    group.addTask {
                        await watchdog.keepStatusCurrent(store: store, queue: queue,
                                                         period: min(5, self.notifier.watchdogInterval ?? 5))
                    }
                }
            }
        }
        await withTaskCancellationHandler {
            await producers.value
        } onCancel: {
            producers.cancel()
        }

        // Orderly stop: write the ledgers, let the keeper finish, then close the transport
        // (unless it is kept for the next generation).
        let reload = reloading.load(ordering: .relaxed)
        if !reload { notifier.stopping() }
        uplink.detach()
        ledgerFeed.yield(.flush)
        ledgerFeed.finish()
        await keeperTask.value
        // A reload reconnects at once: the cloud keeps seeing the device online.
        if shared == nil { await uplink.stop(final: !reload) }
        recorder.stopped()
        await recorderTask.value
        logger.info("stopped", metadata: ["lastSeq": "\(lastCommittedSeq)"])
    }

    /// Samples on the monotonic clock, so a wall-clock step neither skips nor bunches samples.
    private func sample(_ source: any SensorSource, into feed: AsyncStream<LedgerInput>.Continuation) async {
        var next = clock.monotonic()
        // Sources see continuous time (the start plus monotonic progress): a simulated household
        // does not live through the years a wall-clock jump skips. Readings carry wall time.
        let origin = (wall: clock.now(), monotonic: next)
        // A bus transfer or a bit-banged read blocks: each source gets its own thread.
        let reader = BlockingQueue(label: "replenishd.source.\(source.slot)")
        guard let config = config.slots.first(where: { $0.definition.id == source.slot }) else { return }
        var sampler = SlotPipeline(source: config.source, definition: config.definition)
        let loop = "sensor \(source.slot)"
        while !Task.isCancelled {
            let now = clock.now()
            let sourceTime = origin.wall.addingTimeInterval(clock.monotonic() - origin.monotonic)
            let read = (try? await liveness.step(loop) { try await reader.run { SlotPipeline.read(source, at: sourceTime) } })
                ?? .failure(AgentError(.unreadable, "read abandoned"))
            if case .failure(let error) = read {
                logger.warning("sensor read failed", metadata: ["slot": "\(source.slot)", "error": "\(error)"])
            }
            let sample = sampler.take(read, monotonic: clock.monotonic())
            if !sample.observations.isEmpty || sample.transition != nil {
                feed.yield(.observed(slot: source.slot, at: now, sample: sample))
            }
            let monotonic = clock.monotonic()
            next = max(next + source.sampleIntervalSeconds, monotonic)
            do { try await clock.sleep(for: next - monotonic) } catch { return }
        }
    }

    private func flushPeriodically(into feed: AsyncStream<LedgerInput>.Continuation) async {
        let interval = config.storage.flushIntervalSeconds
        while !Task.isCancelled {
            do { try await clock.sleep(for: interval) } catch { return }
            feed.yield(.flush)
        }
    }
}
