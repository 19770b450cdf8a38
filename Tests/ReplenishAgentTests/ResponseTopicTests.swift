import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishTestSupport
import Testing

/// Issue 17 item 1: a command that names an MQTT 5 response topic is answered there, with its
/// correlation data; the reply's body keeps `correlationId`. A response topic the device may not
/// publish to is refused (logged) and the reply goes to `{base}/replies`. Sent by mosquitto_pub
/// and read by mosquitto_sub, MQTT 5 clients of their own (`%D` prints the correlation data).
@Suite("MQTT 5 response topic and correlation data on commands", .serialized)
struct ResponseTopicTests {
    @Test("a reply goes to the command's response topic with its correlation data; a reserved one falls back to replies")
    func responseTopic() async throws {
        let h = try await DeliveryTests.Harness(device: "respond-test")
        try await h.connected()
        let base = h.config.mqtt.baseTopic
        let answers = "cloud/answers/respond-test"
        // The cloud's requester: a persistent session subscribed to its answers topic before
        // anything is sent, read once both commands are answered.
        let cloud = ["-c", "-i", "cloud-requester", "-x", "300", "-t", answers]
        #expect(try PublishPropertiesTests.mosquittoSub(h.broker, cloud + ["-E"]).isEmpty)

        try Self.publish(h.broker, base + "/commands/reportNow", #"{"correlationId":"asked-1"}"#,
                         responseTopic: answers, correlationData: "req-0001")
        try Self.publish(h.broker, base + "/commands/reportNow", #"{"correlationId":"asked-2"}"#,
                         responseTopic: "$aws/things/x/answers", correlationData: "req-0002")
        try await h.subscriber.waitFor("the second reply on the replies topic") { messages in
            messages.contains { $0.topic == base + "/replies" && $0.json.contains(#""asked-2""#) }
        }

        let lines = try PublishPropertiesTests.mosquittoSub(h.broker, cloud + ["-C", "1", "-W", "10", "-F", "%t|%D|%p"])
            .split(separator: "\n").map(String.init)
        try await h.stop()
        let first = try #require(lines.first, "nothing on \(answers)").split(separator: "|", maxSplits: 2).map(String.init)
        #expect(first.count == 3)
        #expect(first[0] == answers)
        #expect(first[1] == "req-0001")
        #expect(first[2].contains(#""correlationId":"asked-1""#) && first[2].contains(#""status":"ok""#), "\(first[2])")
        // Not on the replies topic as well, and the refused one only there.
        let replies = h.subscriber.messages.filter { $0.topic == base + "/replies" }
        #expect(!replies.contains { $0.json.contains(#""asked-1""#) })
        #expect(replies.filter { $0.json.contains(#""asked-2""#) }.count == 1)
    }

    static func publish(_ broker: TestBroker, _ topic: String, _ payload: String,
                        responseTopic: String, correlationData: String) throws {
        let result = try ChildProcess.run("/usr/bin/mosquitto_pub", [
            "-V", "5", "-h", broker.host, "-p", "\(broker.port)", "-q", "1", "-t", topic, "-m", payload,
            "-D", "publish", "response-topic", responseTopic, "-D", "publish", "correlation-data", correlationData,
        ])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("response topics the device may not publish to", arguments: [
        ("", "expected a topic"), ("$SYS/answers", "'$'"), ("cloud/+/answers", "'+'"), ("cloud/#", "'#'"),
        ("cloud/\u{202E}answers", "control or format characters"),
    ])
    func refused(_ topic: String, _ reason: String) {
        let problem = TopicRules.responseTopicProblem(topic, limits: MQTTSettings.Broker.generic.limits)
        #expect(problem?.contains(reason) == true, "\(problem ?? "accepted")")
    }

    @Test("AWS IoT Core's topic limits apply to response topics under aws-iot")
    func awsLimits() {
        let aws = MQTTSettings.Broker.awsIoT.limits
        #expect(TopicRules.responseTopicProblem("a/b/c/d/e/f/g/h", limits: aws) == nil)
        #expect(TopicRules.responseTopicProblem("a/b/c/d/e/f/g/h/i", limits: aws)?.contains("at most 7 slashes") == true)
        #expect(TopicRules.responseTopicProblem(String(repeating: "t", count: 257), limits: aws)?.contains("256 bytes") == true)
        #expect(TopicRules.responseTopicProblem("a/b/c/d/e/f/g/h/i", limits: MQTTSettings.Broker.generic.limits) == nil)
    }
}
