/// Identifies a config version: the `configHash` every outgoing message carries, so the cloud can
/// tell which file produced a report. FNV-1a 64-bit of the file's bytes as 16 lowercase hex digits.
/// It is not a security hash: it detects edits, not tampering.
public func configHash(of bytes: some Sequence<UInt8>) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
