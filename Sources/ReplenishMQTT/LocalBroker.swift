import FoundationEssentials
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A private mosquitto broker on a free loopback port, for the demo (and, with the listener
/// options tests add, for the tests).
public final class LocalBroker: Sendable {
    public let host = "127.0.0.1"
    public let port: Int

    private let directory: URL
    private let logger: Logger?
    /// The running mosquitto, owned (and reaped) by us.
    private let process = Mutex<pid_t?>(nil)

    static let startDeadline: Double = 10
    static let stopDeadline: Double = 5
    private static let maxPortAttempts = 5

    private var logFile: URL { directory.appendingPathComponent("mosquitto.log") }
    private var outputFile: URL { directory.appendingPathComponent("mosquitto.out") }
    private var configFile: URL { directory.appendingPathComponent("mosquitto.conf") }

    /// Starts mosquitto on a free 127.0.0.1 port, plaintext and anonymous, and returns once it
    /// accepts connections. `configuration` is appended to mosquitto.conf after the listener's
    /// line and the logging, so listener options in it (TLS files) apply to the listener.
    public static func start(configuration: String = "", logger: Logger? = nil) throws -> LocalBroker {
        var lastError: MQTTError?
        for _ in 0..<maxPortAttempts {
            let broker = try LocalBroker(port: try freeLoopbackPort(), configuration: configuration, logger: logger)
            do {
                try broker.launch()
                return broker
            } catch let error as MQTTError where error.message.contains("Address already in use") {
                lastError = error  // someone took the port between probe and bind: try another
                logger?.debug("broker port taken, retrying", metadata: ["port": "\(broker.port)"])
            }
        }
        throw lastError ?? MQTTError(code: .broker, message: "no free port for mosquitto")
    }

    private init(port: Int, configuration: String, logger: Logger?) throws {
        self.port = port
        self.logger = logger
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("replenish-broker-\(getpid())-\(port)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        } catch {
            throw MQTTError(code: .broker, message: "cannot create \(base.path): \(error)")
        }
        directory = base
        var config = """
            listener \(port) 127.0.0.1
            allow_anonymous true
            log_dest file \(logFile.path)
            log_type error
            log_type warning
            log_type notice
            log_type information
            connection_messages true

            """
        config += configuration
        // As root mosquitto would switch to the `mosquitto` user, which cannot write our temp dir.
        if getuid() == 0 { config += "\nuser root\n" }
        do {
            try config.write(to: configFile, atomically: true, encoding: .utf8)
        } catch {
            throw MQTTError(code: .broker, message: "cannot write \(configFile.path): \(error)")
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGTERM, wait for exit (bounded), then SIGKILL if needed. Idempotent.
    public func stop() {
        signal(SIGTERM)
        signal(SIGCONT)  // a stopped (SIGSTOP) broker handles its SIGTERM once thawed
        guard let pid = process.withLock({ p -> pid_t? in defer { p = nil }; return p }) else { return }
        if Self.waitForExit(pid, seconds: Self.stopDeadline) == nil {
            logger?.warning("mosquitto ignored SIGTERM; killing", metadata: ["pid": "\(pid)", "port": "\(port)"])
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        }
        logger?.debug("broker stopped", metadata: ["port": "\(port)", "pid": "\(pid)"])
    }

    /// Sends `signal` to the running mosquitto, if one runs.
    public func signal(_ signal: Int32) {
        if let pid = process.withLock({ $0 }) { kill(pid, signal) }
    }

    /// Runs mosquitto with this broker's configuration and waits until it accepts connections;
    /// after `stop()`, again on the same port.
    public func launch() throws {
        let executable = try Self.mosquittoExecutable()
        // The log is appended to across restarts; only lines written by this run count.
        let logStart = (try? FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int) ?? 0
        let pid = try Self.spawn(executable, arguments: ["-c", configFile.path], output: outputFile.path)
        process.withLock { $0 = pid }

        let deadline = ContinuousClock.now + .seconds(Self.startDeadline)
        while true {
            // "running" is logged after the listener is bound: a connect alone could reach
            // whoever else took the port.
            if logText(from: logStart).contains(" running"), Self.acceptsConnections(port: port) {
                logger?.debug("broker started", metadata: ["port": "\(port)", "pid": "\(pid)"])
                return
            }
            if let status = Self.waitForExit(pid, seconds: 0) {
                process.withLock { $0 = nil }
                throw MQTTError(code: .broker, message: "mosquitto exited (wait status \(status)) on port \(port):\n\(logTail())")
            }
            if ContinuousClock.now >= deadline {
                stop()
                throw MQTTError(code: .broker, message: "mosquitto did not accept connections on port \(port) within \(Self.startDeadline) s:\n\(logTail())")
            }
            usleep(10_000)  // polling a port that is about to open; there is nothing to wait on
        }
    }

    /// posix_spawn rather than Foundation.Process: the child must start clean (`CleanSpawn`).
    private static func spawn(_ executable: String, arguments: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        CleanSpawn.closeInheritedDescriptors(&actions)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let rc = CleanSpawn.withAttributes { posix_spawn(&pid, executable, &actions, &$0, argv, environ) }
        guard rc == 0 else {
            throw MQTTError(code: .broker, message: "cannot run \(executable): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    private func logText(from offset: Int) -> String {
        String(decoding: ((try? Data(contentsOf: logFile)) ?? Data()).dropFirst(offset), as: UTF8.self)
    }

    /// The last lines of the broker's log and output, for error messages.
    public func logTail(lines: Int = 20) -> String {
        let text = [logFile, outputFile]
            .compactMap { try? String(contentsOf: $0, encoding: .utf8) }
            .joined(separator: "\n")
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    private static func mosquittoExecutable() throws -> String {
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/mosquitto" } + ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw MQTTError(code: .broker, message: "mosquitto not found on PATH or in /usr/sbin (apt install mosquitto)")
        }
        return found
    }

    /// Reaps `pid` if it exits within `seconds`; returns its wait status, or nil if still running.
    private static func waitForExit(_ pid: pid_t, seconds: Double) -> Int32? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid || (rc == -1 && errno == ECHILD) { return status }
            if ContinuousClock.now >= deadline { return nil }
            usleep(2_000)
        }
    }

    /// Binds 127.0.0.1:0, reads the port the kernel chose, and closes the socket.
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw systemError("socket") }
        defer { close(fd) }
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw systemError("bind 127.0.0.1:0") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw systemError("getsockname") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func acceptsConnections(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopbackAddress(port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc == 0
    }

    /// 127.0.0.1:`port` as a socket address.
    public static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func systemError(_ what: String) -> MQTTError {
        MQTTError(code: .system, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
