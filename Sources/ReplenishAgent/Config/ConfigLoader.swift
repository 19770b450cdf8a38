/// Reads `replenishd.yaml` into an `AgentConfig`, or explains every problem with file, line,
/// column and key path. Decodes from the node tree `YAMLDocument` composes over libyaml, not
/// through Codable, to keep positions.
public enum ConfigLoader {
    static let sections = ["device", "mqtt", "storage", "report", "slots", "remote_config"]

    /// Reads and parses the file at `path`; diagnostics name the file as `path` was given.
    public static func load(path: String) throws(AgentError) -> AgentConfig {
        try loadLocated(path: path).config
    }

    /// `load` with `remote` merged over the file.
    static func load(path: String, remote: RemoteDocument, remoteName: String) throws(AgentError) -> AgentConfig {
        try loadLocated(path: path, remote: remote, remoteName: remoteName).config
    }

    /// `load`, then what the daemon will open checked too (`ConfigPreflight`): what `check`, `run`
    /// and a reload use, so that a config they accept cannot fail once the daemon starts on it.
    /// With `remote`, the desired document (or the overlay) merged over the file (`ConfigMerge`).
    public static func loadForRun(path: String) throws(AgentError) -> AgentConfig {
        try loadForRun(path: path, remote: nil)
    }

    static func loadForRun(path: String, remote: RemoteDocument?, remoteName: String = "config/desired") throws(AgentError) -> AgentConfig {
        let (config, marks) = try loadLocated(path: path, remote: remote, remoteName: remoteName)
        let problems = ConfigPreflight.problems(config)
        guard problems.isEmpty else {
            let diagnostics = problems.map { problem in
                let mark = marks[problem.keyPath]
                return ConfigDiagnostic(file: mark?.inDesired == true ? remoteName : path,
                                        line: mark?.line ?? 1, column: mark?.column ?? 1,
                                        keyPath: problem.keyPath, message: problem.message)
            }
            throw .configRejected(diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return config
    }

    private static func loadLocated(path: String, remote: RemoteDocument? = nil,
                                    remoteName: String = "") throws(AgentError) -> (config: AgentConfig, marks: [String: Mark]) {
        let bytes: [UInt8]
        switch ConfigFileBytes.read(path) {
        case let .success(read): bytes = read
        case let .failure(failure):
            throw .configRejected([fileDiagnostic(path, "cannot read the file: \(failure.message)")])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .configRejected([fileDiagnostic(path, "the file is not valid UTF-8")])
        }
        return try parseLocated(text, fileName: path, remote: remote, remoteName: remoteName)
    }

    /// Parses YAML text; `fileName` is only used in diagnostics.
    public static func parse(_ text: String, fileName: String) throws(AgentError) -> AgentConfig {
        try parseLocated(text, fileName: fileName).config
    }

    static func parseLocated(_ text: String, fileName: String, remote: RemoteDocument? = nil,
                             remoteName: String = "config/desired") throws(AgentError) -> (config: AgentConfig, marks: [String: Mark]) {
        var root: Node?
        do {
            root = try YAMLDocument.compose(text)
        } catch {
            throw .configRejected([ConfigDiagnostic(file: fileName, line: error.mark.line, column: error.mark.column,
                                                    keyPath: "", message: error.message)])
        }
        var reader = ConfigReader(fileName: fileName)
        reader.desiredName = remoteName
        if let remote, let base = root {
            root = reader.merge(base, remote.root, at: .root)
            reader.translatesSlotPaths = true
        }
        // The merged configuration's hash covers the file and the document merged over it.
        let hash = remote.map { configHash(of: Array(text.utf8) + [0] + Array($0.text.utf8)) } ?? configHash(of: text.utf8)
        var config: AgentConfig?
        if let root {
            config = reader.agentConfig(root, hash: hash)
            config?.remoteVersion = remote?.version
            config?.remoteText = remote?.text
        } else {
            reader.report("the file is empty; expected the sections \(sections.dropLast().joined(separator: ", "))",
                          at: nil, .root)
        }
        let unlisted = remote?.unlisted(besides: reader.diagnostics, name: remoteName) ?? []
        guard let config, reader.diagnostics.isEmpty, unlisted.isEmpty else {
            // Stable sort: diagnostics at one position keep the order they were found in.
            let sorted = (reader.diagnostics + unlisted).enumerated().sorted {
                ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
            }
            throw .configRejected(sorted.map(\.element))
        }
        return (config, reader.marks)
    }

    private static func fileDiagnostic(_ fileName: String, _ message: String) -> ConfigDiagnostic {
        ConfigDiagnostic(file: fileName, line: 1, column: 1, keyPath: "", message: message)
    }
}

extension ConfigReader {
    /// The whole file: all sections are decoded even when an earlier one fails, so every problem is found.
    mutating func agentConfig(_ root: Node, hash: String) -> AgentConfig? {
        guard let fields = fields(of: root, at: .root, allowed: ConfigLoader.sections) else { return nil }
        let device = required("device", in: fields).flatMap { deviceSettings($0, at: .root.appending("device")) }
        let mqtt = required("mqtt", in: fields).flatMap {
            mqttSettings($0, at: .root.appending("mqtt"), deviceID: device?.id)
        }
        let storage = required("storage", in: fields).flatMap { storageSettings($0, at: .root.appending("storage")) }
        let report = required("report", in: fields).flatMap {
            reportSettings($0, at: .root.appending("report"), protocol: mqtt?.protocolVersion)
        }
        let slots = required("slots", in: fields).flatMap { self.slots($0, at: .root.appending("slots")) }
        // Optional: its defaults guard a remote connection change.
        let remote = fields.optional("remote_config").map { remoteConfigSettings($0, at: .root.appending("remote_config")) }
        guard let device, let mqtt, let storage, let report, let slots, remote != .some(nil) else { return nil }
        var config = AgentConfig(device: device, mqtt: mqtt, storage: storage, report: report, slots: slots,
                                 configHash: hash)
        config.remoteConfig = (remote ?? nil) ?? RemoteConfigSettings()
        return config
    }
}
