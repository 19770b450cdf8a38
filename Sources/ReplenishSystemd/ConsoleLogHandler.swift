import FoundationEssentials
import Glibc
import Logging

/// Plain readable lines on stderr for a terminal: time, level, message, then `key=value`
/// metadata; one line per record, secrets redacted.
public struct ConsoleLogHandler: SwitchedLogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    let levels: LogLevelSwitch
    private let write: @Sendable (String) -> Void

    public init(label: String, levels: LogLevelSwitch = .shared,
                write: @escaping @Sendable (String) -> Void = StandardError.write) {
        self.label = label
        self.levels = levels
        self.write = write
    }

    public func log(event: LogEvent) {
        let merged = merged(event)
        write(Self.line(level: event.level, message: "\(event.message)", metadata: merged, at: Date()) + "\n")
    }

    /// One record as one line.
    public static func line(level: Logger.Level, message: String, metadata: Logger.Metadata, at date: Date) -> String {
        var parts = [Self.timestamp(date), level.rawValue, oneLine(message)]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where key != JournalMessageID.metadataKey {
            parts.append("\(key)=\(oneLine(LogRedaction.value(value, forKey: key)))")
        }
        return parts.joined(separator: " ")
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }

    private static func timestamp(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
