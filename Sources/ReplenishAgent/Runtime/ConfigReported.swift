import FoundationEssentials
import ReplenishCore
import ReplenishStore

/// The device's answer to a desired configuration, on `{base}/config/reported`:
/// `{version, status: applied | rejected, configHash, problems}` with the usual header fields.
///
/// It goes through the outbox, like a command's reply: it has a seq, so the cloud orders it among
/// the reports (the first report with the new `configHash` comes after the `applied`), it
/// survives a lost connection or a restart, and it is deleted only on PUBACK. It is also retained
/// (with `mqtt.retain`), so a cloud that subscribes later still reads the newest answer. Its
/// outbox kind is `reply` (never evicted; the database's kinds need no migration), told apart
/// by its topic.
struct ConfigReported: Encodable {
    enum Status: String, Encodable {
        case applied
        case rejected
        case rolledBack = "rolled-back"
    }

    static let schema = "replenish.config-reported/1"
    static let topicSuffix = "/config/reported"

    /// True for an outbox row that is such an answer.
    static func isAnswer(_ row: OutboxMessage) -> Bool { row.kind == .reply && row.topic.hasSuffix(topicSuffix) }
    /// The state-database key holding the last desired document answered (its digest and the
    /// configuration in force then): the broker hands the retained document over on every
    /// connect, and it is answered once, not on every connect.
    static let answeredKey = "remoteConfig.answered"

    var header: MessageHeader
    var version: Int?
    var status: Status
    var problems: [ConfigDiagnostic]
    /// Why a connection change was rolled back.
    var reason: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try header.encode(into: &container)
        try container.encode(version, forKey: "version")
        try container.encode(status, forKey: "status")
        if status == .rejected {
            try container.encode(problems.map(Problem.init), forKey: "problems")
        }
        if status == .rolledBack {
            try container.encode(reason, forKey: "reason")
        }
    }

    /// A problem as the cloud reads it: where in the desired document, the key, what is wrong.
    /// One found in the local file after merging (a rule between two keys) says `document: local`.
    private struct Problem: Encodable {
        let keyPath: String
        let line: Int
        let column: Int
        let document: String
        let message: String

        init(_ diagnostic: ConfigDiagnostic) {
            keyPath = diagnostic.keyPath
            line = diagnostic.line
            column = diagnostic.column
            document = diagnostic.file == "config/desired" ? "desired" : "local"
            message = diagnostic.message
        }
    }

    /// What an already-answered document is recognised by: the document and the configuration in force.
    static func answeredDigest(_ payload: [UInt8], inForce: AgentConfig) -> [UInt8] {
        Array("\(configHash(of: payload)) \(inForce.configHash)".utf8)
    }

    /// Queues the answer in one transaction with the record that `payload` was answered, and tells the drainer.
    static func queue(_ status: Status, version: Int?, problems: [ConfigDiagnostic], reason: String? = nil, payload: [UInt8],
                      config: AgentConfig, uplink: Uplink, clock: any AgentClock, trust: any ClockTrust) async throws {
        let now = clock.now()
        let clockStatus = trust.status
        let digest = answeredDigest(payload, inForce: config)
        try await uplink.queue.run { [store = uplink.store] in
            try store.commit { transaction in
                let seq = try transaction.nextSeq()
                let header = MessageHeader(schema: schema, deviceId: config.device.id, seq: seq, generatedAt: now,
                                           clock: clockStatus, agentVersion: AgentVersion.current, configHash: config.configHash)
                let answer = ConfigReported(header: header, version: version, status: status, problems: problems, reason: reason)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                try transaction.enqueue(seq: seq, topic: config.mqtt.baseTopic + topicSuffix, kind: .reply,
                                        payload: Array(try encoder.encode(answer)), createdAt: now.timeIntervalSince1970)
                try transaction.setValue(answeredKey, digest)
            }
        }
        uplink.drainerFeed.yield(.outboxChanged)
    }

    /// True when `payload` was answered while `config` was in force.
    static func wasAnswered(_ payload: [UInt8], inForce config: AgentConfig, uplink: Uplink) async -> Bool {
        let stored = try? await uplink.queue.run { [store = uplink.store] in try store.loadState().values[answeredKey] }
        return stored == answeredDigest(payload, inForce: config)
    }
}
