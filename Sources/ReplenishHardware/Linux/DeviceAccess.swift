#if canImport(Glibc)
import Glibc
#endif
import CLinuxShims

/// Facts about device files, for error messages that say what to do.
enum DeviceAccess {
    /// The group owning the device file (e.g. "gpio", "i2c"), or nil if it cannot be read.
    static func group(of path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard rpl_device_group(path, &buffer, buffer.count) == 0 else { return nil }
        return string(fromCBuffer: buffer)
    }

    /// Names in `directory` that start with `prefix` and end in a number, in numeric order
    /// (gpiochip2 before gpiochip10).
    static func numberedEntries(in directory: String, prefix: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var found: [(Int, String)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            guard name.hasPrefix(prefix), let number = Int(name.dropFirst(prefix.count)) else { continue }
            found.append((number, name))
        }
        return found.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
