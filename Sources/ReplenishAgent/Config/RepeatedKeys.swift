import Yams

/// Yams refuses a mapping with a repeated key before it builds any node: that would hide every
/// other problem and point at the first use of the key, not the repeat. So each repeat is masked
/// with a unique placeholder of the same length in Unicode scalars (every position stays put), the
/// text is composed again, and the reader reports the repeat where it stands, with its key path.
struct RepeatedKeys {
    struct Repeat {
        let key: String
        let firstLine: Int
    }

    /// Placeholder key text → the key it replaced.
    private(set) var placeholders: [String: Repeat] = [:]

    /// Composes `text`, masking repeated keys. Throws Yams' error for anything else, or when a repeat
    /// cannot be found in the text (a quoted or multi-line flow key).
    mutating func compose(_ text: String) throws -> Node? {
        // Scalars, not Characters: "\r\n" is one Character and would not split.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init)
        var masked = text
        while true {
            do {
                return try Yams.compose(yaml: masked)
            } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
                guard placeholders.count < 0x1000, let key = duplicates.first,
                      let (line, column) = Self.locateRepeat(of: Array(key.unicodeScalars), after: context.mark, in: lines)
                else { throw YamlError.duplicatedKeysInMapping(duplicates: duplicates, context: context) }
                let mask = Unicode.Scalar(0xE000 + UInt32(placeholders.count))!
                let placeholder = Array(repeating: mask, count: key.unicodeScalars.count)
                lines[line].replaceSubrange(column..<column + placeholder.count, with: placeholder)
                placeholders[String(String.UnicodeScalarView(placeholder))] = Repeat(key: key, firstLine: context.mark.line)
                masked = lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
            }
        }
    }

    /// The next use of `key` in the mapping whose key starts at `mark`, as zero-based line and column:
    /// later on the same line in a flow mapping, or on a later line at the same indentation in a block one.
    static func locateRepeat(of key: [Unicode.Scalar], after mark: Mark,
                             in lines: [[Unicode.Scalar]]) -> (line: Int, column: Int)? {
        let firstLine = mark.line - 1, column = mark.column - 1
        guard lines.indices.contains(firstLine), isKey(key, at: column, in: lines[firstLine]) else { return nil }

        let line = lines[firstLine]
        var index = column + key.count
        while index < line.count {
            let before = line[..<index].last(where: { $0 != " " })
            if (before == "{" || before == ","), isKey(key, at: index, in: line) { return (firstLine, index) }
            index += 1
        }
        for lineIndex in lines.indices.dropFirst(firstLine + 1) {
            let text = lines[lineIndex]
            let indent = text.prefix(while: { $0 == " " }).count
            if indent == text.count || text[indent] == "#" { continue }
            if indent < column { return nil }
            if indent == column, isKey(key, at: column, in: text) { return (lineIndex, column) }
        }
        return nil
    }

    /// `key` at `column`, followed by optional spaces and a ':'.
    private static func isKey(_ key: [Unicode.Scalar], at column: Int, in line: [Unicode.Scalar]) -> Bool {
        guard column + key.count <= line.count, Array(line[column..<column + key.count]) == key else { return false }
        return line[(column + key.count)...].first(where: { $0 != " " }) == ":"
    }
}
