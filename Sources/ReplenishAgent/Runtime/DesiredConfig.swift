import FoundationEssentials

/// What the daemon makes of a desired document from `{base}/config/desired`: checked exactly as
/// `check` checks the file (the merged configuration, with the files it names), refused whole at
/// the first problem found, and never older than the one in force.
enum DesiredConfig {
    enum Decision {
        /// Every problem, positioned in the desired document where it stands there.
        case rejected(version: Int?, problems: [ConfigDiagnostic])
        /// The document in force already (the broker hands it over again on every connect).
        case inForce(version: Int)
        /// The configuration the file and the document make together.
        case accepted(AgentConfig, RemoteDocument)
    }

    static func evaluate(_ payload: [UInt8], configPath: String, inForce: AgentConfig) -> Decision {
        let document: RemoteDocument
        switch RemoteDocument.parse(payload) {
        case let .failure(rejection): return .rejected(version: rejection.version, problems: rejection.problems)
        case let .success(parsed): document = parsed
        }
        let current = inForce.remoteVersion ?? 0
        if document.version == current, document.text == inForce.remoteText { return .inForce(version: current) }
        guard document.version > current else {
            let problem = ConfigDiagnostic(
                file: "config/desired", line: document.versionMark.line, column: document.versionMark.column, keyPath: "version",
                message: "expected a version above \(current), the version in force, got \(document.version)")
            return .rejected(version: document.version, problems: [problem])
        }
        do {
            let candidate = try ConfigLoader.loadForRun(path: configPath, remote: document)
            _ = try MQTTOptionsBuilder.options(for: candidate)  // the password file, read
            return .accepted(candidate, document)
        } catch {
            let diagnostics = (error as? AgentError)?.diagnostics ?? []
            let problems = diagnostics.isEmpty
                ? [ConfigDiagnostic(file: configPath, line: 1, column: 1, keyPath: "", message: "\(error)")] : diagnostics
            return .rejected(version: document.version, problems: problems)
        }
    }
}
