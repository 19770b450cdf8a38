import Logging
import Synchronization

/// The process-wide log level every handler of ours reads, so SIGUSR1 can switch debug logging
/// on and off without a restart.
public final class LogLevelSwitch: Sendable {
    public static let shared = LogLevelSwitch(.info)

    private let state: Mutex<(configured: Logger.Level, debug: Bool)>

    public init(_ level: Logger.Level) {
        state = Mutex((level, false))
    }

    /// The level in force: debug while toggled on, else the configured one.
    public var level: Logger.Level {
        state.withLock { $0.debug ? min($0.configured, .debug) : $0.configured }
    }

    /// Sets the configured level (from `--verbose` or the default) and clears the toggle.
    public func configure(_ level: Logger.Level) {
        state.withLock { $0 = (level, false) }
    }

    /// Flips debug logging; answers the level now in force.
    @discardableResult
    public func toggleDebug() -> Logger.Level {
        state.withLock { $0.debug.toggle() }
        return level
    }
}
