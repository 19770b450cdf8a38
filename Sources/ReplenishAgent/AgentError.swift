/// The agent module's one error type.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case unsupported
        case unreadable
        case invalidArguments
        case broker
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
