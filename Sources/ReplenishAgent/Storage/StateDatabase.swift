import ReplenishStore

/// The state database as `run`, `status` and `reset` meet it: a store refusal becomes an
/// operator's message that says what was found and what to do.
public enum StateDatabase {
    /// Checks the database at the config's `storage.path` before the daemon starts (creating it
    /// for a new device, migrating an older one) and takes its lock for the daemon's life, so a
    /// second daemon is refused even while a reload reopens the store. Hold the returned lock.
    public static func openForDaemon(config: AgentConfig, configPath: String) throws -> DatabaseLock {
        do {
            let lock = try DatabaseLock(database: config.storage.path)
            _ = try StateStore(path: config.storage.path, deviceID: config.device.id)
            return lock
        } catch {
            throw refusal(error, config: config, configPath: configPath)
        }
    }

    /// `error` as the operator should read it, with its exit class: `.databaseInUse` for the lock,
    /// `.databaseRefused` for a file that restarting cannot fix; other failures unchanged.
    public static func refusal(_ error: StoreError, config: AgentConfig, configPath: String) -> any Error {
        let reset = "replenishd reset --config \(configPath)"
        let keeps = "it keeps the old file beside it as \(config.storage.path).broken-<time>"
        switch error.code {
        case .locked:
            return AgentError(.databaseInUse, error.message)
        case .empty, .corrupt:
            return AgentError(.databaseRefused, "\(error.message). To start afresh as a new device, run `\(reset)` (\(keeps))")
        case .deviceMismatch:
            return AgentError(.databaseRefused, "\(error.message), or run `\(reset)` to start it afresh as "
                + "device \"\(config.device.id)\" (\(keeps))")
        case .foreign, .schemaVersion, .cannotOpen, .readOnly:
            return AgentError(.databaseRefused, error.message)
        default:
            return error
        }
    }

    /// Same as `refusal(_:config:configPath:)` for any error.
    public static func refusal(_ error: any Error, config: AgentConfig, configPath: String) -> any Error {
        guard let error = error as? StoreError else { return error }
        return refusal(error, config: config, configPath: configPath)
    }
}
