import Foundation
import Yams

/// Reads `replenishd.yaml` into an `AgentConfig`, or explains every problem with file, line,
/// column and key path. Decodes from Yams' node tree, not through Codable, to keep positions.
public enum ConfigLoader {
    static let sections = ["device", "mqtt", "storage", "report", "slots"]

    /// Reads and parses the file at `path`; diagnostics name the file as `path` was given.
    public static func load(path: String) throws(AgentError) -> AgentConfig {
        try loadLocated(path: path).config
    }

    /// `load`, then what the daemon will open checked too (`ConfigPreflight`): what `check`, `run`
    /// and a reload use, so that a config they accept cannot fail once the daemon starts on it.
    public static func loadForRun(path: String) throws(AgentError) -> AgentConfig {
        let (config, marks) = try loadLocated(path: path)
        let problems = ConfigPreflight.problems(config)
        guard problems.isEmpty else {
            let diagnostics = problems.map { problem in
                let mark = marks[problem.keyPath]
                return ConfigDiagnostic(file: path, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                        keyPath: problem.keyPath, message: problem.message)
            }
            throw .configRejected(diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return config
    }

    private static func loadLocated(path: String) throws(AgentError) -> (config: AgentConfig, marks: [String: Mark]) {
        let bytes: [UInt8]
        switch ConfigFileBytes.read(path) {
        case let .success(read): bytes = read
        case let .failure(failure):
            throw .configRejected([fileDiagnostic(path, "cannot read the file: \(failure.message)")])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .configRejected([fileDiagnostic(path, "the file is not valid UTF-8")])
        }
        return try parseLocated(text, fileName: path)
    }

    /// Parses YAML text; `fileName` is only used in diagnostics.
    public static func parse(_ text: String, fileName: String) throws(AgentError) -> AgentConfig {
        try parseLocated(text, fileName: fileName).config
    }

    static func parseLocated(_ text: String, fileName: String) throws(AgentError) -> (config: AgentConfig, marks: [String: Mark]) {
        let root: Node?
        var repeatedKeys = RepeatedKeys()
        do {
            root = try repeatedKeys.compose(text)
        } catch {
            throw .configRejected([syntaxDiagnostic(error, text: text, fileName: fileName)])
        }
        var reader = ConfigReader(fileName: fileName, repeatedKeys: repeatedKeys)
        var config: AgentConfig?
        if let root {
            config = reader.agentConfig(root, hash: configHash(of: text.utf8))
        } else {
            reader.report("the file is empty; expected the sections \(sections.joined(separator: ", "))",
                          at: nil, .root)
        }
        guard let config, reader.diagnostics.isEmpty else {
            // Stable sort: diagnostics at one position keep the order they were found in.
            let sorted = reader.diagnostics.enumerated().sorted {
                ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
            }
            throw .configRejected(sorted.map(\.element))
        }
        return (config, reader.marks)
    }

    private static func fileDiagnostic(_ fileName: String, _ message: String) -> ConfigDiagnostic {
        ConfigDiagnostic(file: fileName, line: 1, column: 1, keyPath: "", message: message)
    }

    /// A YAML syntax error at the position libyaml reports.
    static func syntaxDiagnostic(_ error: any Error, text: String, fileName: String) -> ConfigDiagnostic {
        func diagnostic(_ mark: Mark?, _ message: String) -> ConfigDiagnostic {
            ConfigDiagnostic(file: fileName, line: mark?.line ?? 1, column: mark?.column ?? 1, keyPath: "",
                             message: message)
        }
        func message(_ problem: String, _ context: YamlError.Context?) -> String {
            let detail = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return "invalid YAML: \(problem)\(detail)"
        }
        switch error as? YamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return diagnostic(mark, message(problem, context))
        case let .reader(problem, offset, _, _):
            let prefix = text.prefix(offset ?? 0)
            let line = prefix.count(where: { $0 == "\n" || $0 == "\r\n" }) + 1
            let column = prefix.reversed().prefix(while: { $0 != "\n" && $0 != "\r\n" })
                .reduce(0) { $0 + $1.unicodeScalars.count } + 1
            return ConfigDiagnostic(file: fileName, line: line, column: column, keyPath: "",
                                    message: "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return diagnostic(context.mark, "duplicate key \(keys) in one mapping")
        default:
            return diagnostic(nil, "invalid YAML: \(error)")
        }
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
        let report = required("report", in: fields).flatMap { reportSettings($0, at: .root.appending("report")) }
        let slots = required("slots", in: fields).flatMap { self.slots($0, at: .root.appending("slots")) }
        guard let device, let mqtt, let storage, let report, let slots else { return nil }
        return AgentConfig(device: device, mqtt: mqtt, storage: storage, report: report, slots: slots,
                           configHash: hash)
    }
}
