import ReplenishCore

/// Where a value sits in the file: `slots[1].source.driver`.
struct ConfigKeyPath: CustomStringConvertible {
    static let root = ConfigKeyPath(description: "")

    let description: String

    func appending(_ key: String) -> ConfigKeyPath {
        ConfigKeyPath(description: description.isEmpty ? key : "\(description).\(key)")
    }

    func appending(index: Int) -> ConfigKeyPath {
        ConfigKeyPath(description: "\(description)[\(index)]")
    }
}

/// The keys of one YAML mapping, checked against the keys a section allows.
struct ConfigFields {
    struct Entry {
        let key: Node
        let value: Node
    }

    let path: ConfigKeyPath
    let node: Node
    fileprivate let entries: [String: Entry]

    /// The entry for `key`, also when its value is null.
    func entry(_ key: String) -> Entry? { entries[key] }

    /// The value for `key`; nil when absent or null (an optional key left empty means "not set").
    func optional(_ key: String) -> Node? {
        guard let value = entries[key]?.value, !value.isNull else { return nil }
        return value
    }
}

/// Walks the node tree that `YAMLDocument.compose` builds and collects every problem instead of
/// stopping at the first. Each reader returns nil after reporting why, so callers just skip what failed.
struct ConfigReader {
    let fileName: String
    /// How diagnostics name the desired document when a node comes from it (`Mark.inDesired`).
    var desiredName = "config/desired"
    /// File slot index → its index in the desired document, for the slots a desired document changes.
    var desiredSlotIndex: [Int: Int] = [:]
    /// Once merged, paths reported at a desired node count slots as the desired document does.
    var translatesSlotPaths = false
    private(set) var diagnostics: [ConfigDiagnostic] = []
    /// Where each key's value sits, by key path: checks made after decoding (files, directories) point there.
    private(set) var marks: [String: Mark] = [:]

    init(fileName: String) {
        self.fileName = fileName
    }

    mutating func report(_ message: String, at node: Node, _ path: ConfigKeyPath) {
        report(message, at: node.mark, path)
    }

    mutating func report(_ message: String, at mark: Mark?, _ path: ConfigKeyPath) {
        let inDesired = mark?.inDesired == true
        diagnostics.append(ConfigDiagnostic(
            file: inDesired ? desiredName : fileName, line: mark?.line ?? 1, column: mark?.column ?? 1,
            keyPath: inDesired && translatesSlotPaths ? desiredKeyPath(path.description) : path.description, message: message))
    }

    // MARK: Structure

    /// The mapping at `node`, with unknown and repeated keys reported.
    mutating func fields(of node: Node, at path: ConfigKeyPath, allowed: [String]) -> ConfigFields? {
        guard case let .mapping(mapping) = node else {
            report("expected a mapping, got \(node.summary)", at: node, path)
            return nil
        }
        var entries: [String: ConfigFields.Entry] = [:]
        for (index, (key, value)) in mapping.enumerated() {
            guard case let .scalar(scalar) = key else {
                report("expected a key name, got \(key.summary)", at: key, path)
                continue
            }
            let name = scalar.string
            let keyPath = path.appending(name)
            if let first = mapping.repeatedKey(at: index) {
                report("duplicate key '\(name)' (first given at line \(first.mark.line))", at: key, keyPath)
            } else if !allowed.contains(name) {
                report(Self.unknownKeyMessage(name, allowed: allowed), at: key, keyPath)
            } else {
                entries[name] = .init(key: key, value: value)
                marks[keyPath.description] = value.mark
            }
        }
        return ConfigFields(path: path, node: node, entries: entries)
    }

    /// The value for a key that must be there; a missing key is reported at the mapping.
    mutating func required(_ key: String, in fields: ConfigFields) -> Node? {
        guard let entry = fields.entry(key) else {
            report("missing required key '\(key)'", at: fields.node, fields.path)
            return nil
        }
        return entry.value
    }

    /// Decodes `key` with `read` into `target` when it is given and not null, so that what is not given
    /// keeps the settings type's default: one line per key. False (and `failed` set) when the value was
    /// reported.
    @discardableResult
    mutating func decode<T>(_ key: String, in fields: ConfigFields, into target: inout T, failed: inout Bool,
                            _ read: (inout ConfigReader, Node, ConfigKeyPath) -> T?) -> Bool {
        guard let node = fields.optional(key) else { return true }
        return assign(node, key, in: fields, into: &target, failed: &failed, read)
    }

    /// `decode` for an optional setting: a value given sets it.
    @discardableResult
    mutating func decode<T>(_ key: String, in fields: ConfigFields, into target: inout T?, failed: inout Bool,
                            _ read: (inout ConfigReader, Node, ConfigKeyPath) -> T?) -> Bool {
        decode(key, in: fields, into: &target, failed: &failed) { reader, node, path in read(&reader, node, path).map(Optional.some) }
    }

    /// `decode` for a key that must be given: its absence is reported (see `required`).
    mutating func decodeRequired<T>(_ key: String, in fields: ConfigFields, into target: inout T, failed: inout Bool,
                                    _ read: (inout ConfigReader, Node, ConfigKeyPath) -> T?) {
        guard let node = required(key, in: fields) else {
            failed = true
            return
        }
        assign(node, key, in: fields, into: &target, failed: &failed, read)
    }

    /// `node`, the value of `key`, read into `target`; false (and `failed` set) when it was reported.
    @discardableResult
    private mutating func assign<T>(_ node: Node, _ key: String, in fields: ConfigFields, into target: inout T,
                                    failed: inout Bool, _ read: (inout ConfigReader, Node, ConfigKeyPath) -> T?) -> Bool {
        guard let decoded = read(&self, node, fields.path.appending(key)) else {
            failed = true
            return false
        }
        target = decoded
        return true
    }

    /// The elements of a sequence.
    mutating func sequence(_ node: Node, at path: ConfigKeyPath) -> [Node]? {
        guard case let .sequence(sequence) = node else {
            report("expected a sequence, got \(node.summary)", at: node, path)
            return nil
        }
        return Array(sequence)
    }

    static func unknownKeyMessage(_ key: String, allowed: [String]) -> String {
        var message = "unknown key '\(key)' (expected one of: \(allowed.joined(separator: ", ")))"
        let closest = allowed.map { (key: $0, distance: editDistance(key, $0)) }.min { $0.distance < $1.distance }
        if let closest, closest.distance <= max(1, min(3, key.count / 3)) {
            message += "; did you mean '\(closest.key)'?"
        }
        return message
    }

    // MARK: Scalars

    /// Any scalar as its text (`123` is the string "123"); null, mappings and sequences are not strings.
    mutating func string(_ node: Node, at path: ConfigKeyPath) -> String? {
        guard case let .scalar(scalar) = node, !node.isNull else {
            report("expected a string, got \(node.summary)", at: node, path)
            return nil
        }
        return scalar.string
    }

    /// `node`'s string when `problem` (the key's own rule) finds nothing wrong with it; otherwise
    /// the problem is reported at the node, and nil.
    mutating func string(_ node: Node, at path: ConfigKeyPath, checkedBy problem: (String) -> String?) -> String? {
        guard let text = string(node, at: path) else { return nil }
        if let problem = problem(text) {
            report(problem, at: node, path)
            return nil
        }
        return text
    }

    /// Only `true` or `false`: YAML 1.1's `yes`/`on` are too easy to write by mistake, and a quoted
    /// "true" is a string.
    mutating func bool(_ node: Node, at path: ConfigKeyPath) -> Bool? {
        if let text = node.plainText {
            switch text {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        report("expected true or false, got \(node.summary)", at: node, path)
        return nil
    }

    /// A plain YAML number, signed so that range checks can say what was wrong with `-3`.
    mutating func number(_ node: Node, at path: ConfigKeyPath) -> Double? {
        guard let text = node.plainText, let value = DecimalParser.signedValue(text) else {
            report("expected a number, got \(node.summary)", at: node, path)
            return nil
        }
        return value
    }

    /// A plain YAML integer within `range`.
    mutating func integer(_ node: Node, at path: ConfigKeyPath, in range: ClosedRange<Int>) -> Int? {
        guard let text = node.plainText, let value = Int(text) else {
            report("expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(node.summary)", at: node, path)
            return nil
        }
        guard range.contains(value) else {
            report("expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(text)", at: node, path)
            return nil
        }
        return value
    }

    /// A plain YAML integer, its range left to the settings type that takes it.
    mutating func integer(_ node: Node, at path: ConfigKeyPath) -> Int? {
        guard let text = node.plainText, let value = Int(text) else {
            report("expected a whole number, got \(node.summary)", at: node, path)
            return nil
        }
        return value
    }

    /// One of a fixed set of names, such as a sensor kind or a measurement unit. `described` names
    /// the set in the diagnostic; `note` may add a word on a refused name.
    mutating func choice<T: RawRepresentable>(_ node: Node, at path: ConfigKeyPath, of cases: [T],
                                              described: String? = nil,
                                              note: (String) -> String? = { _ in nil }) -> T?
    where T.RawValue == String {
        let names = cases.map(\.rawValue).joined(separator: ", ")
        guard case let .scalar(scalar) = node, !node.isNull,
              let value = cases.first(where: { $0.rawValue == scalar.string })
        else {
            var message = "expected one of: \(names)"
            if let described { message += " (\(described))" }
            message += ", got \(node.summary)"
            if case let .scalar(scalar) = node, !node.isNull, let note = note(scalar.string) { message += "; \(note)" }
            report(message, at: node, path)
            return nil
        }
        return value
    }

    /// A duration such as `90s` or `1h30m` within `range` (from `ConfigRanges`).
    mutating func duration(_ node: Node, at path: ConfigKeyPath, in range: DurationRange) -> Double? {
        guard case let .scalar(scalar) = node, !node.isNull, let seconds = DurationParser.seconds(scalar.string) else {
            report("expected a duration such as '90s', '5m' or '1h30m', got \(node.summary)", at: node, path)
            return nil
        }
        guard range.contains(seconds) else {
            report("expected a duration \(Self.describe(range)), got '\(scalar.string)'", at: node, path)
            return nil
        }
        return seconds
    }

    /// A duration such as `90s` or `1h30m`, its range left to the settings type that takes it.
    mutating func duration(_ node: Node, at path: ConfigKeyPath) -> Double? {
        duration(node, at: path, in: DurationRange(minimum: 0, maximum: .infinity))
    }

    static func describe(_ range: DurationRange) -> String {
        let lower = range.exclusiveMinimum ? "longer than \(seconds(range.minimum))" : "at least \(seconds(range.minimum))"
        return "\(lower) and at most \(seconds(range.maximum))"
    }

    /// A size such as `4MiB` within `range` (from `ConfigRanges`).
    mutating func size(_ node: Node, at path: ConfigKeyPath, in range: SizeRange) -> Int? {
        guard case let .scalar(scalar) = node, !node.isNull, let bytes = SizeParser.bytes(scalar.string) else {
            report("expected a size such as '512KiB', '4MiB' or '1MB', got \(node.summary)", at: node, path)
            return nil
        }
        guard (range.minimum...range.maximum).contains(bytes) else {
            report("expected a size of at least \(Self.bytes(range.minimum)) and at most \(Self.bytes(range.maximum)), "
                   + "got '\(scalar.string)'", at: node, path)
            return nil
        }
        return bytes
    }

    // MARK: Formatting

    /// `1800.0` as "1800", `0.5` as "0.5".
    static func number(_ value: Double) -> String { QuantityBounds.shown(value) }

    /// `0.5` as "500ms", `90` as "90s", `86400` as "1d" (whole days only: "65535s" stays as it is).
    static func seconds(_ value: Double) -> String {
        if value >= 86_400, value.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(number(value / 86_400))d" }
        if value >= 3_600, value.truncatingRemainder(dividingBy: 3_600) == 0 { return "\(number(value / 3_600))h" }
        return value < 1 && value > 0 ? "\(number(value * 1000))ms" : "\(number(value))s"
    }

    static func bytes(_ value: Int) -> String {
        if value > 0, value % (1 << 30) == 0 { return "\(value >> 30)GiB" }
        return value % 1024 == 0 ? (value % (1 << 20) == 0 ? "\(value >> 20)MiB" : "\(value >> 10)KiB") : "\(value) bytes"
    }
}

extension Node {
    /// True for `~`, `null` and an empty value.
    var isNull: Bool {
        guard let text = plainText else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// The text of a plain (unquoted, untagged) scalar: the only kind that may be a number, bool or null.
    var plainText: String? {
        guard case let .scalar(scalar) = self, scalar.style == .plain, scalar.tag == nil else { return nil }
        return scalar.string
    }

    /// How diagnostics name a value that was not what was expected.
    var summary: String {
        switch self {
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case let .scalar(scalar):
            if isNull { return "nothing" }
            if plainText != nil { return "'\(scalar.string)'" }
            if let tag = scalar.tag, scalar.style == .plain {
                let shown = tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst(18) : tag
                return "'\(scalar.string)' tagged \(shown)"
            }
            return "the quoted string '\(scalar.string)'"
        }
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}
