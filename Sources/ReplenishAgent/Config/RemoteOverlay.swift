import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The desired document in force, kept beside the state database as `<storage.path>.remote.yaml`:
/// the document exactly as the cloud sent it (YAML or JSON, `version` included), merged over the
/// file at every start and reload. The overrides are kept rather than the merged whole, so the
/// file stays the maker's factory defaults: an updated file shows through wherever the cloud set
/// nothing.
public enum RemoteOverlay {
    /// Where the overlay of the configuration `local` (the file alone) is kept.
    public static func path(for local: AgentConfig) -> String { local.storage.path + ".remote.yaml" }

    /// The steps of `write`, for a test that stops it at each one as a power cut would.
    enum Step: CaseIterable { case written, synced, renamed }

    /// Replaces the overlay atomically: a temporary file beside it, fsync, rename over it, fsync of
    /// the directory. Killed or powered off at any instant, the overlay is the old one or the new one.
    /// `crashPoint` runs after each step; a test throws from it to stop there.
    static func write(_ text: String, to path: String, crashPoint: (Step) throws -> Void = { _ in }) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create \(temporary)") }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let error = failure("write \(temporary)")
                close(fd)
                throw error
            }
            offset += count
        }
        try crashPoint(.written)
        guard fsync(fd) == 0 else {
            let error = failure("fsync \(temporary)")
            close(fd)
            throw error
        }
        close(fd)
        try crashPoint(.synced)
        guard rename(temporary, path) == 0 else { throw failure("rename \(temporary) to \(path)") }
        try crashPoint(.renamed)
        try syncDirectory(of: path)
    }

    /// fsync of the directory holding `path`: a rename or an unlink in it is durable once this returns.
    static func syncDirectory(of path: String) throws {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw failure("open \(directory)") }
        defer { close(dirFD) }
        guard fsync(dirFD) == 0 else { throw failure("fsync \(directory)") }
    }

    private static func failure(_ what: String) -> AgentError {
        AgentError(.unreadable, "cannot \(what): \(String(cString: strerror(errno)))", errno: errno)
    }

    /// The overlay at `path`: nil when there is none; its problems when it cannot be read or parsed.
    static func read(_ path: String) -> Result<RemoteDocument?, RemoteDocument.Rejection> {
        guard access(path, F_OK) == 0 else { return .success(nil) }
        switch ConfigFileBytes.read(path) {
        case let .success(bytes):
            return RemoteDocument.parse(bytes, name: path).map { $0 }
        case let .failure(error):
            return .failure(RemoteDocument.Rejection(problems: [
                ConfigDiagnostic(file: path, line: 1, column: 1, keyPath: "", message: "cannot read the file: \(error.message)"),
            ]))
        }
    }

    /// The configuration in force: the file at `configPath` checked as `loadForRun` does, with the
    /// overlay merged over it. Throws the file's problems; the overlay's problems, when the file is
    /// fine, come back beside the file alone, for the caller to decide (the daemon starts on the
    /// file alone, a reload is refused).
    /// `forRun` false reads the files alone, as `status` and `config --show` do (not the key files).
    public static func loadInForce(configPath: String,
                                   forRun: Bool = true) throws(AgentError) -> (config: AgentConfig, overlayProblems: AgentError?) {
        let local = try forRun ? ConfigLoader.loadForRun(path: configPath) : ConfigLoader.load(path: configPath)
        let overlayPath = path(for: local)
        switch read(overlayPath) {
        case .success(nil):
            return (local, nil)
        case let .success(document?):
            do {
                var merged = try forRun ? ConfigLoader.loadForRun(path: configPath, remote: document, remoteName: overlayPath)
                    : ConfigLoader.load(path: configPath, remote: document, remoteName: overlayPath)
                merged.remoteTentative = isTentative(overlayPath)
                return (merged, nil)
            } catch {
                return (local, error)
            }
        case let .failure(rejection):
            return (local, .configRejected(rejection.problems))
        }
    }

    /// `loadInForce` for the daemon's start: a tentative overlay the file no longer takes is rolled
    /// back at once (the one that last connected may still fit), so no `.previous` outlives it.
    public static func loadForStart(configPath: String) throws(AgentError) -> (config: AgentConfig, overlayProblems: AgentError?) {
        let loaded = try loadInForce(configPath: configPath)
        let overlay = path(for: loaded.config)
        try? settle(overlay)  // left as it is, it is only tried again at the next start
        guard loaded.overlayProblems != nil else { return loaded }
        guard isTentative(overlay), (try? rollBack(overlay)) != nil else { return loaded }
        // The cloud's retained document comes again and is answered against what is in force then.
        return try loadInForce(configPath: configPath)
    }

    /// `loadInForce`, with the overlay's problems thrown: what a reload and `replenishd reload` take.
    public static func loadInForceOrThrow(configPath: String) throws(AgentError) -> AgentConfig {
        let (config, problems) = try loadInForce(configPath: configPath)
        if let problems { throw problems }
        return config
    }
}
