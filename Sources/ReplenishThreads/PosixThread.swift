#if canImport(Glibc)
import Glibc
#endif

/// A dedicated, detached POSIX thread for work that blocks in the kernel (a GPIO event wait,
/// `mosquitto_loop`) and so must not run on the cooperative thread pool.
///
/// The thread starts with the signal mask of the thread that starts it, as pthreads do.
public enum PosixThread {
    /// The kernel keeps this many bytes of a thread's name (16 with the terminating NUL).
    private static let maxNameBytes = 15

    /// Runs `body` on a new detached thread named `name`, cut to `maxNameBytes` bytes.
    /// A thread that cannot be created (out of memory or of the thread limit) stops the process.
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadStart(name: shortened(name), body: body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, threadMain, context)
        guard rc == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            fatalError("cannot start thread '\(name)': \(String(cString: strerror(rc)))")
        }
    }

    /// `name` cut to at most `maxNameBytes` UTF-8 bytes, on a character boundary.
    private static func shortened(_ name: String) -> String {
        var result = ""
        for character in name {
            guard result.utf8.count + character.utf8.count <= maxNameBytes else { break }
            result.append(character)
        }
        return result
    }
}

private final class ThreadStart: Sendable {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// glibc's pthread_setname_np, which Swift's Glibc module does not import (a GNU extension);
/// looked up at run time.
private typealias SetThreadName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
private let setThreadName: SetThreadName? = dlsym(nil, "pthread_setname_np").map { unsafeBitCast($0, to: SetThreadName.self) }

/// What pthread_create runs: names the thread, then runs the body it was given.
private func threadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue()
    _ = setThreadName?(pthread_self(), start.name)
    start.body()
    return nil
}
