import Foundation
import ReplenishCore
import Testing

/// packaging/aws-iot/policy.json, the least-privilege AWS IoT policy the provisioning steps attach
/// to each device's certificate: valid JSON in IAM's policy grammar, and, evaluated as AWS IoT
/// Core does (Allow statements, the thing-name policy variable, `*` and `?` in resources, MQTT
/// wildcards literal in topic filters), it grants every action the daemon needs on its own topics
/// and nothing on another device's.
@Suite("the AWS IoT policy")
struct AWSIoTPolicyTests {
    static let thing = "cm-000123"
    static let base = "replenish/v1/\(thing)"
    static let arn = "arn:aws:iot:eu-west-1:123456789012"

    struct Statement {
        var effect: String
        var actions: [String]
        var resources: [String]
        var condition: [String: Any]?
    }

    static func policy() throws -> [Statement] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("packaging/aws-iot/policy.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(document["Version"] as? String == "2012-10-17")
        let statements = try #require(document["Statement"] as? [[String: Any]])
        func list(_ value: Any?) -> [String] { (value as? [String]) ?? (value as? String).map { [$0] } ?? [] }
        return try statements.map { s in
            #expect(Set(s.keys).isSubset(of: ["Sid", "Effect", "Action", "Resource", "Condition"]))
            let effect = try #require(s["Effect"] as? String)
            #expect(effect == "Allow" || effect == "Deny")
            return Statement(effect: effect, actions: list(s["Action"]), resources: list(s["Resource"]),
                             condition: s["Condition"] as? [String: Any])
        }
    }

    /// IAM's resource matching: `*` any run of characters, `?` one; the account and region placeholders
    /// as provisioning replaces them.
    static func matches(_ pattern: String, _ resource: String) -> Bool {
        let p = Array(pattern.replacingOccurrences(of: "${iot:Connection.Thing.ThingName}", with: thing)
            .replacingOccurrences(of: "arn:aws:iot:REGION:ACCOUNT", with: arn))
        let r = Array(resource)
        var memo: [Int: Bool] = [:]
        func match(_ i: Int, _ j: Int) -> Bool {
            let key = i * (r.count + 1) + j
            if let known = memo[key] { return known }
            let result: Bool
            if i == p.count { result = j == r.count }
            else if p[i] == "*" { result = match(i + 1, j) || (j < r.count && match(i, j + 1)) }
            else { result = j < r.count && (p[i] == "?" || p[i] == r[j]) && match(i + 1, j + 1) }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }

    static func allowed(_ action: String, _ resource: String, in policy: [Statement]) -> Bool {
        let applies = { (s: Statement) in s.actions.contains(action) && s.resources.contains { matches($0, resource) } }
        return policy.contains { $0.effect == "Allow" && applies($0) } && !policy.contains { $0.effect == "Deny" && applies($0) }
    }

    @Test("the device may do what it does on its own topics")
    func grants() throws {
        let policy = try Self.policy()
        #expect(Self.allowed("iot:Connect", "\(Self.arn):client/\(Self.thing)", in: policy))
        for leaf in ["status", "events", "replies", "availability", "state"] {
            #expect(Self.allowed("iot:Publish", "\(Self.arn):topic/\(Self.base)/\(leaf)", in: policy), "publish \(leaf)")
        }
        // The birth and the will are retained; AWS also wants LastWill allowed at connect.
        #expect(Self.allowed("iot:RetainPublish", "\(Self.arn):topic/\(Self.base)/availability", in: policy))
        #expect(Self.allowed("iot:RetainPublish", "\(Self.arn):topic/\(Self.base)/state", in: policy))
        let connect = try #require(policy.first { $0.actions.contains("iot:Connect") })
        let attributes = (connect.condition?["ForAllValues:StringEquals"] as? [String: Any])?["iot:ConnectAttributes"] as? [String]
        #expect(Set(attributes ?? []) == ["PersistentConnect", "LastWill"])
        #expect(Self.allowed("iot:Subscribe", "\(Self.arn):topicfilter/\(Self.base)/commands/+", in: policy))
        for name in CommandName.allCases {
            #expect(Self.allowed("iot:Receive", "\(Self.arn):topic/\(Self.base)/commands/\(name.rawValue)", in: policy))
        }
    }

    @Test("and nothing more: no other device's topics, no retained reports, no wildcard subscriptions")
    func refuses() throws {
        let policy = try Self.policy()
        let other = "replenish/v1/cm-000124"
        #expect(!Self.allowed("iot:Connect", "\(Self.arn):client/cm-000124", in: policy))
        #expect(!Self.allowed("iot:Publish", "\(Self.arn):topic/\(other)/status", in: policy))
        #expect(!Self.allowed("iot:Publish", "\(Self.arn):topic/\(Self.base)/commands/orderShipped", in: policy))
        #expect(!Self.allowed("iot:RetainPublish", "\(Self.arn):topic/\(Self.base)/status", in: policy))
        #expect(!Self.allowed("iot:Subscribe", "\(Self.arn):topicfilter/replenish/v1/#", in: policy))
        #expect(!Self.allowed("iot:Subscribe", "\(Self.arn):topicfilter/\(other)/commands/+", in: policy))
        #expect(!Self.allowed("iot:Receive", "\(Self.arn):topic/\(other)/commands/orderShipped", in: policy))
        #expect(!Self.allowed("iot:Publish", "\(Self.arn):topic/$aws/things/\(Self.thing)/shadow/update", in: policy))
        // A thing name that merely starts like ours gets nothing either.
        #expect(!Self.allowed("iot:Publish", "\(Self.arn):topic/\(Self.base)x/status", in: policy))
    }
}
