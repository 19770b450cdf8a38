/// A filter list that cannot work, found when the chain is built (so `replenishd check` reports
/// it without hardware). `index` is the filter's position in the configured list.
public struct FilterChainError: Error, Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var message: String

    public init(index: Int, _ message: String) {
        self.index = index
        self.message = message
    }

    public var description: String { "filter \(index + 1): \(message)" }
}
