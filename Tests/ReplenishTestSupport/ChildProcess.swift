import Foundation
import Glibc
import ReplenishMQTT
import Synchronization

/// A child process for tests, started with posix_spawn and reaped with waitpid on its own pid.
///
/// Not Foundation.Process: on Linux it learns of every exit through one manager thread whose
/// socket callback calls a blocking waitpid. With many processes started from parallel tests
/// (run by CI on two cores), a callback for a child that is still running blocks that thread, the
/// exits of all other children are never noticed, and `waitUntilExit()` on the cooperative
/// threads hangs the whole test run (seen in CI: the run was killed after 90 minutes).
///
/// Like systemd, the child starts clean (`CleanSpawn`), in its own process group.
public final class ChildProcess: Sendable {
    public enum Output: Sendable {
        /// /dev/null.
        case null
        /// Ours.
        case inherit
        /// A file, created or truncated.
        case file(String)
        /// A pipe read with `readToEnd()` or `read()`; stdout and stderr may share it.
        case pipe
    }

    public enum TerminationReason: Sendable, Equatable {
        case exit
        case uncaughtSignal
    }

    public let processIdentifier: pid_t
    /// The read end of the pipe given as `.pipe`, or -1.
    private let pipeReadEnd: Int32
    /// The wait status once reaped.
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` (a path, or a name looked up on PATH) with `arguments`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                directory: String? = nil, stdin: Output = .null, stdout: Output = .inherit,
                stderr: Output = .inherit) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        var pipeEnds: [Int32] = [-1, -1]
        if [stdout, stderr].contains(where: { if case .pipe = $0 { true } else { false } }) {
            guard pipe(&pipeEnds) == 0 else { throw Self.failure("pipe", errno) }
            for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
        for (fd, output) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch output {
            case .null:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            case .inherit:
                break
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .pipe:
                precondition(fd != 0, "a pipe is for output only")
                posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], fd)
            }
        }
        if let directory {
            typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
            guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else {
                throw Self.failure("posix_spawn_file_actions_addchdir_np", ENOSYS)
            }
            _ = unsafeBitCast(symbol, to: AddChdir.self)(&actions, directory)
        }
        // Descriptors from 3 up are closed in the child; the pipe's are close-on-exec anyway.
        CleanSpawn.closeInheritedDescriptors(&actions)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var envp: [UnsafeMutablePointer<CChar>?] = (environment ?? [:]).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var pid = pid_t()
        let rc = CleanSpawn.withAttributes(ownProcessGroup: true) { attributes in
            envp.withUnsafeMutableBufferPointer { given in
                let env = environment == nil ? environ : given.baseAddress
                return executable.contains("/")
                    ? posix_spawn(&pid, executable, &actions, &attributes, argv, env)
                    : posix_spawnp(&pid, executable, &actions, &attributes, argv, env)
            }
        }
        if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
        guard rc == 0 else {
            if pipeEnds[0] >= 0 { close(pipeEnds[0]) }
            throw Self.failure("cannot run \(executable)", rc)
        }
        processIdentifier = pid
        pipeReadEnd = pipeEnds[0]
    }

    deinit {
        if pipeReadEnd >= 0 { close(pipeReadEnd) }
    }

    /// Runs `executable` to its end; returns its exit status and what it wrote to the pipe
    /// (stdout and stderr together unless one of them is given elsewhere).
    public static func run(_ executable: String, _ arguments: [String], directory: String? = nil,
                           stdout: Output = .pipe, stderr: Output = .pipe) throws -> (status: Int32, output: String) {
        let child = try ChildProcess(executable, arguments, directory: directory, stdout: stdout, stderr: stderr)
        let output = child.readToEnd()
        child.waitUntilExit()
        return (child.terminationStatus, output)
    }

    /// False once the child has exited (it is then reaped).
    public var isRunning: Bool {
        status.withLock { status in
            guard status == nil else { return false }
            var wait: Int32 = 0
            let result = waitpid(processIdentifier, &wait, WNOHANG)
            if result == processIdentifier {
                status = wait
            } else if result == -1 && errno == ECHILD {
                status = 0  // reaped by someone else: nothing more to learn
            }
            return status == nil
        }
    }

    /// Blocks until the child has exited.
    public func waitUntilExit() {
        if status.withLock({ $0 }) != nil { return }
        var wait: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(processIdentifier, &wait, 0) } while result == -1 && errno == EINTR
        status.withLock { status in
            if status == nil { status = result == processIdentifier ? wait : 0 }
        }
    }

    /// Waits, on the condition and not a fixed time, until the child has exited; after `limit`
    /// it is killed and this throws.
    public func exited(within limit: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + limit
        while isRunning {
            guard ContinuousClock.now < deadline else {
                kill(processIdentifier, SIGKILL)
                waitUntilExit()
                throw Self.failure("pid \(processIdentifier) still running after \(limit); killed", ETIMEDOUT)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private var waitStatus: Int32 {
        guard let wait = status.withLock({ $0 }) else { preconditionFailure("process \(processIdentifier) still running") }
        return wait
    }

    /// The exit code, or the signal that ended it (as Foundation.Process has it).
    public var terminationStatus: Int32 {
        let wait = waitStatus
        return wait & 0x7f == 0 ? (wait >> 8) & 0xff : wait & 0x7f
    }

    public var terminationReason: TerminationReason {
        waitStatus & 0x7f == 0 ? .exit : .uncaughtSignal
    }

    public func terminate() { kill(processIdentifier, SIGTERM) }

    /// The next bytes written to the pipe, empty at its end.
    public func read() -> [UInt8] {
        precondition(pipeReadEnd >= 0, "no pipe")
        var buffer = [UInt8](repeating: 0, count: 4096)
        var count: Int
        repeat { count = Glibc.read(pipeReadEnd, &buffer, buffer.count) } while count == -1 && errno == EINTR
        return Array(buffer.prefix(max(count, 0)))
    }

    /// Everything written to the pipe until every writer has closed it.
    public func readToEnd() -> String {
        guard pipeReadEnd >= 0 else { return "" }
        var bytes: [UInt8] = []
        while case let chunk = read(), !chunk.isEmpty { bytes += chunk }
        return String(decoding: bytes, as: UTF8.self)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private static func failure(_ what: String, _ code: Int32) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(code)))")
    }
}
