@testable import ReplenishCore
import Testing

@Suite("strict JSON for commands")
struct JSONValueTests {
    @Test("documents that parse", arguments: [
        (#"{"a":1,"b":[true,false,null],"c":"x\u00e9\n","d":-0.5e+2}"#,
         JSONValue.object(["a": .number(1), "b": .array([.bool(true), .bool(false), .null]), "c": .string("xé\n"),
                           "d": .number(-50)])),
        (" [ ] ", .array([])),
        (#""\ud83d\ude00""#, .string("😀")),
        ("1.7976931348623157e308", .number(1.7976931348623157e308)),
    ])
    func parses(text: String, value: JSONValue) throws {
        #expect(try JSONValue.parse(Array(text.utf8)) == value)
    }

    @Test("documents refused, and why", arguments: [
        (#"{"a":1,"a":2}"#, "duplicate key 'a' at byte 7"),
        (#"{"x":{"k":1,"k":1}}"#, "duplicate key 'k'"),
        ("1e400", "number 1e400 is out of range"),
        ("-1e309", "number -1e309 is out of range"),
        ("NaN", "unexpected character"),
        ("Infinity", "unexpected character"),
        ("+1", "unexpected character"),
        ("01", "unexpected data after the JSON value"),
        ("1.", "invalid number"),
        (#"{"a":1}x"#, "unexpected data after the JSON value"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"{a:1}"#, "expected a string key"),
        ("\"a\u{01}\"", "control character in string"),
        (#""\ud800""#, "unpaired surrogate"),
        (#""\x""#, "invalid escape"),
        ("[1,]", "unexpected character"),
        ("", "unexpected end of input"),
        (String(repeating: "[", count: 33) + String(repeating: "]", count: 33), "nested deeper than 32 levels"),
    ])
    func refuses(text: String, reason: String) {
        #expect { try JSONValue.parse(Array(text.utf8)) } throws: { ($0 as? CoreError)?.code == .invalidJSON }
        do {
            _ = try JSONValue.parse(Array(text.utf8))
        } catch {
            #expect(error.description.hasPrefix(reason), "\(error)")
        }
    }

    @Test("a command with a duplicated key is rejected, its correlationId echoed")
    func duplicateKeyCommand() {
        let result = CommandDecoder.decode(name: "inventoryAdjust",
                                           payload: Array(#"{"correlationId":"c","slot":"water","totalQuantityOnHand":1,"totalQuantityOnHand":1e300}"#.utf8))
        guard case .failure(let rejection) = result else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.reason.hasPrefix("invalid JSON: duplicate key 'totalQuantityOnHand'"))
    }
}
