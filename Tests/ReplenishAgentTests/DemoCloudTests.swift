@testable import ReplenishAgent
import ReplenishCore
import Testing

/// The demo's cloud keeps what it sent until the reply and sends again what a state does not list.
@Suite("the demo's cloud")
struct DemoCloudTests {
    static let base = "replenish/v1/cm-demo"

    static func json(_ text: String) throws -> [String: JSONValue] {
        guard case .object(let fields) = try JSONValue.parse(Array(text.utf8)) else { Issue.record("not an object: \(text)"); return [:] }
        return fields
    }

    static func state(_ ids: [String]) throws -> [String: JSONValue] {
        try json(#"{"schema":"replenish.state/1","commands":["# + ids.map { #"{"correlationId":"\#($0)"}"# }.joined(separator: ",") + "]}")
    }

    @Test("a command neither answered nor in the state is sent again, once per state after the next")
    func sendsAgain() throws {
        var cloud = DemoCloud(base: Self.base, capacities: ["water": 1500])
        let placed = cloud.react(topic: Self.base + "/events", json: try Self.json(#"{"event":"replenishRequested","slot":"water"}"#))
        #expect(placed.map(\.command) == ["orderPlaced"] && placed.allSatisfy { !$0.again })
        let id = try #require(placed.first?.correlationId)
        // The first state may have been on its way before the command arrived: nothing yet.
        #expect(cloud.react(topic: Self.base + "/state", json: try Self.state([])).isEmpty)
        // The next one still does not list it: it was lost (an expired session), so it goes again.
        let again = cloud.react(topic: Self.base + "/state", json: try Self.state(["other"]))
        #expect(again == [DemoCloud.Command(command: "orderPlaced", slot: "water", body: placed[0].body, correlationId: id, again: true)])
        // Listed: nothing more to send, even before its reply.
        #expect(cloud.react(topic: Self.base + "/state", json: try Self.state([id])).isEmpty)
        #expect(cloud.react(topic: Self.base + "/state", json: try Self.state([id])).isEmpty)
        // Answered: forgotten, whatever a later state says.
        _ = cloud.react(topic: Self.base + "/replies", json: try Self.json(#"{"correlationId":"\#(id)","status":"ok"}"#))
        _ = cloud.react(topic: Self.base + "/state", json: try Self.state([]))
        #expect(cloud.react(topic: Self.base + "/state", json: try Self.state([])).isEmpty)
    }
}
