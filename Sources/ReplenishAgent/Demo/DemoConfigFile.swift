import FoundationEssentials

/// The demo's configuration file: the profile with the demo's own settings (its state database,
/// its broker, the slot that reorders itself) merged over it, written to the demo's directory.
/// The daemon runs on this file as on a device, so a desired document from the demo's cloud is
/// merged over a file, checked and kept by the same code as in the field.
enum DemoConfigFile {
    /// Writes `profile` (the text of the file at `profilePath`) with `overrides` (YAML in the
    /// file's layout, slots named by id) merged over it to `path`.
    static func write(profile: String, profilePath: String, overrides: String, to path: String) throws {
        let merged: Node
        do {
            guard let base = try YAMLDocument.compose(profile), let over = try YAMLDocument.compose(overrides) else {
                throw AgentError(.configRejected, "\(profilePath): the profile is empty")
            }
            // The merge a desired document takes: mappings key by key, slots by their id.
            var reader = ConfigReader(fileName: profilePath)
            merged = reader.merge(base, over, at: .root)
            if !reader.diagnostics.isEmpty { throw AgentError.configRejected(reader.diagnostics) }
        } catch let error as YAMLError {
            throw AgentError.configRejected([ConfigDiagnostic(file: profilePath, line: error.mark.line, column: error.mark.column,
                                                              keyPath: "", message: error.message)])
        }
        let text = "# replenishd demo: \(profilePath) with the demo's settings merged over it\n"
            + lines(merged).joined(separator: "\n") + "\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw AgentError(.unreadable, "cannot write the demo's configuration to \(path)")
        }
    }

    /// `node` as block-style YAML lines, each scalar as the profile wrote it where that reads back
    /// the same (plain), else double-quoted: the reader tells plain scalars (numbers) from quoted ones.
    static func lines(_ node: Node) -> [String] {
        switch node {
        case let .scalar(scalar):
            return [text(scalar)]
        case let .mapping(mapping):
            guard !mapping.isEmpty else { return ["{}"] }
            return mapping.pairs.flatMap { key, value -> [String] in
                let name = key.scalar.map(text) ?? "?"
                let inner = lines(value)
                // A scalar or an empty collection stays on the key's line.
                guard value.scalar == nil, inner != ["{}"], inner != ["[]"] else {
                    return ["\(name): " + inner[0]]
                }
                return ["\(name):"] + inner.map { "  " + $0 }
            }
        case let .sequence(sequence):
            guard !sequence.isEmpty else { return ["[]"] }
            return sequence.nodes.flatMap { item -> [String] in
                let inner = lines(item)
                return ["- " + inner[0]] + inner.dropFirst().map { "  " + $0 }
            }
        }
    }

    private static func text(_ scalar: Node.Scalar) -> String {
        let tag = scalar.tag.map { "!<\($0)> " } ?? ""
        if scalar.style == .plain, !scalar.string.contains("\n") {
            return tag + (scalar.string.isEmpty ? "~" : scalar.string)
        }
        return tag + quoted(scalar.string)
    }

    /// `text` as a YAML double-quoted scalar (JSON's string escapes are a subset of YAML's).
    static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}
