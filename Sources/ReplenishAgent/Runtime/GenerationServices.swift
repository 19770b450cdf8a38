import FoundationEssentials
import Logging
import ReplenishCore
import ReplenishHardware
import ReplenishStore
import ReplenishSystemd
import ServiceLifecycle

// The components of one generation of the daemon, one `Service` each. `ReplenishService` runs
// them in one `ServiceGroup` in this order, so the group's reverse-order graceful shutdown stops
// them as the data flows: producers, then the route from the broker, then the keeper (which
// writes the book), then the uplink it owns (drain, `offline`), then the recorder (last record).

/// Writes the runtime snapshot (`replenishd status`, `STATUS=`) until the generation ends.
struct RecorderService: Service {
    let recorder: RuntimeRecorder
    let store: StateStore
    let queue: BlockingQueue
    let logger: Logger

    func run() async {
        await withGracefulShutdownHandler {
            await recorder.run(store: store, queue: queue, logger: logger)
        } onGracefulShutdown: {
            recorder.stopped()
        }
    }
}

/// The broker connection and its outbox drainer when this generation owns them (`owned`): started
/// with it, and stopped after the keeper has written the book, `offline` published unless the
/// stop is a reload (`final`). A kept uplink belongs to the supervisor and outlives the generation.
struct UplinkService: Service {
    let uplink: Uplink
    let owned: Bool
    let final: @Sendable () -> Bool

    func run() async {
        if owned { uplink.start() }
        try? await gracefulShutdown()
        if owned { await uplink.stop(final: final()) }
    }
}

/// The keeper's loop. On shutdown it gets a last `flush` and its input ends; it returns once it
/// has committed everything before.
struct KeeperService: Service {
    let keeper: LedgerKeeper
    let inputs: AsyncStream<BookInput>
    let feed: AsyncStream<BookInput>.Continuation
    let stored: StoredState

    func run() async {
        await withGracefulShutdownHandler {
            await keeper.run(inputs: inputs, stored: stored)
        } onGracefulShutdown: {
            feed.yield(.flush)
            feed.finish()
        }
    }
}

/// Routes commands and delivery notices from the broker to this generation's keeper; on shutdown
/// (before the keeper's) they wait in the uplink for the next generation.
struct RouteService: Service {
    let uplink: Uplink
    let listener: Uplink.Listener

    func run() async {
        uplink.attach(listener)
        try? await gracefulShutdown()
        uplink.detach()
    }
}

/// What feeds the keeper on its own: a sampling loop per source, the report schedule and the
/// flush interval; and the watchdog and `STATUS=`. The first to stop: `STOPPING=1` is sent then,
/// unless the stop is a reload.
struct ProducersService: Service {
    let sources: [any SensorSource]
    let slots: [SlotConfig]
    let clock: any AgentClock
    let flushInterval: Double
    let scheduler: ReportScheduler
    let watchdog: ServiceWatchdog
    let statusPeriod: Double
    let store: StateStore
    let queue: BlockingQueue
    let liveness: LoopLiveness
    let feed: AsyncStream<BookInput>.Continuation
    let stopping: @Sendable () -> Void
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for source in sources {
                    guard let slot = slots.first(where: { $0.definition.id == source.slot }) else { continue }
                    group.addTask { await sample(source, SlotPipeline(source: slot.source, definition: slot.definition)) }
                }
                group.addTask {
                    await scheduler.run(startupWaitOver: { feed.yield(.startupWaitOver) }) { feed.yield(.reportDue($0)) }
                }
                group.addTask {
                    while (try? await clock.sleep(for: flushInterval)) != nil { feed.yield(.flush) }
                }
                group.addTask { await watchdog.pingWhileAlive() }
                group.addTask { await watchdog.keepStatusCurrent(store: store, queue: queue, period: statusPeriod) }
            }
        }
        stopping()
    }

    /// Samples on the monotonic clock, so a wall-clock step neither skips nor bunches samples.
    private func sample(_ source: any SensorSource, _ pipeline: SlotPipeline) async {
        var pipeline = pipeline
        var next = clock.monotonic()
        // Sources see continuous time (the start plus monotonic progress): a simulated household
        // does not live through the years a wall-clock jump skips. Readings carry wall time.
        let origin = (wall: clock.now(), monotonic: next)
        // A bus transfer or a bit-banged read blocks: each source gets its own thread.
        let reader = BlockingQueue(label: "replenishd.source.\(source.slot)")
        let loop = "sensor \(source.slot)"
        // The first read always reaches the keeper, even with nothing to say: the start-up report waits for it.
        var first = true
        while !Task.isCancelled {
            let now = clock.now()
            let sourceTime = origin.wall.addingTimeInterval(clock.monotonic() - origin.monotonic)
            let read = (try? await liveness.step(loop) { try await reader.run { SlotPipeline.read(source, at: sourceTime) } })
                ?? .failure(AgentError(.unreadable, "read abandoned"))
            if case .failure(let error) = read {
                logger.warning("sensor read failed", metadata: ["slot": "\(source.slot)", "error": "\(error)"])
            }
            let sample = pipeline.take(read, monotonic: clock.monotonic())
            if first || !sample.observations.isEmpty || sample.transition != nil {
                feed.yield(.observed(slot: source.slot, at: now, observations: sample.observations, health: sample.health,
                                     transition: sample.transition))
                first = false
            }
            let monotonic = clock.monotonic()
            next = max(next + source.sampleIntervalSeconds, monotonic)
            do { try await clock.sleep(for: next - monotonic) } catch { return }
        }
    }
}
