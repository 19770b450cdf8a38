import FoundationEssentials
import Glibc
import ReplenishStore

/// `replenishd reload`, systemd's `ExecReload=`: checks the config as `check` does (so a refused
/// config fails `systemctl reload` with its reasons), sends the daemon SIGHUP, and waits until the
/// daemon records that it runs the new configuration. systemd 252 has no `Type=notify-reload`,
/// and a bare `kill -HUP` returned success before the daemon had acted, whatever it decided.
public enum ReloadRequest {
    /// What happened, for the command's one line of output.
    public enum Outcome: Sendable, Equatable {
        case applied(configHash: String)
        case unchanged(configHash: String)
    }

    /// Throws `AgentError(.configRejected)` for a config `check` refuses, `AgentError(.unavailable)`
    /// when no daemon runs on the config's database, `AgentError(.unreadable)` when it did not take
    /// the new configuration within `timeout` seconds (the journal says why).
    public static func run(configPath: String, timeout: Double = 30) async throws -> Outcome {
        // The daemon merges the cloud's overlay over the file: its hash is the merged one.
        let config = try RemoteOverlay.loadInForceOrThrow(configPath: configPath)
        guard let running = try snapshot(config.storage.path), running.running, kill(running.pid, 0) == 0 else {
            throw AgentError(.unavailable, "no replenishd is running on \(config.storage.path); nothing to reload")
        }
        if running.configHash == config.configHash { return .unchanged(configHash: config.configHash) }
        guard kill(running.pid, SIGHUP) == 0 else {
            throw AgentError(.unavailable, "cannot signal replenishd (pid \(running.pid))", failedWith: errno)
        }
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            if let now = try snapshot(config.storage.path), now.configHash == config.configHash {
                return .applied(configHash: config.configHash)
            }
        }
        throw AgentError(.unreadable, "replenishd (pid \(running.pid)) did not take configuration \(config.configHash) "
            + "within \(Int(timeout)) s; it keeps the previous one (journalctl -u replenishd says why)")
    }

    private static func snapshot(_ database: String) throws -> RuntimeSnapshot? {
        let store = try StateStore(path: database, readOnly: true)
        return try store.loadState().values[RuntimeSnapshot.key].flatMap { try? RuntimeSnapshot.decode($0) }
    }
}
