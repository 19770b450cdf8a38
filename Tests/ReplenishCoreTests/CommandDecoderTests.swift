import Foundation
@testable import ReplenishCore
import Testing

@Suite("command decoding")
struct CommandDecoderTests {
    @Test("a well-formed reportNow decodes")
    func reportNow() throws {
        let request = try CommandDecoder.decode(name: "reportNow", payload: Array(#"{"correlationId":"abc-1"}"#.utf8)).get()
        #expect(request == CommandRequest(name: .reportNow, correlationId: "abc-1"))
    }

    @Test("what is refused, and why", arguments: [
        ("reportNow", "", nil, "invalid JSON"),
        ("reportNow", "null", nil, "expected a JSON object"),
        ("reportNow", #"{"correlationId":""}"#, nil, "correlationId must be 1 to 128 bytes of printable text"),
        ("reportNow", #"{"correlationId":"a\u0007b"}"#, nil, "correlationId must be 1 to 128 bytes of printable text"),
        ("reportNow", "{\"correlationId\":\"\(String(repeating: "x", count: 129))\"}", nil,
         "correlationId must be 1 to 128 bytes of printable text"),
        ("reportNow", #"{"correlationId":"c","slots":[]}"#, "c", "unknown field 'slots'"),
        ("report\u{1}Now", #"{"correlationId":"c"}"#, nil, "unknown command 'report?Now'"),
        ("inventoryAdjust", #"{"correlationId":"c"}"#, "c", "inventoryAdjust is not supported by this agent version"),
    ] as [(String, String, String?, String)])
    func refused(name: String, payload: String, correlationId: String?, reason: String) {
        guard case .failure(let rejection) = CommandDecoder.decode(name: name, payload: Array(payload.utf8)) else {
            Issue.record("accepted \(payload)")
            return
        }
        #expect(rejection.correlationId == correlationId)
        #expect(rejection.reason.hasPrefix(reason), "\(rejection.reason)")
    }

    @Test("invalid UTF-8 and oversized payloads are refused before parsing")
    func refusedEarly() {
        #expect(CommandDecoder.decode(name: "reportNow", payload: [0x7B, 0xFF, 0x7D]).rejection == "payload is not UTF-8")
        let big = [UInt8](repeating: 0x20, count: CommandDecoder.maxPayloadBytes + 1)
        #expect(CommandDecoder.decode(name: "reportNow", payload: big).rejection
            == "payload of 4097 bytes exceeds the limit of 4096")
    }

    @Test("100,000 random and mutated payloads never crash the decoder and each gets an answer")
    func randomPayloads() {
        var random = SplitMix64(seed: 0xC0FFEE)
        let seed = Array(#"{"correlationId":"c-1"}"#.utf8)
        var accepted = 0
        for _ in 0..<100_000 {
            var payload = seed
            for _ in 0..<(1 + random.next() % 6) {
                let at = Int(random.next() % UInt64(payload.count + 1))
                switch random.next() % 3 {
                case 0 where at < payload.count: payload[at] = UInt8(truncatingIfNeeded: random.next())
                case 1: payload.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                default: if at < payload.count { payload.remove(at: at) }
                }
            }
            if case .success = CommandDecoder.decode(name: "reportNow", payload: payload) { accepted += 1 }
        }
        #expect(accepted < 100_000)
    }
}

extension Result where Failure == CommandRejection {
    var rejection: String? {
        if case .failure(let r) = self { r.reason } else { nil }
    }
}
