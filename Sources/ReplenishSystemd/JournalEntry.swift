import Logging

/// One log record as journal fields (`KEY=value`), built without side effects so tests can read
/// exactly what the journal would get.
public enum JournalEntry {
    /// The syslog priority of a swift-log level.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Every field of one record: the message, its priority, where it came from, and each
    /// metadata key as its own field (`slot` → `SLOT=`, `correlationId` → `CORRELATION_ID=`).
    /// `messageID` becomes `MESSAGE_ID=`; secret-looking values are redacted.
    public static func fields(level: Logger.Level, message: String, metadata: Logger.Metadata, label: String,
                              file: String, function: String, line: UInt) -> [String] {
        var fields = [
            "MESSAGE=\(message)",
            "PRIORITY=\(priority(level))",
            "SYSLOG_IDENTIFIER=replenishd",
            "LOGGER=\(label)",
            "CODE_FILE=\(file)",
            "CODE_LINE=\(line)",
            "CODE_FUNC=\(function)",
        ]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            if key == JournalMessageID.metadataKey {
                fields.append("MESSAGE_ID=\(value)")
            } else {
                fields.append("\(fieldName(key))=\(LogRedaction.value(value, forKey: key))")
            }
        }
        return fields
    }

    /// A journal field name: upper-case letters, digits and underscores, not starting with an
    /// underscore or a digit (those are the journal's own), at most 64 characters.
    public static func fieldName(_ key: String) -> String {
        var name = ""
        var previous: Character?
        for character in key {
            if character.isUppercase, let previous, previous.isLowercase || previous.isNumber { name.append("_") }
            if character.isASCII, character.isLetter || character.isNumber {
                name.append(Character(character.uppercased()))
            } else {
                name.append("_")
            }
            previous = character
        }
        if name.isEmpty || name.first == "_" || name.first!.isNumber { name = "F_" + name }
        return String(name.prefix(64))
    }
}

/// Keeps secrets out of every log line, whatever a caller puts in metadata.
public enum LogRedaction {
    static let secretWords = ["password", "passwd", "secret", "token", "passphrase", "privatekey", "private_key"]

    public static func isSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        return secretWords.contains { lower.contains($0) }
    }

    public static func value(_ value: Logger.MetadataValue, forKey key: String) -> String {
        isSecret(key) ? "<redacted>" : "\(value)"
    }
}
