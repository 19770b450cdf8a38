import Glibc

/// Room kept on the state directory's file system for the day it fills up.
///
/// In WAL mode every write, even a DELETE, first appends to the write-ahead log; on a full disk
/// nothing can be written, so nothing can be evicted either. A preallocated reserve file beside
/// the database is given back at that moment: with it, the log can be folded into the database
/// and truncated, and old reports evicted, so the daemon keeps committing. It is recreated once
/// space returns.
extension StateStore {
    /// The reserve's size: enough for a checkpoint of a small database and an eviction.
    public static let reserveBytes = 256 * 1024

    /// The reserve file, beside the database.
    public var reservePath: String { path + "-reserve" }

    /// The reserve file's current size (0 when missing).
    public var reserveSize: Int {
        var info = stat()
        return stat(reservePath, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Whether the reserve file exists at full size.
    public var hasReserve: Bool { reserveSize >= Self.reserveBytes }

    /// Bytes available to this process on the database's file system.
    /// The corresponding C function is `statvfs`.
    public var availableBytes: Int? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// Bytes of free pages inside the database (`PRAGMA freelist_count` × `page_size`): room its
    /// next writes reuse without growing the file, e.g. after an eviction. 0 when unreadable.
    public var reusableBytes: Int {
        guard let pages = try? pragma("freelist_count").first.flatMap({ Int($0) }),
              let size = try? pragma("page_size").first.flatMap({ Int($0) }) else { return 0 }
        return pages * size
    }

    /// Creates the reserve when it is missing and the disk can spare it with some room left for
    /// the database's next writes; false while it is missing.
    /// The corresponding C function is `posix_fallocate`.
    @discardableResult
    public func ensureReserve() -> Bool {
        if hasReserve { return true }
        guard let available = availableBytes, available >= Self.reserveBytes + 64 * 1024 else { return false }
        let fd = open(reservePath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)  // open's mode is filtered by the umask, which may take the owner's write
        guard posix_fallocate(fd, 0, off_t(Self.reserveBytes)) == 0, fsync(fd) == 0 else {
            _ = ftruncate(fd, 0)
            unlink(reservePath)
            return false
        }
        return true
    }

    /// Gives the reserve back to the file system and folds the write-ahead log into the database.
    /// Call on `.diskFull`, then retry.
    /// Answers whether the reserve was there to release.
    @discardableResult
    public func releaseSpace() -> Bool {
        let released = hasReserve
        unlink(reservePath)
        checkpoint()
        return released
    }

    /// Folds the write-ahead log into the database and truncates it, giving its room back.
    /// Answers SQLite's busy flag ("0" when it completed), or the error.
    @discardableResult
    public func checkpoint() -> String {
        do { return try pragma("wal_checkpoint(TRUNCATE)").joined(separator: " ") } catch { return "\(error)" }
    }
}
