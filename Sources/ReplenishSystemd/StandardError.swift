#if canImport(Glibc)
import Glibc
#endif

/// Text for the terminal (or the journal's stream) on file descriptor 2, unbuffered.
public enum StandardError {
    /// Writes all of `text`, resuming after a partial write or a signal; a closed or broken
    /// stderr loses the rest silently, as there is nowhere left to say so.
    public static func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            offset += count
        }
    }
}
