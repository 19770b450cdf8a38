import Logging
import ReplenishStore
import ReplenishSystemd

/// What the outbox did on a commit besides queueing (the bound's evictions, a full disk and its
/// relief), in the journal with the MESSAGE_IDs operators search for.
extension LedgerKeeper {
    func log(_ note: Outbox.Note) {
        let path: Logger.Metadata = ["path": "\(store.path)"]
        switch note {
        case .boundEvicted(let soFar):
            logger.warning("outbox full: oldest status reports evicted", metadata: JournalMessageID.outboxEvicting.metadata.merging([
                "evictedSoFar": "\(soFar)", "limitBytes": "\(config.storage.outboxLimitBytes)",
            ]) { $1 })
        case .reserveReleased(let available):
            logger.notice("disk full: reserve released and write-ahead log folded in",
                          metadata: JournalMessageID.diskFull.metadata.merging(path.merging(["available": "\(available)"]) { $1 }) { $1 })
        case let .diskFull(reason, detail):
            logger.error("disk full: the state directory \(reason); evicting the oldest status reports",
                         metadata: JournalMessageID.diskFull.metadata.merging(path.merging(["detail": "\(detail)"]) { $1 }) { $1 })
        case let .spaceEvicted(count, soFar):
            logger.warning("disk full: oldest status reports evicted", metadata: JournalMessageID.outboxEvicting.metadata.merging([
                "evicted": "\(count)", "evictedSoFar": "\(soFar)",
            ]) { $1 })
        case .evictionFailed(let error):
            logger.error("disk full: eviction failed; counts stay in memory until space returns", metadata: ["error": "\(error)"])
        case .spaceBack:
            logger.notice("disk space is back: reserve restored, no more evictions", metadata: path)
        }
    }
}
