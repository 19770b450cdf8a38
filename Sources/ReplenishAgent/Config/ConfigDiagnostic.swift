/// One problem found in a config file, located by file, line, column and key path.
///
/// Its description is the compiler-style line editors and CI logs understand:
/// `replenishd.yaml:14:17: slots[1].capacity: expected a positive number, got -3`.
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    /// The file name as the user gave it.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars (as libyaml does).
    public var column: Int
    /// Dotted path with zero-based `[i]` indices, e.g. `slots[1].capacity`; empty for the whole file.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        keyPath.isEmpty
            ? "\(file):\(line):\(column): \(message)"
            : "\(file):\(line):\(column): \(keyPath): \(message)"
    }
}
