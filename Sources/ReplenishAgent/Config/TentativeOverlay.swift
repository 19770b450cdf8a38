import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A connection change from the cloud is tentative: beside the overlay, `<overlay>.previous` keeps
/// the last overlay that connected (empty: the file alone) until the new one is confirmed. Each
/// step is one atomic file operation, so a power cut at any instant leaves a whole configuration in
/// force: the old one, or the new one still tentative (confirmed or rolled back after the restart).
extension RemoteOverlay {
    static func previousPath(_ overlay: String) -> String { overlay + ".previous" }

    /// True while the overlay at `overlay` waits for its confirmation.
    static func isTentative(_ overlay: String) -> Bool { access(previousPath(overlay), F_OK) == 0 }

    /// Keeps the overlay in force as the one to go back to, then puts `text` in its place.
    static func writeTentative(_ text: String, to overlay: String) throws {
        let current: String
        switch ConfigFileBytes.read(overlay) {
        case let .success(bytes): current = String(decoding: bytes, as: UTF8.self)
        case .failure where access(overlay, F_OK) != 0: current = ""
        case let .failure(error): throw error
        }
        try write(current, to: previousPath(overlay))
        try write(text, to: overlay)
    }

    /// The tentative overlay connected: it is the one to go back to from now on.
    static func confirm(_ overlay: String) throws {
        try remove(previousPath(overlay))
    }

    /// Back to the overlay that last connected (or to the file alone).
    static func rollBack(_ overlay: String) throws {
        let previous = previousPath(overlay)
        guard case let .success(bytes) = ConfigFileBytes.read(previous) else { return }
        if bytes.isEmpty {
            try remove(overlay)
        } else {
            try write(String(decoding: bytes, as: UTF8.self), to: overlay)
        }
        try remove(previous)
    }

    /// Finishes what a power cut left half done: a rollback to the file alone cut between its two
    /// unlinks, or a tentative write from the file alone cut between its two writes, leaves an empty
    /// `.previous` and no overlay. The file alone is in force; the mark goes, or the next overlay
    /// would count as tentative (and a threshold change could be rolled back at a later start).
    static func settle(_ overlay: String) throws {
        guard access(overlay, F_OK) != 0, isTentative(overlay) else { return }
        try remove(previousPath(overlay))
    }

    /// Unlinks `path` (gone already is fine) and makes that durable.
    private static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw AgentError(.unreadable, "cannot remove \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
        try syncDirectory(of: path)
    }
}
