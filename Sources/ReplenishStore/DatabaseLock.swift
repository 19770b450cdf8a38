import Glibc
import Synchronization

/// One daemon per database: an exclusive `flock` on `<database>.lock`, which holds the holder's
/// pid so a refused second process can say who has it. Readers (`status`) never take it.
///
/// flock belongs to an open file description, so two opens in one process would lock each other
/// out; the process therefore shares one descriptor per lock file (by device and inode) and
/// releases it when the last holder goes.
public final class DatabaseLock: Sendable {
    /// The lock file.
    public let path: String
    private let key: FileKey

    private struct FileKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private struct Entry {
        var fd: Int32
        var holders: Int
    }

    private static let held = Mutex<[FileKey: Entry]>([:])

    /// The lock file of the database at `database`.
    public static func lockPath(database: String) -> String { database + ".lock" }

    /// Takes the lock of the database at `database`, or throws `.locked` naming the pid in the
    /// lock file. The lock file is created 0600 whatever the umask.
    /// The corresponding C function is `flock` with `LOCK_EX | LOCK_NB`.
    public init(database: String) throws(StoreError) {
        let path = Self.lockPath(database: database)
        let result: Result<FileKey, StoreError> = Self.held.withLock { held in
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { return .failure(Self.failure(path, "open", errno)) }
            _ = fchmod(fd, 0o600)  // open's mode is filtered by the umask; EPERM on a file of another user is harmless
            DatabaseFile.shareOwner(fd, withDirectoryOf: database)
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let code = errno
                close(fd)
                return .failure(Self.failure(path, "stat", code))
            }
            let key = FileKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if held[key] != nil {
                close(fd)
                held[key]!.holders += 1
                return .success(key)
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let code = errno
                let holder = Self.readPid(fd)
                close(fd)
                guard code == EWOULDBLOCK else { return .failure(Self.failure(path, "lock", code)) }
                let who = holder.map { "process \($0)" } ?? "another process"
                return .failure(StoreError(
                    code: .locked,
                    message: "the state database \(database) is in use by \(who) (it holds \(path)): "
                        + "one daemon per database; stop that one first, or give this one its own storage.path"))
            }
            let pid = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            held[key] = Entry(fd: fd, holders: 1)
            return .success(key)
        }
        self.path = path
        self.key = try result.get()
    }

    deinit {
        let key = self.key
        Self.held.withLock { held in
            guard var entry = held[key] else { return }
            entry.holders -= 1
            if entry.holders > 0 {
                held[key] = entry
                return
            }
            _ = ftruncate(entry.fd, 0)  // no stale pid for the next reader
            // Unlocked explicitly, not only by the close: a process forked meanwhile (spawning a
            // child) shares the descriptor until its exec, and would hold the lock until then.
            _ = flock(entry.fd, LOCK_UN)
            close(entry.fd)
            held[key] = nil
        }
    }

    /// The pid the holder wrote, if it got that far.
    private static func readPid(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self)
        return Int32(text.split(whereSeparator: { $0 == "\n" }).first.map(String.init) ?? "")
    }

    private static func failure(_ path: String, _ operation: String, _ code: Int32) -> StoreError {
        StoreError(.cannotOpen, operation: "\(operation) lock file", path: path, errno: code)
    }
}
