/// The agent module's one error type.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case unsupported
        case unreadable
        case invalidArguments
        case broker
        /// Something the command needs is not there yet (no state database).
        case unavailable
        /// The state database cannot be used as it is (empty, damaged, another program's or
        /// another device's): restarting will not help; exit 78.
        case databaseRefused
        /// Another process holds the state database's lock (another daemon runs on it); exit 75.
        case databaseInUse
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
