import Testing
@testable import ReplenishAgent

/// The composer over libyaml: marks, styles, anchors and their limit, repeated keys, errors.
@Suite("YAML document")
struct YAMLDocumentTests {
    private func compose(_ text: String) throws -> Node {
        try #require(try YAMLDocument.compose(text))
    }

    private func error(_ text: String) -> YAMLError? {
        #expect(throws: YAMLError.self) { try YAMLDocument.compose(text) }
    }

    @Test("every node has its 1-based line and column; styles and tags are kept")
    func marksAndStyles() throws {
        let root = try compose("a: 1\nb:\n  - 'x'\n  - !!str y\n  - \"é\": [z]\n")
        guard case let .mapping(mapping) = root else { Issue.record("not a mapping"); return }
        #expect(root.mark == Mark(line: 1, column: 1))
        #expect(mapping.map(\.key.mark) == [Mark(line: 1, column: 1), Mark(line: 2, column: 1)])
        #expect(mapping["a"]?.plainText == "1")
        guard case let .sequence(items)? = mapping["b"] else { Issue.record("not a sequence"); return }
        #expect(items.map(\.mark) == [Mark(line: 3, column: 5), Mark(line: 4, column: 5), Mark(line: 5, column: 5)])
        #expect(items[0].scalar?.style == .singleQuoted)
        #expect(items[1].scalar?.tag == "tag:yaml.org,2002:str")
        #expect(items[1].plainText == nil)
        #expect(items[2]["é"]?.mark == Mark(line: 5, column: 10))
    }

    @Test("an alias is its anchor's node, marked where the alias stands")
    func aliases() throws {
        let root = try compose("a: &x {k: v}\nb: *x\n")
        #expect(root["b"]?["k"]?.scalar?.string == "v")
        #expect(root["b"]?.mark == Mark(line: 2, column: 4))
        #expect(error("a: *nothing\n")?.message == "invalid YAML: found undefined alias")
    }

    @Test("a billion laughs is refused at once, at the alias that passes the limit")
    func billionLaughs() throws {
        var text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let previous = "*\(Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(level - 1))))"
            let name = Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(level)))
            text += "\(name): &\(name) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        let clock = ContinuousClock()
        let start = clock.now
        let refused = error(text)
        #expect(clock.now - start < .seconds(1))
        #expect(refused?.message == "invalid YAML: the document expands to more than 10000 nodes "
                + "(aliases are counted as copies of their anchors)")
        #expect(refused?.mark.line == 4)
    }

    @Test("nesting deeper than the limit is refused")
    func depth() {
        let refused = error(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        #expect(refused?.message == "invalid YAML: nested deeper than 64 levels")
        #expect(refused?.mark == Mark(line: 1, column: 65))
    }

    @Test("repeated keys are kept and point at their first use")
    func repeatedKeys() throws {
        guard case let .mapping(mapping) = try compose("a: 1\nb: 2\n'a': 3\n") else { Issue.record("not a mapping"); return }
        #expect(mapping.count == 3)
        #expect(mapping.repeatedKey(at: 1) == nil)
        #expect(mapping.repeatedKey(at: 2)?.mark == Mark(line: 1, column: 1))
    }

    @Test("libyaml's errors, a second document and a control character are placed")
    func errors() throws {
        let second = error("a: 1\n---\nb: 2\n")
        #expect(second?.mark == Mark(line: 2, column: 1))
        #expect(second?.message == "invalid YAML: but found another document "
                + "(expected a single document in the stream at line 1, column 1)")
        let control = error("a: 1\nb: é\u{01}\n")
        #expect(control?.mark == Mark(line: 2, column: 5))
        #expect(control?.message == "invalid YAML: control characters are not allowed")
        #expect(error("a: [1, 2\n")?.message.hasPrefix("invalid YAML: did not find expected ',' or ']'") == true)
        #expect(try YAMLDocument.compose("# nothing\n") == nil)
    }

    @Test("an explicitly tagged value is not a plain one: only untagged plain scalars are numbers, bools or null")
    func taggedValues() {
        let text = "device:\n  id: !!str 123\n  has_rtc: !!bool true\n"
        let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(text, fileName: "cfg.yaml") }
        #expect(error?.diagnostics.map(\.description).contains(
            "cfg.yaml:3:12: device.has_rtc: expected true or false, got 'true' tagged !!bool") == true)
        #expect(error?.diagnostics.contains { $0.keyPath == "device.id" } == false)
    }

    @Test("a repeated key that is also unknown is reported once, as repeated")
    func repeatedUnknownKey() {
        let text = "device:\n  id: x\n  colour: red\n  colour: blue\n"
        let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(text, fileName: "cfg.yaml") }
        let descriptions = error?.diagnostics.map(\.description) ?? []
        #expect(descriptions.contains("cfg.yaml:4:3: device.colour: duplicate key 'colour' (first given at line 3)"))
        #expect(descriptions.filter { $0.contains("colour") }.count == 2)
    }
}
