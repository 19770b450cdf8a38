/// What an outbox message is; decides which messages may be evicted when the outbox is full.
public enum MessageKind: String, Sendable, CaseIterable {
    case status
    case event
    case reply
    case availability
}
