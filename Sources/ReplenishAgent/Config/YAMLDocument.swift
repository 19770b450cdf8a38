import CYAML

/// Where a node starts in the file: 1-based line, and column in Unicode scalars (libyaml's count).
struct Mark: Hashable, Sendable, CustomStringConvertible {
    let line: Int
    let column: Int
    /// The position is in the cloud's desired document, not in the config file (`RemoteDocument`).
    let inDesired: Bool

    var description: String { "\(line):\(column)" }

    init(line: Int, column: Int, inDesired: Bool = false) {
        self.line = line
        self.column = column
        self.inDesired = inDesired
    }

    init(_ mark: yaml_mark_t) {
        self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}

/// One node of the config's YAML, as `YAMLDocument.compose` builds it. Aliases are resolved: an
/// alias is its anchor's node, marked where the alias stands. Nothing is resolved to a type here:
/// the reader decides what a plain scalar means (`ConfigReader.plainText`).
enum Node: Sendable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Sequence)

    struct Scalar: Sendable {
        enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }

        let string: String
        let style: Style
        /// An explicit tag (`!!str`, `!local`) as libyaml gives it; nil when there is none.
        let tag: String?
        let mark: Mark
    }

    struct Mapping: RandomAccessCollection, Sendable {
        let pairs: [(key: Node, value: Node)]
        /// Pair index → the key that pair repeats (the first with the same text).
        let repeats: [Int: Node]
        let mark: Mark

        var startIndex: Int { pairs.startIndex }
        var endIndex: Int { pairs.endIndex }
        subscript(index: Int) -> (key: Node, value: Node) { pairs[index] }

        /// The value of the first key with this text.
        subscript(key: String) -> Node? { pairs.first { $0.key.scalar?.string == key }?.value }

        /// The earlier key that the key at `index` repeats, or nil when it is the first with its text.
        func repeatedKey(at index: Int) -> Node? { repeats[index] }
    }

    struct Sequence: RandomAccessCollection, Sendable {
        let nodes: [Node]
        let mark: Mark

        var startIndex: Int { nodes.startIndex }
        var endIndex: Int { nodes.endIndex }
        subscript(index: Int) -> Node { nodes[index] }
    }

    var mark: Mark {
        switch self {
        case let .scalar(scalar): scalar.mark
        case let .mapping(mapping): mapping.mark
        case let .sequence(sequence): sequence.mark
        }
    }

    var scalar: Scalar? {
        guard case let .scalar(scalar) = self else { return nil }
        return scalar
    }

    /// The value of `key` when this is a mapping.
    subscript(key: String) -> Node? {
        guard case let .mapping(mapping) = self else { return nil }
        return mapping[key]
    }

    /// The same node marked at `mark` (an alias stands somewhere else than its anchor).
    func marked(at mark: Mark) -> Node {
        switch self {
        case let .scalar(s): .scalar(Scalar(string: s.string, style: s.style, tag: s.tag, mark: mark))
        case let .mapping(m): .mapping(Mapping(pairs: m.pairs, repeats: m.repeats, mark: mark))
        case let .sequence(s): .sequence(Sequence(nodes: s.nodes, mark: mark))
        }
    }
}

/// Why the text is not one YAML document, at the position libyaml (or the composer) names.
struct YAMLError: Error, Sendable {
    let mark: Mark
    /// The whole message: "invalid YAML: …".
    let message: String
}

/// Composes the single YAML document of a config from libyaml's parser events into `Node`s.
///
/// Anchors and aliases are resolved, with the document's size counted as if every alias were
/// copied out: past `maximumNodes` it is refused (a "billion laughs" document fails at once instead
/// of growing). Nesting deeper than `maximumDepth` is refused too. Repeated keys are recorded in
/// their mapping (`Node.Mapping.repeatedKey(at:)`), not refused, so the reader reports each one
/// where it stands beside every other mistake.
enum YAMLDocument {
    /// A config has a few hundred nodes.
    static let maximumNodes = 10_000
    /// A config nests six levels at most (slots[].source.filters[].calibrate[][]).
    static let maximumDepth = 64

    /// The root node, or nil when the text holds no document (only comments, or nothing).
    static func compose(_ text: String) throws(YAMLError) -> Node? {
        let bytes = Array(text.utf8)
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        defer {
            parser.deallocate()
            event.deallocate()
        }
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(mark: Mark(line: 1, column: 1), message: "invalid YAML: libyaml could not start")
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLError) -> Node? in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            var composer = Composer()
            while true {
                guard yaml_parser_parse(parser, event) == 1 else { throw parseError(parser.pointee, bytes: buffer) }
                defer { yaml_event_delete(event) }
                if try composer.add(event.pointee) { return composer.root }
            }
        }
    }

    /// libyaml's error in the words Yams used: the problem, then its context and where that began.
    private static func parseError(_ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        switch parser.error {
        case YAML_READER_ERROR:
            // An offset in bytes: the position is counted over the text before it.
            let before = bytes.prefix(min(Int(parser.problem_offset), bytes.count))
            let lineStart = (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
            let line = before.count(where: { $0 == UInt8(ascii: "\n") }) + 1
            let column = before[lineStart...].count(where: { $0 & 0xC0 != 0x80 }) + 1
            return YAMLError(mark: Mark(line: line, column: column), message: "invalid YAML: \(problem)")
        case YAML_MEMORY_ERROR:
            return YAMLError(mark: Mark(line: 1, column: 1), message: "invalid YAML: out of memory")
        default:
            let context = parser.context.map {
                " (\(String(cString: $0)) at line \(parser.context_mark.line + 1), column \(parser.context_mark.column + 1))"
            } ?? ""
            return YAMLError(mark: Mark(parser.problem_mark), message: "invalid YAML: \(problem)\(context)")
        }
    }

    /// The nodes still open, innermost last, and what is already known of the document.
    private struct Composer {
        private struct Open {
            let mark: Mark
            let anchor: String?
            let isMapping: Bool
            var nodes: [Node] = []
            var size = 1
            /// Mapping only: key text → index of its first pair; pair index → the key it repeats.
            var firstKeys: [String: Int] = [:]
            var repeats: [Int: Node] = [:]
        }

        private(set) var root: Node?
        private var open: [Open] = []
        private var anchors: [String: (node: Node, size: Int)] = [:]
        private var documents = 0
        private var size = 0

        /// Takes one event; true when the stream has ended.
        mutating func add(_ event: yaml_event_t) throws(YAMLError) -> Bool {
            let mark = Mark(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return true
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                guard documents == 1 else {
                    throw YAMLError(mark: mark, message: "invalid YAML: but found another document "
                                    + "(expected a single document in the stream at line 1, column 1)")
                }
            case YAML_SCALAR_EVENT:
                let data = event.data.scalar
                let scalar = Node.Scalar(string: Self.string(data.value, count: Int(data.length)) ?? "",
                                         style: Self.style(data.style), tag: Self.string(data.tag), mark: mark)
                try count(1, at: mark)
                close(.scalar(scalar), size: 1, anchor: Self.string(data.anchor))
            case YAML_ALIAS_EVENT:
                let name = Self.string(event.data.alias.anchor) ?? ""
                guard let anchored = anchors[name] else {
                    throw YAMLError(mark: mark, message: "invalid YAML: found undefined alias")
                }
                try count(anchored.size, at: mark)
                close(anchored.node.marked(at: mark), size: anchored.size, anchor: nil)
            case YAML_SEQUENCE_START_EVENT:
                try push(Open(mark: mark, anchor: Self.string(event.data.sequence_start.anchor), isMapping: false))
            case YAML_MAPPING_START_EVENT:
                try push(Open(mark: mark, anchor: Self.string(event.data.mapping_start.anchor), isMapping: true))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let done = open.popLast() else { break }
                let node: Node
                if done.isMapping {
                    let pairs = stride(from: 0, to: done.nodes.count - 1, by: 2).map {
                        (key: done.nodes[$0], value: done.nodes[$0 + 1])
                    }
                    node = .mapping(Node.Mapping(pairs: pairs, repeats: done.repeats, mark: done.mark))
                } else {
                    node = .sequence(Node.Sequence(nodes: done.nodes, mark: done.mark))
                }
                close(node, size: done.size, anchor: done.anchor)
            default:
                break
            }
            return false
        }

        private mutating func push(_ collection: Open) throws(YAMLError) {
            guard open.count < YAMLDocument.maximumDepth else {
                throw YAMLError(mark: collection.mark,
                                message: "invalid YAML: nested deeper than \(YAMLDocument.maximumDepth) levels")
            }
            try count(1, at: collection.mark)
            open.append(collection)
        }

        /// A finished node (already counted): registered under its anchor, added to the collection it is in.
        private mutating func close(_ node: Node, size nodeSize: Int, anchor: String?) {
            if let anchor { anchors[anchor] = (node, nodeSize) }
            guard var parent = open.popLast() else {
                root = node
                return
            }
            parent.size += nodeSize
            if parent.isMapping, parent.nodes.count.isMultiple(of: 2), case let .scalar(key) = node {
                let index = parent.nodes.count / 2
                if let first = parent.firstKeys[key.string] {
                    parent.repeats[index] = parent.nodes[2 * first]
                } else {
                    parent.firstKeys[key.string] = index
                }
            }
            parent.nodes.append(node)
            open.append(parent)
        }

        /// Counts `nodes` more, as if every alias were a copy of its anchor's node.
        private mutating func count(_ nodes: Int, at mark: Mark) throws(YAMLError) {
            size += nodes
            guard size <= YAMLDocument.maximumNodes else {
                throw YAMLError(mark: mark, message: "invalid YAML: the document expands to more than "
                                + "\(YAMLDocument.maximumNodes) nodes (aliases are counted as copies of their anchors)")
            }
        }

        private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, count: Int? = nil) -> String? {
            guard let pointer else { return nil }
            guard let count else { return String(cString: pointer) }
            return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
        }

        private static func style(_ style: yaml_scalar_style_t) -> Node.Scalar.Style {
            switch style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: .literal
            case YAML_FOLDED_SCALAR_STYLE: .folded
            default: .plain
            }
        }
    }
}
