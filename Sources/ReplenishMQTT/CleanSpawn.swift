import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// posix_spawn settings for a child that must start clean, as systemd starts a service: an empty
/// signal mask and every signal at its default action (our threads block SIGTERM and friends, and
/// exec keeps both a mask and ignored signals), and none of our descriptors past 2 (an inherited
/// client socket would keep that connection open after the client closes it). Used for the
/// demo's broker (`LocalBroker`) and the tests' children.
public enum CleanSpawn {
    /// Runs `body` with attributes set so; `ownProcessGroup` also puts the child in a group of its own.
    public static func withAttributes<T>(ownProcessGroup: Bool = false,
                                         _ body: (inout posix_spawnattr_t) throws -> T) rethrows -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        return try body(&attributes)
    }

    /// Closes descriptors 3 and up in the child. glibc 2.34+ has
    /// posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does not import; look
    /// it up at run time, else close each descriptor open now that is not close-on-exec.
    public static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            let addCloseFrom = unsafeBitCast(symbol, to: AddCloseFrom.self)
            if addCloseFrom(&actions, 3) == 0 { return }
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 && fcntl(fd, F_GETFD) & FD_CLOEXEC == 0 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }
}
