#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ReplenishHardware

/// The errno helper, driven by a fake call and a fake errno.
@Suite("Linux hardware: system calls")
struct LinuxSystemCallTests {
    /// A C call that fails with the given errnos, then succeeds with `result`.
    final class FakeCall {
        var failures: [Int32]
        var calls = 0
        var lastErrno: Int32 = 0
        let result: Int32
        init(failing failures: [Int32], then result: Int32) {
            self.failures = failures
            self.result = result
        }
        func call() -> Int32 {
            calls += 1
            if failures.isEmpty { return result }
            lastErrno = failures.removeFirst()
            return -1
        }
    }

    static func error(_ code: Int32) -> HardwareError { .failed("fake call", errno: code) }

    @Test("EINTR is retried until the call completes")
    func retriesInterrupts() throws {
        let fake = FakeCall(failing: [EINTR, EINTR, EINTR], then: 7)
        let result = try SystemCall.retryingInterrupts(readErrno: { fake.lastErrno }, fake.call, error: Self.error)
        #expect(result == 7)
        #expect(fake.calls == 4)
    }

    @Test("any other errno is thrown at once, with the errno kept", arguments: [EACCES, EBUSY, EIO, ENOENT])
    func throwsOtherErrors(code: Int32) throws {
        let fake = FakeCall(failing: [EINTR, code], then: 0)
        let error = try #require(throws: HardwareError.self) {
            try SystemCall.retryingInterrupts(readErrno: { fake.lastErrno }, fake.call, error: Self.error)
        }
        #expect(fake.calls == 2)
        #expect(error.errno == code)
        #expect(error.message == "fake call failed: \(errnoText(code))")
    }

    @Test("pointer-returning calls retry EINTR and throw on other errors")
    func pointers() throws {
        var errnos: [Int32] = [EINTR, EINTR]
        var calls = 0
        let value = try SystemCall.retryingInterrupts(readErrno: { EINTR }, { () -> String? in
            calls += 1
            return errnos.popLast() == nil ? "handle" : nil
        }, error: Self.error)
        #expect(value == "handle")
        #expect(calls == 3)

        let error = try #require(throws: HardwareError.self) {
            try SystemCall.retryingInterrupts(readErrno: { ENOENT }, { () -> String? in nil }, error: Self.error)
        }
        #expect(error.errno == ENOENT)
    }

    @Test("a real interrupted-free call goes through: opening /dev/null read-only")
    func realCall() throws {
        let fd = try SystemCall.retryingInterrupts({ open("/dev/null", O_RDONLY) }, error: Self.error)
        #expect(fd >= 0)
        close(fd)
    }
}
