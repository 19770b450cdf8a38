import FoundationEssentials
import Logging
import ReplenishCore
import ReplenishHardware
import ReplenishMQTT
import ReplenishStore
import ReplenishSystemd
import ServiceLifecycle
import Synchronization

/// One generation of the daemon: sources feed the ledger keeper, which commits reports and events
/// to the store; the drainer delivers the outbox over MQTT. Stops cleanly on graceful shutdown or
/// cancellation, writing the book first.
public final class ReplenishService: Service, Sendable {
    private let config: AgentConfig
    private let sources: [any SensorSource]
    private let clock: any AgentClock
    private let trust: any ClockTrust
    private let logger: Logger
    /// The zone of day boundaries and `daily_at`.
    public let zone: LocalZone
    private let keeperBox = Mutex<LedgerKeeper?>(nil)
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
        self.zone = config.device.zone
    }

    /// Highest seq committed by this process so far (0 before the first).
    public var lastCommittedSeq: UInt64 { keeperBox.withLock { $0?.lastCommittedSeq } ?? 0 }

    /// Delivery counters of the running drainer.
    public var delivery: DeliveryStats { drainerBox.withLock { $0?.stats.withLock { $0 } } ?? DeliveryStats() }

    /// The next stop is a reload: no `STOPPING=1`, no `offline` availability message.
    public func prepareReload() { reloading.store(true, ordering: .relaxed) }

    private var isReloading: Bool { reloading.load(ordering: .relaxed) }

    public func run() async throws {
        try await run(uplink: nil)
    }

    /// Runs one generation: its components as services in one group (see `GenerationServices`),
    /// whose reverse-order graceful shutdown stops producers, writes the book, stops the uplink
    /// it owns and records the stop. With `shared` (a reload kept the connection) the database
    /// and the broker connection are the caller's and outlive this run; without, they are opened
    /// here and closed at the end. Cancellation stops it the same orderly way.
    func run(uplink shared: Uplink?) async throws {
        let uplink: Uplink
        if let shared { uplink = shared } else { uplink = try await Uplink.open(config: config, liveness: liveness, logger: logger) }
        let store = uplink.store, queue = uplink.queue
        let stored = try await queue.run { try store.loadState() }
        logger.info("state loaded", metadata: [
            "path": "\(config.storage.path)", "lastSeq": "\(stored.lastSeq)", "slots": "\(stored.slots.count)",
        ])
        drainerBox.withLock { $0 = uplink.drainer }
        let (inputs, feed) = AsyncStream.makeStream(of: BookInput.self)
        let recorder = RuntimeRecorder(brokerURL: config.mqtt.url.description, slots: config.slots.map(\.definition.id),
                                       configHash: config.configHash)
        let keeper = LedgerKeeper(config: config, store: store, queue: queue, clock: clock, trust: trust,
                                  zone: zone, stored: stored, drainer: uplink.drainerFeed, recorder: recorder,
                                  liveness: liveness, logger: logger)
        keeperBox.withLock { $0 = keeper }
        var reportSettings = config.report
        // A reload is not a start: the cloud gets no `startup` report for it.
        if !announceStart { reportSettings.onStart = false }
        let notifier = self.notifier
        let producers = ProducersService(
            sources: sources, slots: config.slots, clock: clock, flushInterval: config.storage.flushIntervalSeconds,
            scheduler: ReportScheduler(settings: reportSettings, clock: clock, zone: zone, trust: trust,
                                       startupWait: config.startupWaitSeconds),
            watchdog: ServiceWatchdog(notifier: notifier, liveness: liveness, recorder: recorder,
                                      stallLimit: stallLimit, logger: logger),
            statusPeriod: min(5, notifier.watchdogInterval ?? 5), store: store, queue: queue, liveness: liveness,
            feed: feed, stopping: { [self] in if !isReloading { notifier.stopping() } }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [
            .init(service: RecorderService(recorder: recorder, store: store, queue: queue, logger: logger)),
            // A reload reconnects at once: the cloud keeps seeing the device online.
            .init(service: UplinkService(uplink: uplink, owned: shared == nil) { [self] in !isReloading }),
            .init(service: KeeperService(keeper: keeper, inputs: inputs, feed: feed, stored: stored)),
            .init(service: RouteService(uplink: uplink, listener: .init(ledger: feed, recorder: recorder))),
            .init(service: producers),
        ], logger: logger))

        if ownsSources { try await Self.start(sources) }
        // Ready once config, database and sources are up; the broker may come later (boards boot offline).
        notifier.ready(status: StatusLine.text(recorder.current, outbox: nil, now: Date()))
        // The group runs in a task of its own, so that cancelling this one shuts it down in order
        // instead of cancelling every component at once; it still sees a graceful shutdown of the
        // caller's group (a task-local the task inherits).
        let running = Task { try await group.run() }
        let result = await withTaskCancellationHandler {
            await running.result
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
        if ownsSources { await Self.stop(sources) }
        logger.info("stopped", metadata: ["lastSeq": "\(lastCommittedSeq)"])
        try result.get()
    }

    /// Starts sources on a thread of their own: opening a device or starting its event thread blocks.
    static func start(_ sources: [any SensorSource]) async throws {
        try await BlockingQueue.offPool("replenishd.sources") {
            Result { for source in sources { try source.start() } }
        }.get()
    }

    /// Stops sources on a thread of their own: a source's stop joins its event thread.
    static func stop(_ sources: [any SensorSource]) async {
        await BlockingQueue.offPool("replenishd.sources") { for source in sources { source.stop() } }
    }
}
