import FoundationEssentials
import Logging
import ReplenishStore
import ReplenishSystemd

/// Pings systemd's watchdog (`WATCHDOG=1`) only while no loop is stalled, so a hung sensor read,
/// store transaction or transport step gets the service restarted; and keeps `STATUS=` current.
struct ServiceWatchdog: Sendable {
    let notifier: ServiceNotifier
    let liveness: LoopLiveness
    let recorder: RuntimeRecorder
    /// How long one step may take before its loop counts as stalled.
    let stallLimit: Double
    let logger: Logger

    /// Sends `WATCHDOG=1` every half watchdog interval while every loop makes progress. Returns at
    /// once when systemd expects no pings. Never touches the store, so a hung store cannot hide here.
    func pingWhileAlive() async {
        guard let interval = notifier.watchdogInterval else { return }
        var reported: Set<String> = []
        while !Task.isCancelled {
            let stalled = liveness.stalled(limit: stallLimit)
            if stalled.isEmpty {
                notifier.watchdog()
                if !reported.isEmpty { logger.notice("loops making progress again; watchdog pings resumed") }
                reported = []
            } else {
                let names = Set(stalled.map(\.loop))
                if names != reported {
                    logger.critical("loop stalled; watchdog pings withheld so systemd restarts the service", metadata: JournalMessageID.loopStalled.metadata.merging([
                        "loops": "\(stalled.map { "\($0.loop) (\(StatusLine.age($0.seconds)))" }.joined(separator: ", "))",
                    ]) { $1 })
                    notifier.status(StatusLine.text(recorder.current, outbox: nil, stalled: stalled, now: Date()))
                }
                reported = names
            }
            do { try await Task.sleep(for: .seconds(interval / 2)) } catch { return }
        }
    }

    /// Refreshes `STATUS=` every `period` seconds when it changed. Outbox figures come from the
    /// store on its own queue.
    func keepStatusCurrent(store: StateStore, queue: BlockingQueue, period: Double = 5) async {
        guard notifier.socketPath != nil else { return }
        var last = ""
        while !Task.isCancelled {
            let stalled = liveness.stalled(limit: stallLimit)
            let outbox = try? await queue.run { try store.outboxStats() }
            let line = StatusLine.text(recorder.current, outbox: outbox, stalled: stalled, now: Date())
            if line != last {
                notifier.status(line)
                last = line
            }
            do { try await Task.sleep(for: .seconds(period)) } catch { return }
        }
    }
}
