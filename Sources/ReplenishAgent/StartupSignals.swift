import Glibc
import Synchronization

/// The signals `run` handles (SIGTERM and SIGINT stop, SIGHUP reloads, SIGUSR1 toggles debug)
/// must not kill it by their default action while it is still starting, before its signal
/// sources exist. From the first line of `main` they are blocked (every thread made afterwards
/// inherits that, so a pending signal waits for the sources' signalfd) and caught by a handler
/// that only records them (a thread Dispatch made unblocks them for itself). Once the sources
/// exist, `replay()` sends the recorded ones again, so a SIGTERM during start-up is a clean stop.
public enum StartupSignals {
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1]

    private static let held = Atomic<Bool>(false)
    /// Bit n: signal n arrived through the recording handler.
    private static let recorded = Atomic<UInt64>(0)

    /// Blocks and records `handled`; call it first thing in `main`.
    public static func hold() {
        _ = recorded.load(ordering: .relaxed)  // initialised here, never inside the handler
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            StartupSignals.recorded.bitwiseOr(1 << UInt64(signal), ordering: .relaxed)
        }
        sigemptyset(&action.sa_mask)
        for signal in handled { sigaction(signal, &action, nil) }
        held.store(true, ordering: .sequentiallyConsistent)
    }

    /// Whether `hold()` ran. Then no signal source may set SIG_IGN first: ignoring a signal
    /// discards one already pending, the very signal holding them was for.
    public static var areHeld: Bool { held.load(ordering: .sequentiallyConsistent) }

    /// Ignores `signal`'s default action ahead of a Dispatch signal source, unless signals are held.
    public static func prepareSource(for signal: Int32) {
        if !areHeld { _ = Glibc.signal(signal, SIG_IGN) }
    }

    /// Sends the signals recorded while starting to this process again, now that its signal
    /// sources exist (Dispatch's handler replaced the recording one when each was made).
    public static func replay() {
        let signals = recorded.exchange(0, ordering: .relaxed)
        for signal in handled where signals & (1 << UInt64(signal)) != 0 { kill(getpid(), signal) }
    }
}
