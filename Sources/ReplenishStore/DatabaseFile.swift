import CSQLite3
import Glibc

/// What lies at a database path, judged before anything writes to it.
///
/// A missing file is a new device. A file that exists must be a replenishd database: one that is
/// empty (a known ext4 outcome of a power cut), damaged, or another program's is refused with the
/// reason, never recreated or adopted, since starting afresh would reuse seqs the cloud has seen.
public enum DatabaseFile {
    /// A replenishd database found at the path.
    public struct Contents: Sendable, Equatable {
        public var schemaVersion: Int64
        /// nil in a database from before the device id was recorded.
        public var deviceID: String?
        public var lastSeq: UInt64
    }

    /// The companions SQLite keeps beside a database: they belong to it and move with it.
    public static let companionSuffixes = ["-wal", "-shm", "-journal"]

    /// The database at `path`, or nil when there is none (a new device). Reads only, through a
    /// read-only connection. Throws `.empty`, `.corrupt` (damaged), `.foreign`, `.schemaVersion`
    /// or, when `expectedDeviceID` is given and another id is recorded, `.deviceMismatch`.
    public static func inspect(path: String, expectedDeviceID: String? = nil) throws(StoreError) -> Contents? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            guard code == ENOENT else {
                throw StoreError(.cannotOpen, operation: "open", path: path, errno: code)
            }
            if let orphan = ["-wal", "-journal"].map({ path + $0 }).first(where: { size(of: $0).map { $0 > 0 } ?? false }) {
                throw StoreError(
                    code: .corrupt,
                    message: "the state database \(path) is missing but its log \(orphan) is there: the database "
                        + "was removed or lost, and starting afresh beside that log could mix the two")
            }
            return nil
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw StoreError(.cannotOpen, operation: "open", path: path, reason: "not a regular file")
        }
        if info.st_size == 0 && (size(of: path + "-wal") ?? 0) == 0 {
            throw StoreError(
                code: .empty,
                message: "the state database \(path) exists but is empty (0 bytes): its contents were lost, "
                    + "e.g. in a power cut; starting afresh would reuse seqs the cloud has already seen")
        }
        do {
            let db = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMilliseconds: 5000)
            return try contents(db, expectedDeviceID: expectedDeviceID)
        } catch let error where error.code == .corrupt && error.extendedResultCode != nil {
            // Read the bytes ourselves only now: closing a descriptor of a file SQLite has open in
            // this process would drop SQLite's POSIX locks on it, and nobody uses a non-database.
            if error.extendedResultCode == SQLITE_NOTADB, let problem = headerProblem(path, size: Int(info.st_size)) {
                throw StoreError(code: .corrupt, message: "the state database \(path) is not an SQLite database: \(problem)")
            }
            throw StoreError(
                code: .corrupt,
                message: "the state database \(path) is damaged: SQLite says \"\(error.sqliteMessage ?? error.message)\"",
                extendedResultCode: error.extendedResultCode, sqliteMessage: error.sqliteMessage)
        }
    }

    private static func contents(_ db: SQLiteConnection, expectedDeviceID: String?) throws(StoreError) -> Contents {
        let path = db.path
        let version = try Schema.version(db)
        var tables: [String] = []
        try db.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", operation: "list tables") {
            tables.append($0.text(0))
        }
        var check: [String] = []
        try db.query("PRAGMA quick_check(5)", operation: "check integrity") { check.append($0.text(0)) }
        guard check == ["ok"] else {
            throw StoreError(
                code: .corrupt,
                message: "the state database \(path) is damaged: SQLite's integrity check says "
                    + check.joined(separator: "; "))
        }
        if tables.isEmpty && version == 0 {
            throw StoreError(
                code: .empty,
                message: "the state database \(path) exists but holds no tables: its contents were lost; "
                    + "starting afresh would reuse seqs the cloud has already seen")
        }
        guard version > 0, Schema.requiredTables.isSubset(of: tables) else {
            let shown = tables.prefix(8).joined(separator: ", ") + (tables.count > 8 ? ", ..." : "")
            throw StoreError(
                code: .foreign,
                message: "\(path) is an SQLite database of another program (tables: \(shown)), not a replenishd "
                    + "state database; it was not modified: point storage.path at a file of its own")
        }
        guard version <= Schema.currentVersion else {
            throw StoreError(
                .schemaVersion, operation: "open", path: path,
                reason: "schema version \(version) is newer than this build's \(Schema.currentVersion)")
        }
        let recorded = try Schema.recordedDevice(db)
        if let expectedDeviceID { try Schema.requireDevice(expectedDeviceID, recorded: recorded, path: path) }
        var lastSeq: UInt64 = 0
        try db.query("SELECT last_seq FROM seq_counter WHERE id = 1", operation: "read last seq") {
            row throws(StoreError) in lastSeq = try row.seq(0, operation: "read last seq")
        }
        return Contents(schemaVersion: version, deviceID: recorded, lastSeq: lastSeq)
    }

    /// Why the first bytes are not SQLite's header, or nil when they are.
    private static func headerProblem(_ path: String, size: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }  // let SQLite say why
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let count = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let expected = Array("SQLite format 3\0".utf8)
        guard count == 16, header == expected, size >= 512 else {
            let shown = header.prefix(max(0, count)).map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }.joined(separator: " ")
            return "\(size) bytes starting \(shown.isEmpty ? "with nothing" : shown), not SQLite's 100-byte header"
        }
        return nil
    }

    /// Creates a new database at `path` whole: built under a temporary name, synced, then renamed,
    /// so a crash leaves either no file (a new device again) or a complete one, never an empty
    /// file that the next start would have to refuse. The file is 0600 whatever the umask, and
    /// SQLite gives its log and shared-memory files the database's mode.
    static func create(path: String, deviceID: String?) throws(StoreError) {
        let staging = path + ".new"
        for leftover in [staging] + companionSuffixes.map({ staging + $0 }) { unlink(leftover) }
        let fd = open(staging, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(.cannotOpen, operation: "create", path: path, errno: errno)
        }
        _ = fchmod(fd, 0o600)
        shareOwner(fd, withDirectoryOf: path)
        close(fd)
        do {
            let db = try SQLiteConnection(path: staging, readOnly: false, busyTimeoutMilliseconds: 5000)
            try db.execute("PRAGMA synchronous = FULL", operation: "set synchronous")
            try Schema.migrate(db, deviceID: deviceID)
        } catch {
            unlink(staging)
            throw error
        }
        guard sync(staging), rename(staging, path) == 0 else {
            let code = errno
            unlink(staging)
            throw StoreError(.cannotOpen, operation: "create", path: path, errno: code)
        }
        _ = syncDirectory(of: path)
    }

    /// Takes group and other access away from the database and its companions: files created
    /// before this build followed the umask.
    static func restrictModes(path: String) {
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            if stat(file, &info) == 0, info.st_mode & 0o077 != 0 { _ = chmod(file, 0o600) }
        }
    }

    /// Gives a file root creates to the owner of its directory (the service's state directory),
    /// as SQLite does for a log: `replenishd reset` run as root must leave a database the
    /// service's user can open.
    static func shareOwner(_ fd: Int32, withDirectoryOf path: String) {
        guard geteuid() == 0 else { return }
        var info = stat()
        guard stat(directory(of: path), &info) == 0, info.st_uid != 0 || info.st_gid != 0 else { return }
        _ = fchown(fd, info.st_uid, info.st_gid)
    }

    static func directory(of path: String) -> String {
        let slash = path.lastIndex(of: "/")
        return slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    }

    /// The file's size, nil when it is missing.
    static func size(of path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    static func sync(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }

    /// Makes a rename in the directory of `path` durable.
    @discardableResult
    static func syncDirectory(of path: String) -> Bool {
        let fd = open(directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }
}
