import FoundationEssentials

/// `replenishd config --show`: the configuration in force, one key per line with where its value
/// comes from, the file's line or the cloud's version, so a technician can tell a factory default
/// from a value the cloud set. Keys left to their defaults are not listed (the file does not name them).
public enum ConfigShow {
    public static func render(configPath: String) throws(AgentError) -> String {
        let (config, overlayProblems) = try RemoteOverlay.loadInForce(configPath: configPath, forRun: false)
        let fileRoot = try compose(configPath)
        var reader = ConfigReader(fileName: configPath)
        var root = fileRoot
        var lines: [String] = []
        let overlay = RemoteOverlay.path(for: config)
        if let version = config.remoteVersion, let text = config.remoteText,
           case let .success(document) = RemoteDocument.parse(Array(text.utf8), name: overlay) {
            root = reader.merge(fileRoot, document.root, at: .root)
            lines.append("# \(configPath) + remote version \(version) (\(overlay)) · config \(config.configHash)")
        } else {
            lines.append("# \(configPath) · config \(config.configHash)")
        }
        if let overlayProblems {
            lines.append("# the remote overlay \(overlay) is not applied:")
            lines += overlayProblems.diagnostics.map { "#   \($0)" }
        }
        var entries: [(key: String, value: String, origin: String)] = []
        func visit(_ node: Node, _ path: String) {
            switch node {
            case let .scalar(scalar):
                let value = scalar.style == .plain ? scalar.string : quoted(scalar.string)
                let origin = scalar.mark.inDesired
                    ? "remote version \(config.remoteVersion ?? 0), line \(scalar.mark.line) column \(scalar.mark.column)"
                    : "\(configPath):\(scalar.mark.line)"
                entries.append((path, value, origin))
            case let .sequence(sequence):
                for (index, element) in sequence.enumerated() { visit(element, "\(path)[\(index)]") }
            case let .mapping(mapping):
                for (key, value) in mapping {
                    let name = key.scalar?.string ?? ""
                    visit(value, path.isEmpty ? name : "\(path).\(name)")
                }
            }
        }
        visit(root, "")
        let width = min(60, entries.map { $0.key.count + $0.value.count + 2 }.max() ?? 0)
        for entry in entries {
            let text = "\(entry.key): \(entry.value)"
            lines.append(text + String(repeating: " ", count: max(0, width - text.count)) + "  # " + entry.origin)
        }
        return lines.joined(separator: "\n")
    }

    /// The file's node tree (it was just read and checked, so it parses).
    private static func compose(_ path: String) throws(AgentError) -> Node {
        guard case let .success(bytes) = ConfigFileBytes.read(path), let text = String(validating: bytes, as: UTF8.self),
              let root = try? YAMLDocument.compose(text)
        else { throw AgentError(.unreadable, "\(path) changed while it was read; run the command again") }
        return root
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n") + "\""
    }
}
