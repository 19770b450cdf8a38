import FoundationEssentials

/// A desired document from `{base}/config/desired` (or the overlay that keeps the last one
/// applied): YAML or JSON in the file's schema, only the keys it overrides, and `version`.
/// Its nodes are marked `inDesired`, so every diagnostic about them names a position in it.
struct RemoteDocument: Sendable {
    /// The cloud's version: a whole number above the one in force.
    let version: Int
    /// Where `version` stands in the document.
    let versionMark: Mark
    /// The overrides (a mapping), `version` left out.
    let root: Node
    /// The document as received: what the overlay keeps and what the config hash covers.
    let text: String

    /// Why a document is refused: every problem found, and its version when it could be read.
    struct Rejection: Error, Sendable {
        var version: Int?
        var problems: [ConfigDiagnostic]
    }

    /// Largest desired document: a few overrides, far below the config file's own limit.
    static let limit = 64 << 10

    /// Parses `bytes` and checks each key against the remote-settable list (`RemoteSettableKeys`)
    /// and for secrets. What the keys' values must be is checked later, on the merged config.
    static func parse(_ bytes: [UInt8], name: String = "config/desired") -> Result<RemoteDocument, Rejection> {
        func refused(_ message: String, at mark: Mark = Mark(line: 1, column: 1), _ keyPath: String = "") -> Result<RemoteDocument, Rejection> {
            .failure(Rejection(problems: [ConfigDiagnostic(file: name, line: mark.line, column: mark.column, keyPath: keyPath, message: message)]))
        }
        guard bytes.count <= limit else { return refused("the document is \(bytes.count) bytes; a desired document may be at most 64 KiB") }
        guard let text = String(validating: bytes, as: UTF8.self) else { return refused("the document is not valid UTF-8") }
        let composed: Node?
        do { composed = try YAMLDocument.compose(text) } catch { return refused(error.message, at: error.mark) }
        guard let root = composed?.markedInDesired(), case let .mapping(mapping) = root else {
            return refused("expected a mapping with 'version' and the keys to override, got \(composed?.summary ?? "nothing")")
        }
        var walk = KeyWalk(name: name)
        var version: Int?
        var versionMark = root.mark
        var overrides: [(key: Node, value: Node)] = []
        for (index, (key, value)) in mapping.enumerated() {
            guard key.scalar?.string == "version" else { overrides.append((key, value)); continue }
            if mapping.repeatedKey(at: index) != nil { continue }  // reported by the walk
            if let text = value.plainText, let number = Int(text), number >= 1 {
                version = number
                versionMark = value.mark
            } else {
                walk.report("expected a whole number of at least 1, got \(value.summary)", at: value.mark, "version")
            }
        }
        walk.check(root, at: .root)
        if version == nil, root["version"] == nil {
            walk.report("missing required key 'version' (a whole number above the version in force)", at: root.mark, "")
        }
        guard walk.problems.isEmpty, let version else { return .failure(Rejection(version: version, problems: walk.problems)) }
        // No repeated keys: the walk refused them.
        return .success(RemoteDocument(version: version, versionMark: versionMark,
                                       root: .mapping(Node.Mapping(pairs: overrides, repeats: [:], mark: mapping.mark)),
                                       text: text))
    }

    /// Walks the document's keys: each must be one the list lets the cloud set, none may carry a secret.
    private struct KeyWalk {
        let name: String
        var problems: [ConfigDiagnostic] = []

        mutating func report(_ message: String, at mark: Mark, _ keyPath: String) {
            problems.append(ConfigDiagnostic(file: name, line: mark.line, column: mark.column, keyPath: keyPath, message: message))
        }

        mutating func check(_ node: Node, at path: ConfigKeyPath) {
            switch node {
            case let .scalar(scalar):
                if RemoteSettableKeys.looksSecret(scalar.string) {
                    report("secrets never travel in a desired document (this value is a private key)", at: scalar.mark, path.description)
                }
            case let .sequence(sequence):
                for (index, element) in sequence.enumerated() { check(element, at: path.appending(index: index)) }
            case let .mapping(mapping):
                for (index, (key, value)) in mapping.enumerated() {
                    let name = key.scalar?.string ?? ""
                    let keyPath = path.appending(name)
                    if let first = mapping.repeatedKey(at: index) {
                        report("duplicate key '\(name)' (first given at line \(first.mark.line))", at: key.mark, keyPath.description)
                        continue
                    }
                    // A mapping is decided key by key: `mqtt.key_file` is local where `mqtt.*` is not.
                    if case .mapping = value, !RemoteSettableKeys.namesSecret(name) {
                        check(value, at: keyPath)
                        continue
                    }
                    switch RemoteSettableKeys.rule(for: keyPath.description)?.setting {
                    case let .localOnly(reason)?:
                        report("not remote-settable: \(reason); only the local file sets it", at: key.mark, keyPath.description)
                        continue
                    case .settable?, .connection?, nil:
                        break
                    }
                    if RemoteSettableKeys.namesSecret(name) {
                        report("secrets never travel in a desired document", at: key.mark, keyPath.description)
                        continue
                    }
                    // A key the list does not name is left to the config reader when it is unknown
                    // there too (its message suggests the right key); `unlisted` catches the rest.
                    check(value, at: keyPath)
                }
            }
        }
    }

    /// Keys of this document that the reader knows but the list does not name (a key added to the
    /// file format and never declared remote-settable), as the diagnostics refusing them. `reported`
    /// holds the positions the reader already has a problem at: an unknown key is its to explain.
    func unlisted(besides reported: [ConfigDiagnostic], name: String) -> [ConfigDiagnostic] {
        var found: [ConfigDiagnostic] = []
        func visit(_ node: Node, _ path: ConfigKeyPath) {
            if case let .sequence(sequence) = node {
                for (index, element) in sequence.enumerated() { visit(element, path.appending(index: index)) }
            }
            guard case let .mapping(mapping) = node else { return }
            for (key, value) in mapping {
                let keyPath = path.appending(key.scalar?.string ?? "")
                if RemoteSettableKeys.rule(for: keyPath.description) != nil { continue }
                switch value {
                case .mapping, .sequence: visit(value, keyPath)
                case .scalar:
                    let mark = key.mark
                    if reported.contains(where: { $0.file == name && $0.line == mark.line && $0.column == mark.column }) { continue }
                    found.append(ConfigDiagnostic(file: name, line: mark.line, column: mark.column, keyPath: keyPath.description,
                                                  message: "not remote-settable: the remote-settable list does not name it"))
                }
            }
        }
        visit(root, .root)
        return found
    }
}

extension Node {
    /// The same tree with every mark placed in the desired document.
    func markedInDesired() -> Node {
        func moved(_ mark: Mark) -> Mark { Mark(line: mark.line, column: mark.column, inDesired: true) }
        switch self {
        case let .scalar(s):
            return .scalar(Scalar(string: s.string, style: s.style, tag: s.tag, mark: moved(s.mark)))
        case let .sequence(s):
            return .sequence(Sequence(nodes: s.nodes.map { $0.markedInDesired() }, mark: moved(s.mark)))
        case let .mapping(m):
            return .mapping(Mapping(pairs: m.pairs.map { ($0.key.markedInDesired(), $0.value.markedInDesired()) },
                                    repeats: m.repeats.mapValues { $0.markedInDesired() }, mark: moved(m.mark)))
        }
    }
}
