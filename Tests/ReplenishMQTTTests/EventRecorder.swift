import Logging
@testable import ReplenishMQTT

/// Reads a client's event stream in the background so tests can wait for "the next event
/// matching a predicate" with a deadline that fails the test instead of hanging it.
actor EventRecorder {
    private var buffer: [MQTTEvent] = []
    private var finished = false
    private var waiter: Waiter?
    private var nextWaiterID = 0

    private struct Waiter {
        let id: Int
        let predicate: @Sendable (MQTTEvent) -> Bool
        let continuation: CheckedContinuation<MQTTEvent?, Never>
    }

    static func recording(_ client: MQTTClient) -> EventRecorder {
        let recorder = EventRecorder()
        let events = client.events
        Task {
            for await event in events { await recorder.append(event) }
            await recorder.finish()
        }
        return recorder
    }

    /// Consumes events up to and including the first that matches; nil when `seconds` pass or
    /// the stream ends first. Events before the match are discarded.
    func next(within seconds: Double = 10, where predicate: @escaping @Sendable (MQTTEvent) -> Bool) async -> MQTTEvent? {
        precondition(waiter == nil, "one waiter at a time")
        if let match = takeMatch(predicate) { return match }
        if finished { return nil }
        nextWaiterID += 1
        let id = nextWaiterID
        return await withCheckedContinuation { continuation in
            waiter = Waiter(id: id, predicate: predicate, continuation: continuation)
            Task { [weak self] in
                try? await Task.sleep(for: .seconds(seconds))
                await self?.expire(id)
            }
        }
    }

    /// Whether the stream has ended (after `stop`).
    func hasFinished(within seconds: Double = 10) async -> Bool {
        await next(within: seconds) { _ in false } == nil && finished
    }

    private func takeMatch(_ predicate: (MQTTEvent) -> Bool) -> MQTTEvent? {
        guard let index = buffer.firstIndex(where: predicate) else {
            buffer.removeAll()
            return nil
        }
        let match = buffer[index]
        buffer.removeFirst(index + 1)
        return match
    }

    private func append(_ event: MQTTEvent) {
        if let current = waiter, current.predicate(event) {
            waiter = nil
            current.continuation.resume(returning: event)
        } else if waiter == nil {
            buffer.append(event)
        }
    }

    private func finish() {
        finished = true
        if let current = waiter {
            waiter = nil
            current.continuation.resume(returning: nil)
        }
    }

    private func expire(_ id: Int) {
        if let current = waiter, current.id == id {
            waiter = nil
            current.continuation.resume(returning: nil)
        }
    }
}

extension MQTTEvent {
    var isConnected: Bool { if case .connected = self { true } else { false } }
    var isDisconnected: Bool { if case .disconnected = self { true } else { false } }
    var connectionGeneration: UInt64? {
        switch self {
        case .connected(let connection, _), .disconnected(let connection, _), .published(let connection, _, _): connection
        case .message: nil
        }
    }
    var messagePayload: [UInt8]? { if case .message(_, let payload, _, _) = self { payload } else { nil } }

    static func isMessage(on topic: String) -> @Sendable (MQTTEvent) -> Bool {
        { if case .message(let t, _, _, _) = $0 { t == topic } else { false } }
    }
}
