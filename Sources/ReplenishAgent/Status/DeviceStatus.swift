import FoundationEssentials
import Glibc
import ReplenishCore
import ReplenishStore

/// What `replenishd status` shows, built from the state database and the config alone, so it
/// works read-only beside the running daemon. Slot figures come from the same `SlotStatus` the
/// daemon reports to the cloud, so the two always agree.
public struct DeviceStatus: Sendable, Encodable {
    public struct Daemon: Sendable, Encodable {
        /// `running`, `stopped` (cleanly), `gone` (recorded running, process absent) or `unknown`.
        public var state: String
        public var pid: Int32?
        public var startedAt: Date?
        public var updatedAt: Date?
    }

    public struct Broker: Sendable, Encodable {
        public var url: String
        /// nil when the daemon never recorded it.
        public var connected: Bool?
        public var since: Date?
        public var lastError: String?
    }

    public struct Outbox: Sendable, Encodable {
        public var messages: Int
        public var bytes: Int
        public var oldestSeq: UInt64?
        public var oldestCreatedAt: Date?
        public var oldestAgeSeconds: Double?
        /// Status reports dropped by the outbox bound and not yet announced to the cloud.
        public var evictedUnannounced: Int
        /// Publishes the broker refused (MQTT 5 PUBACK reason codes) since the daemon started;
        /// their rows stay in the outbox.
        public var refused: UInt64 = 0
        public var lastRefusedSeq: UInt64?
        /// The last refusal's reason, e.g. `Not authorized (0x87)`.
        public var lastRefusal: String?
        /// Messages the broker refused for good, moved out of the outbox (the newest 100 are kept).
        public var deadLetters: Int = 0
        public var lastDeadLetter: DeadLetter?
    }

    public struct DeadLetter: Sendable, Encodable {
        public var seq: UInt64
        public var topic: String
        public var reason: String
    }

    public struct Slot: Sendable, Encodable {
        public var slot: String
        public var sensor: String
        public var unit: String
        public var capacity: Double
        public var remaining: Double?
        public var levelPercent: Double?
        public var consumedTotal: Double
        /// The newest closed day's consumption.
        public var lastDay: Double?
        public var lastDayDate: String?
        public var averageDailyConsumption: Double?
        public var expectedRunOut: Date?
        public var health: String
        public var replenishment: String?
        public var orderId: String?
    }

    public var device: String
    public var configHash: String
    /// `local`, or `local + remote version N` when the cloud's overlay is merged over the file.
    public var configuration = "local"
    /// The version of that overlay; nil for the file alone.
    public var remoteVersion: Int?
    public var agentVersion: String
    public var generatedAt: Date
    public var database: String
    public var lastSeq: UInt64
    public var daemon: Daemon
    public var broker: Broker
    public var outbox: Outbox
    public var slots: [Slot]

    /// Reads the database at `config.storage.path` read-only.
    public static func read(config: AgentConfig, now: Date = Date(),
                            isAlive: (Int32) -> Bool = DeviceStatus.processExists) throws -> DeviceStatus {
        let path = config.storage.path
        // Only "no such file" means no state: the state directory is 0750, and a user outside the
        // service's group must hear that, not that the daemon never ran.
        // The database is 0600: a member of the service's group can see it but not open it.
        var info = stat()
        if stat(path, &info) != 0 || access(path, R_OK) != 0 {
            let code = errno
            if code == ENOENT {
                throw AgentError(.unavailable, "no state yet at \(path): the daemon has not run with this config")
            }
            throw AgentError(.unreadable, "cannot read \(path): \(String(cString: strerror(code)))"
                + (code == EACCES ? " (run as root or as the service's user, replenishd: the database is 0600)" : ""),
                errno: code)
        }
        // An empty, damaged or foreign file, or another device's, is named as such, not as SQLite's error.
        let store: StateStore
        do {
            store = try StateStore(path: path, readOnly: true, deviceID: config.device.id)
        } catch {
            let refusal = StateDatabase.refusal(error, config: config, configPath: "FILE")
            throw (refusal as? AgentError).map { AgentError(.unreadable, $0.message) } ?? refusal
        }
        // A database the daemon has not brought to schema 3 yet has no dead letters.
        let letters = (try? store.deadLetters()) ?? []
        return build(config: config, stored: try store.loadState(), outbox: try store.outboxStats(), deadLetters: letters,
                     now: now, isAlive: isAlive)
    }

    /// The view of a stored state, without I/O.
    public static func build(config: AgentConfig, stored: StoredState, outbox stats: OutboxStats,
                             deadLetters: [(seq: UInt64, topic: String, reason: String)] = [], now: Date,
                             isAlive: (Int32) -> Bool) -> DeviceStatus {
        let runtime = stored.values[RuntimeSnapshot.key].flatMap { try? RuntimeSnapshot.decode($0) }
        let daemon: Daemon
        if let runtime {
            let state = !runtime.running ? "stopped" : isAlive(runtime.pid) ? "running" : "gone"
            daemon = Daemon(state: state, pid: runtime.pid, startedAt: runtime.startedAt, updatedAt: runtime.updatedAt)
        } else {
            daemon = Daemon(state: "unknown")
        }
        let live = daemon.state == "running"
        let broker = Broker(url: config.mqtt.url.description,
                            connected: runtime.map { live && $0.broker.connected },
                            since: runtime?.broker.since, lastError: runtime?.broker.lastError)
        let book = DeviceBook.decode(slots: config.slots.map { ($0.definition.id, $0.replenishment) },
                                     slotStates: stored.slots, values: stored.values).book
        let eviction = ReplenishStore.Outbox.tally(in: stored.values)
        let outbox = Outbox(messages: stats.count, bytes: stats.bytes, oldestSeq: stats.oldestSeq,
                            oldestCreatedAt: stats.oldestCreatedAt.map(Date.init(timeIntervalSince1970:)),
                            oldestAgeSeconds: stats.oldestCreatedAt.map { max(0, now.timeIntervalSince1970 - $0) },
                            evictedUnannounced: eviction?.reports ?? 0, refused: runtime?.refused?.count ?? 0,
                            lastRefusedSeq: runtime?.refused?.lastSeq, lastRefusal: runtime?.refused?.lastReason,
                            deadLetters: deadLetters.count,
                            lastDeadLetter: deadLetters.last.map { DeadLetter(seq: $0.seq, topic: $0.topic, reason: $0.reason) })
        let trust = KernelClockTrust.forDevice(hasRTC: config.device.hasRTC)
        let slots = config.slots.map { slot -> Slot in
            let definition = slot.definition
            let ledger = book.ledgers[definition.id] ?? SlotLedger()
            let health = runtime?.health[definition.id] ?? SlotHealth.ok.rawValue
            let status = SlotStatus(definition: definition, ledger: ledger, health: SlotHealth(rawValue: health) ?? .ok,
                                    now: now, clock: trust.status)
            // Only a stored policy has a state to show (the book holds a fresh one for every slot).
            let policy = stored.values[DeviceBook.Key.policy(definition.id)] == nil ? nil : book.policies[definition.id]
            let replenishment = policy?.status(at: now)
            let lastDay = ledger.closedDays.last
            return Slot(slot: definition.id, sensor: definition.sensor.rawValue,
                        unit: definition.measurement.unit?.rawValue.lowercased() ?? "",
                        capacity: definition.capacity, remaining: status.remainingQuantityInUnit,
                        levelPercent: status.remainingQuantityInUnit.map { min(100, max(0, $0 / definition.capacity * 100)) },
                        consumedTotal: status.consumedTotal, lastDay: lastDay?.consumed, lastDayDate: lastDay?.day.description,
                        averageDailyConsumption: status.averageDailyConsumption, expectedRunOut: status.expectedReplenishmentDate,
                        health: health, replenishment: replenishment.map { "\($0.mode.rawValue) \($0.state)" },
                        orderId: replenishment?.orderId)
        }
        var status = DeviceStatus(device: config.device.id, configHash: config.configHash, agentVersion: AgentVersion.current,
                                  generatedAt: now, database: config.storage.path, lastSeq: stored.lastSeq, daemon: daemon,
                                  broker: broker, outbox: outbox, slots: slots)
        status.remoteVersion = config.remoteVersion
        status.configuration = config.remoteVersion.map { "local + remote version \($0)" + (config.remoteTentative ? ", tentative" : "") }
            ?? "local"
        return status
    }

    /// Whether the daemon with `pid` still runs: the process exists (EPERM: it does, owned by
    /// someone else) and is a replenishd, not another program that got the pid after a crash.
    /// The corresponding C function is `kill` with signal 0.
    public static func processExists(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return true }
        return name.trimmingEnds(where: \.isWhitespace) == "replenishd"
    }
}
