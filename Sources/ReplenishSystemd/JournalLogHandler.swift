import CSystemd
import Glibc
import Logging

/// A swift-log backend writing straight to the journal (`sd_journal_sendv`), with priorities
/// and one field per metadata key. Chosen when stderr is the journal (`JOURNAL_STREAM`).
public struct JournalLogHandler: SwitchedLogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    let levels: LogLevelSwitch

    public init(label: String, levels: LogLevelSwitch = .shared) {
        self.label = label
        self.levels = levels
    }

    public func log(event: LogEvent) {
        let merged = merged(event)
        let fields = JournalEntry.fields(level: event.level, message: "\(event.message)", metadata: merged,
                                         label: label, file: event.file, function: event.function, line: event.line)
        Self.send(fields)
    }

    /// Sends one entry; answers 0 or a negative errno (no journal socket, for one).
    /// The corresponding C function is `sd_journal_sendv`.
    @discardableResult
    public static func send(_ fields: [String]) -> Int32 {
        var storage = fields.map { Array($0.utf8) }
        return storage.withUnsafeMutableBufferPointer { buffers in
            var vectors: [iovec] = []
            vectors.reserveCapacity(buffers.count)
            for index in buffers.indices {
                buffers[index].withUnsafeMutableBytes { bytes in
                    vectors.append(iovec(iov_base: bytes.baseAddress, iov_len: bytes.count))
                }
            }
            return sd_journal_sendv(vectors, Int32(vectors.count))
        }
    }

    /// Whether stderr is connected to the journal: `JOURNAL_STREAM` holds the device and inode
    /// of the stream systemd gave the service, and `fd` must be that very stream.
    public static func isJournal(fd: Int32 = STDERR_FILENO, journalStream: String?) -> Bool {
        guard let journalStream else { return false }
        let parts = journalStream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
