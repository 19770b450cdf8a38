import Foundation
import Glibc
import Synchronization
import Testing
@testable import ReplenishStore

/// Another process's hold on a lock file: flock belongs to an open file description, so a
/// separate open of the file competes with the store exactly as another process would.
final class ForeignHold {
    let fd: Int32

    init(database: String, pid: String) throws {
        fd = open(DatabaseLock.lockPath(database: database), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }

    /// Whether another process could take the lock now.
    static func isFree(database: String) -> Bool {
        let fd = open(DatabaseLock.lockPath(database: database), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }
}

@Suite("database lock")
struct DatabaseLockTests {
    @Test("a writer is refused while another process holds the lock, naming its pid; readers still read")
    func heldElsewhere() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do { try StateStore(path: path).enqueueOne() }
            var hold: ForeignHold? = try ForeignHold(database: path, pid: "4242\n")
            let error = #expect(throws: StoreError.self) { _ = try StateStore(path: path) }
            #expect(error?.code == .locked)
            #expect(error?.message.contains("\(path) is in use by process 4242 (it holds \(path).lock)") == true,
                    "\(String(describing: error))")
            #expect(try StateStore(path: path, readOnly: true).loadState().lastSeq == 1)
            withExtendedLifetime(hold) {}
            hold = nil
            #expect(try StateStore(path: path).enqueueOne() == 2)
        }
    }

    @Test("writers of one process share the lock; it is released, pid cleared, when the last one goes")
    func sharedInProcess() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            var first: StateStore? = try StateStore(path: path)
            var second: StateStore? = try StateStore(path: path)
            let lockFile = DatabaseLock.lockPath(database: path)
            #expect(try String(contentsOfFile: lockFile, encoding: .utf8) == "\(getpid())\n")
            first = nil
            #expect(!ForeignHold.isFree(database: path))
            withExtendedLifetime(second) {}
            second = nil
            #expect(try String(contentsOfFile: lockFile, encoding: .utf8) == "")
            #expect(ForeignHold.isFree(database: path))
            withExtendedLifetime(first) {}
        }
    }
}

/// The state may hold what the cloud should not see from other accounts: nothing beside the
/// database is readable by group or others, whatever the umask.
@Suite("database file modes", .serialized)
struct DatabaseModeTests {
    /// The umask is per process: other suites' files are made meanwhile, at worst more open.
    static let umaskGate = Mutex(())

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : nil
    }

    @Test("the database, its log, shared memory, reserve and lock file are 0600", arguments: [0o000, 0o022] as [mode_t])
    func modes(mask: mode_t) throws {
        try Self.umaskGate.withLock { _ in
            let previous = umask(mask)
            defer { umask(previous) }
            try withTemporaryDirectory { directory in
                let path = directory + "/state.db"
                let store = try StateStore(path: path)
                try store.enqueueOne()
                #expect(store.ensureReserve())
                for file in [path, path + "-wal", path + "-shm", path + "-reserve", path + ".lock"] {
                    #expect(Self.mode(file) == 0o600, "\(file): \(String(Self.mode(file) ?? 0, radix: 8))")
                }
            }
        }
    }

    @Test("created as root in the service's directory, the database and lock file belong to the directory's owner")
    func ownerOfDirectory() throws {
        guard geteuid() == 0 else { return }  // only root can give files away
        try withTemporaryDirectory { directory in
            let state = directory + "/state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
            #expect(chown(state, 65534, 65534) == 0)
            let path = state + "/state.db"
            let store = try StateStore(path: path)
            try store.enqueueOne()
            for file in [path, path + "-wal", path + ".lock"] {
                var info = stat()
                #expect(stat(file, &info) == 0)
                #expect(info.st_uid == 65534 && info.st_gid == 65534, "\(file): \(info.st_uid):\(info.st_gid)")
            }
        }
    }

    @Test("a database made before this build with the umask's mode is tightened to 0600 when a writer opens it")
    func tightened() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do { _ = try StateStore(path: path) }
            chmod(path, 0o644)
            let store = try StateStore(path: path)
            try store.enqueueOne()
            #expect(Self.mode(path) == 0o600)
            #expect(Self.mode(path + "-wal") == 0o600)
        }
    }
}
