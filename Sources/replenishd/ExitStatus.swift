import ArgumentParser
import ReplenishAgent

/// How a command that failed ends the process: the one mapping from error to exit status that
/// every command goes through (`Replenishd.runCommand`), with the numbers of sysexits.h.
enum ExitStatus {
    /// The command failed; stderr says why.
    static let failure: Int32 = 1
    /// EX_UNAVAILABLE: nothing to act on yet (no state database, no daemon to reload).
    static let unavailable: Int32 = 69
    /// EX_TEMPFAIL: another daemon holds the state database; systemd retries, and the start
    /// succeeds once that one has stopped.
    static let tempFail: Int32 = 75
    /// EX_CONFIG: the configuration cannot be used as it is; systemd's RestartPreventExitStatus=78
    /// keeps a bad config from looping.
    static let config: Int32 = 78

    /// What `command` ends with after throwing `error`: an `ExitCode`, once the error has been
    /// reported, or `error` itself for ArgumentParser to print ("Error: …") and exit 1 with.
    static func ending(_ error: any Error, of command: any ParsableCommand) -> any Error {
        guard let status = status(of: error, in: command) else { return error }
        if let error = error as? AgentError, error.code == .configRejected,
           let command = command as? any ConfigFileCommand {
            if command is Replenishd.Check {
                printErr(error.description)
            } else {
                reportRejected(error, path: command.file.config)
            }
        } else {
            printErr("replenishd: \(error)")
        }
        return ExitCode(status)
    }

    /// The exit status for `error` thrown by `command`, or nil to leave it to ArgumentParser.
    static func status(of error: any Error, in command: any ParsableCommand) -> Int32? {
        if let error = error as? AgentError, let status = status(of: error.code, in: command) { return status }
        // `reset` reports whatever stopped it; the others leave the unexpected to ArgumentParser.
        return command is Replenishd.Reset ? failure : nil
    }

    /// The exit status for an `AgentError` with `code`, or nil to end as any other error does.
    private static func status(of code: AgentError.Code, in command: any ParsableCommand) -> Int32? {
        switch code {
        case .configRejected:
            // The file given with --config is refused (`demo`'s profiles are not a --config).
            return command is any ConfigFileCommand ? config : nil
        case .databaseInUse: return tempFail
        // Empty, damaged, foreign or another device's: restarting cannot fix it.
        case .databaseRefused: return config
        case .unavailable: return unavailable
        case .invalidArguments, .unsupported, .unreadable:
            // What keeps the daemon from starting (its arguments, a key file's mode, a file it
            // cannot read) is the configuration's doing: restarting cannot fix it either.
            return command is Replenishd.Run ? config : failed(command)
        default:
            // `.broker`, and any code added later.
            return failed(command)
        }
    }

    /// Exit 1 after "replenishd: <error>", except for `probe` and `demo`, which leave their
    /// agent errors to ArgumentParser (also exit 1, after "Error: <error>").
    private static func failed(_ command: any ParsableCommand) -> Int32? {
        command is Replenishd.Probe || command is Replenishd.Demo ? nil : failure
    }
}
