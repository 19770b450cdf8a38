import FoundationEssentials
import Glibc
import ReplenishStore

/// `replenishd reset`: the explicit new start the daemon refuses to make by itself. The old
/// database (whatever it is) is renamed, with its log and shared-memory files, to
/// `<path>.broken-<UTC time>`, so nothing is deleted; a fresh database for the configured device
/// takes its place. Seqs continue after the old database's last one when it can still be read,
/// so the cloud, which deduplicates by `{deviceId}-{seq}`, never drops a new message as a copy.
public enum DatabaseReset {
    /// Resets the database of `config` and answers what it did, one line each. `firstSeq` sets
    /// the first seq of the fresh database (default: after the old one's last, else 1).
    /// Throws `.databaseInUse` while a daemon holds the database.
    public static func run(config: AgentConfig, configPath: String, firstSeq: UInt64? = nil,
                           now: Date = Date()) throws -> [String] {
        let path = config.storage.path
        let lock: DatabaseLock
        do { lock = try DatabaseLock(database: path) } catch {
            throw StateDatabase.refusal(error, config: config, configPath: configPath)
        }
        defer { withExtendedLifetime(lock) {} }
        var lines: [String] = []
        var oldLastSeq: UInt64?
        let present = ([""] + DatabaseFile.companionSuffixes).filter { access(path + $0, F_OK) == 0 }
        if present.isEmpty {
            lines.append("no database at \(path)")
        } else {
            do {
                if let contents = try DatabaseFile.inspect(path: path) {
                    oldLastSeq = contents.lastSeq
                    lines.append("found: the replenishd database of device \"\(contents.deviceID ?? "not recorded")\", "
                        + "last seq \(contents.lastSeq)")
                }
            } catch {
                lines.append("found: \(error)")
            }
            let copy = path + ".broken-" + stamp(now, unusedBeside: path)
            for suffix in present {
                guard rename(path + suffix, copy + suffix) == 0 else {
                    throw AgentError(.unreadable, "cannot rename \(path + suffix) to \(copy + suffix)", failedWith: errno)
                }
                lines.append("kept \(path + suffix) as \(copy + suffix)")
            }
        }
        let first = firstSeq ?? oldLastSeq.map { $0 + 1 } ?? 1
        do {
            let store = try StateStore(path: path, deviceID: config.device.id)
            try store.continueSeqs(from: first)
        } catch {
            throw StateDatabase.refusal(error, config: config, configPath: configPath)
        }
        lines.append("created a fresh database for device \"\(config.device.id)\" at \(path); its first seq is \(first)")
        if !present.isEmpty, oldLastSeq == nil, firstSeq == nil {
            lines.append("warning: the old database's last seq could not be read, so seqs start again at 1; the cloud "
                + "deduplicates by messageId ({deviceId}-{seq}) and may drop new messages as copies of old ones. "
                + "Run reset again with --first-seq above the last seq the cloud received from this device to avoid it.")
        }
        return lines
    }

    /// `20261204T115800Z`, with `-2`, `-3`, ... when a copy of that second already exists.
    static func stamp(_ now: Date, unusedBeside path: String) -> String {
        var seconds = time_t(now.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y%m%dT%H%M%SZ", &parts)
        let base = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var candidate = base
        var attempt = 1
        while access(path + ".broken-" + candidate, F_OK) == 0 {
            attempt += 1
            candidate = "\(base)-\(attempt)"
        }
        return candidate
    }
}
