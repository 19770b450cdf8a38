import Logging
import ReplenishCore
import ReplenishStore
import ReplenishSystemd

/// What the book and the outbox said on a step, in the journal with the MESSAGE_IDs operators
/// search for.
extension Logger {
    /// `note`, with the seq its message got (`seq`) or the commit's error (`error`).
    func journal(_ note: BookStep.Note, seq: UInt64? = nil, error: (any Error)? = nil) {
        var metadata = Logger.Metadata(uniqueKeysWithValues: note.fields.map { ($0.key, .string($0.value)) })
        if let seq { metadata["seq"] = "\(seq)" }
        if let error { metadata["error"] = "\(error)" }
        switch note.journal {
        case .sensorFault?: metadata.merge(JournalMessageID.sensorFault.metadata) { $1 }
        case .sensorRecovered?: metadata.merge(JournalMessageID.sensorRecovered.metadata) { $1 }
        case nil: break
        }
        let level: Logger.Level = switch note.level {
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
        log(level: level, "\(note.text)", metadata: metadata)
    }

    /// What the outbox did on a commit besides queueing (the bound's evictions, a full disk and its relief).
    func journal(_ note: Outbox.Note, path: String, limitBytes: Int) {
        let path: Logger.Metadata = ["path": "\(path)"]
        switch note {
        case .boundEvicted(let soFar):
            warning("outbox full: oldest status reports evicted", metadata: JournalMessageID.outboxEvicting.metadata.merging([
                "evictedSoFar": "\(soFar)", "limitBytes": "\(limitBytes)",
            ]) { $1 })
        case .reserveReleased(let available):
            notice("disk full: reserve released and write-ahead log folded in",
                   metadata: JournalMessageID.diskFull.metadata.merging(path.merging(["available": "\(available)"]) { $1 }) { $1 })
        case let .diskFull(reason, detail):
            error("disk full: the state directory \(reason); evicting the oldest status reports",
                  metadata: JournalMessageID.diskFull.metadata.merging(path.merging(["detail": "\(detail)"]) { $1 }) { $1 })
        case let .spaceEvicted(count, soFar):
            warning("disk full: oldest status reports evicted", metadata: JournalMessageID.outboxEvicting.metadata.merging([
                "evicted": "\(count)", "evictedSoFar": "\(soFar)",
            ]) { $1 })
        case .evictionFailed(let error):
            self.error("disk full: eviction failed; counts stay in memory until space returns", metadata: ["error": "\(error)"])
        case .spaceBack:
            notice("disk space is back: reserve restored, no more evictions", metadata: path)
        }
    }
}
