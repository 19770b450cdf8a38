/// A value bound to a statement parameter.
enum SQLiteValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null
}

extension SQLiteValue {
    /// A seq as SQLite's signed 64-bit integer; larger values would wrap, so they are refused.
    static func seq(_ value: UInt64, operation: String, path: String) throws(StoreError) -> SQLiteValue {
        guard let signed = Int64(exactly: value) else {
            throw StoreError(.invalidValue, operation: operation, path: path, reason: "seq \(value) exceeds Int64.max")
        }
        return .integer(signed)
    }
}
