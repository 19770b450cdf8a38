#if canImport(Glibc)
import Glibc
#endif

/// The agent module's one error type: a code to switch on (`replenishd`'s exit status is chosen
/// by it), the message printed, the diagnostics of a refused config, and errno where a system
/// call failed.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as an open set: new codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        public static let unsupported = Code(name: "unsupported")
        /// A file that cannot be read (a config, a key file, the state database) or renamed.
        public static let unreadable = Code(name: "unreadable")
        public static let invalidArguments = Code(name: "invalidArguments")
        public static let broker = Code(name: "broker")
        /// Something the command needs is not there yet (no state database).
        public static let unavailable = Code(name: "unavailable")
        /// The state database cannot be used as it is (empty, damaged, another program's or
        /// another device's): restarting will not help; exit 78.
        public static let databaseRefused = Code(name: "databaseRefused")
        /// Another process holds the state database's lock (another daemon runs on it); exit 75.
        public static let databaseInUse = Code(name: "databaseInUse")
        /// The config file was refused: every problem found is in `diagnostics`, in file order;
        /// exit 78 for a command given it with --config.
        public static let configRejected = Code(name: "configRejected")
        /// One value in the config cannot be parsed (e.g. `mqtt.url`); reported as a diagnostic.
        public static let invalidConfigValue = Code(name: "invalidConfigValue")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// For `.configRejected`: every problem found, in file order (the message has one per line).
    public var diagnostics: [ConfigDiagnostic] = []
    /// The errno behind the error, when a system call failed.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// "`what`: strerror(`errno`)", keeping `errno`.
    init(_ code: Code, _ what: String, failedWith errno: Int32) {
        self.init(code, "\(what): \(String(cString: strerror(errno)))", errno: errno)
    }

    /// A config refused for `diagnostics`: the message is one diagnostic per line.
    public static func configRejected(_ diagnostics: [ConfigDiagnostic]) -> AgentError {
        var error = AgentError(.configRejected, diagnostics.map(\.description).joined(separator: "\n"))
        error.diagnostics = diagnostics
        return error
    }

    public var description: String { message }
}
