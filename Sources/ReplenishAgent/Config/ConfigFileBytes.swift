#if canImport(Glibc)
import Glibc
#endif

/// The bytes of a config file, or a plain reason why they cannot be had (`.unreadable`). The file is opened
/// non-blocking and checked with fstat before reading, so a FIFO or a device never blocks
/// `check` or a reload, and a runaway file is not read into memory.
enum ConfigFileBytes {
    /// A config is a few kilobytes; anything this large is the wrong file.
    static let limit = 1 << 20

    static func read(_ path: String) -> Result<[UInt8], AgentError> {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { return .failure(AgentError(.unreadable, "too many levels of symbolic links (a symlink loop?)", errno: code)) }
            return .failure(failed(errno: code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(failed(errno: errno)) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .failure(AgentError(.unreadable, "it is a directory, not a file"))
        case S_IFIFO: return .failure(AgentError(.unreadable, "it is a FIFO (named pipe), not a regular file"))
        case S_IFCHR, S_IFBLK: return .failure(AgentError(.unreadable, "it is a device, not a regular file"))
        case S_IFSOCK: return .failure(AgentError(.unreadable, "it is a socket, not a regular file"))
        default: return .failure(AgentError(.unreadable, "it is not a regular file"))
        }
        guard Int(info.st_size) <= limit else {
            return .failure(AgentError(.unreadable, "it is \(info.st_size) bytes; a config file may be at most 1 MiB"))
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return .failure(failed(errno: errno)) }
            if count == 0 { break }
            bytes += chunk.prefix(count)
            // The file may grow between fstat and here.
            guard bytes.count <= limit else { return .failure(AgentError(.unreadable, "it is larger than 1 MiB, the most a config file may be")) }
        }
        // A UTF-8 byte-order mark (some Windows editors write one) is not part of the YAML.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        return .success(bytes)
    }

    /// The reason is strerror's text alone: the caller says what could not be read.
    private static func failed(errno code: Int32) -> AgentError {
        AgentError(.unreadable, String(cString: strerror(code)), errno: code)
    }
}
