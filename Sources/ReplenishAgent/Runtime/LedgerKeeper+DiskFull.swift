import Foundation
import Logging
import ReplenishCore
import ReplenishStore
import ReplenishSystemd

/// A full disk, as the keeper meets it on a commit: the store's reserve given back, the
/// write-ahead log folded in, and the oldest status reports evicted to make room, announced like
/// the outbox bound's evictions. Counts stay in memory while nothing can be written.
extension LedgerKeeper {
    /// Commits as `commitOnce` does; when the disk is full, gives the store's reserve back, then
    /// evicts the oldest status reports a quarter at a time, retrying after each step. Events and
    /// replies are never evicted. Once commits succeed again the reserve is restored.
    func commit(_ messages: [Outgoing], state: inout State, reportedAs slots: [SlotStatus]?,
                        at now: Date, persistEviction: Bool = false) async throws -> UInt64 {
        var relief = 0
        while true {
            do {
                let seq = try await commitOnce(messages, state: &state, reportedAs: slots, at: now,
                                               persistEviction: persistEviction)
                // While short of space, fold the log in after every commit so it never grows, and
                // evict before the released reserve is used up: an eviction writes to the log too,
                // so on a disk with no byte left even making room fails.
                if state.reserveReleased, let (restored, available) = try? await queue.run({ [store] in
                    store.checkpoint()
                    // Free pages an eviction left inside the database count as room: the file
                    // system does not see them, but the next commits reuse them.
                    return (store.ensureReserve(), (store.availableBytes ?? 0) + store.reusableBytes)
                }) {
                    if restored {
                        state.reserveReleased = false
                        if state.diskFull {
                            state.diskFull = false
                            logger.notice("disk space is back: reserve restored, no more evictions", metadata: ["path": "\(store.path)"])
                        }
                    } else if available < StateStore.reserveBytes {
                        await makeRoom(&state, because: "is almost out of room", ["available": "\(available)"])
                    }
                }
                return seq
            } catch let error as StoreError where error.code == .diskFull && relief < 4 {
                relief += 1
                state.reserveReleased = true
                if relief == 1 {
                    // Often the write-ahead log has just outgrown a small disk: the reserve and a
                    // checkpoint are enough when they leave room.
                    let available = try await queue.run { [store] in
                        store.releaseSpace()
                        return store.availableBytes ?? 0
                    }
                    logger.notice("disk full: reserve released and write-ahead log folded in",
                                  metadata: JournalMessageID.diskFull.metadata.merging(["path": "\(store.path)", "available": "\(available)"]) { $1 })
                    if available >= StateStore.reserveBytes { continue }
                }
                // Truly full: make room inside the database, which its next writes reuse, while the
                // released reserve still gives the eviction room to be written.
                await makeRoom(&state, because: "has no room", ["error": "\(error)"])
            }
        }
    }

    /// Says once that the disk is full (why, in `metadata`), evicts per policy and folds the log
    /// in. A failed eviction is logged, not thrown: counts stay in memory until space returns.
    private func makeRoom(_ state: inout State, because reason: String, _ metadata: Logger.Metadata) async {
        if !state.diskFull {
            state.diskFull = true
            logger.error("disk full: the state directory \(reason); evicting the oldest status reports",
                         metadata: JournalMessageID.diskFull.metadata.merging(metadata.merging(["path": "\(store.path)"]) { $1 }) { $1 })
        }
        do {
            try await evictForSpace(&state)
        } catch {
            logger.error("disk full: eviction failed; counts stay in memory until space returns", metadata: ["error": "\(error)"])
        }
        _ = try? await queue.run { [store] in store.checkpoint() }
    }

    /// Evicts the oldest status reports, a quarter of the outbox's bytes, tallied as the outbox
    /// bound's evictions are, so the cloud hears of them. On a full disk a delete needs room in
    /// the write-ahead log too, so it goes in small transactions (`evictionChunkBytes` of reports
    /// each), the log folded in after each: what one needs stays well inside the disk reserve.
    private func evictForSpace(_ state: inout State) async throws {
        let target = try await queue.run { [store] in try store.outboxStats().bytes } * 3 / 4
        var evictedNow = 0
        while true {
            let tally = state.book.eviction
            let step: ([UInt64], OutboxEviction?)
            do {
                step = try await queue.run { [store] in
                    let bytes = try store.outboxStats().bytes
                    guard bytes > target else { return ([], tally) }
                    let result = try store.commit { tx in
                        let evicted = try tx.evictOldest(kind: .status, toFitBytes: max(target, bytes - LedgerKeeper.evictionChunkBytes))
                        let newTally = OutboxEviction.adding(evicted, to: tally)
                        if newTally != tally {
                            let row = try DeviceBook.encoded(eviction: newTally)
                            try tx.setValue(row.key, row.blob)
                        }
                        return (evicted, newTally)
                    }
                    store.checkpoint()
                    return result
                }
            } catch where evictedNow > 0 {
                break  // some room made; the next full disk tries again
            }
            state.book.eviction = step.1
            evictedNow += step.0.count
            if step.0.isEmpty { break }
        }
        if evictedNow > 0 {
            logger.warning("disk full: oldest status reports evicted", metadata: JournalMessageID.outboxEvicting.metadata.merging([
                "evicted": "\(evictedNow)", "evictedSoFar": "\(state.book.eviction?.reports ?? 0)",
            ]) { $1 })
        }
    }

    /// Report bytes deleted per transaction when evicting for space (see `evictForSpace`).
    static let evictionChunkBytes = 16 * 1024
}
