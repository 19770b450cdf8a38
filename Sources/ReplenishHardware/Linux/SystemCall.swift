#if canImport(Glibc)
import Glibc
#endif

/// Runs C calls that report failure as -1 or NULL with errno, retrying EINTR, the way
/// swift-nio's System.swift does: one place turns errno into a thrown `HardwareError`.
///
/// Every call blocks the calling thread; callers run them on a dedicated thread, never on the
/// cooperative thread pool.
enum SystemCall {
    /// Calls `body` again while it returns a negative value with errno EINTR; returns its result
    /// or throws what `error` makes of errno. `readErrno` is replaceable for tests.
    static func retryingInterrupts<Result: BinaryInteger>(
        readErrno: () -> Int32 = { Glibc.errno },
        _ body: () -> Result,
        error: (Int32) -> HardwareError
    ) throws(HardwareError) -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = readErrno()
            if code == EINTR { continue }
            throw error(code)
        }
    }

    /// The same for calls that return a pointer, NULL on failure.
    static func retryingInterrupts<Pointer>(
        readErrno: () -> Int32 = { Glibc.errno },
        _ body: () -> Pointer?,
        error: (Int32) -> HardwareError
    ) throws(HardwareError) -> Pointer {
        while true {
            if let pointer = body() { return pointer }
            let code = readErrno()
            if code == EINTR { continue }
            throw error(code)
        }
    }
}
