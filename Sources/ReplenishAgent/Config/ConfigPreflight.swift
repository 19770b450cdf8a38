import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What the daemon will open, checked before it is used: the database's directory and file, the
/// MQTT password and key files (with their permissions), the CA and client certificates. Each
/// problem names the key it comes from, so `check`, `run` and a reload point at file:line:column.
enum ConfigPreflight {
    struct Problem: Equatable {
        var keyPath: String
        var message: String
    }

    static func problems(_ config: AgentConfig) -> [Problem] {
        var problems: [Problem] = []
        if let message = storageProblem(config.storage.path) {
            problems.append(Problem(keyPath: "storage.path", message: message))
        }
        let mqtt = config.mqtt
        func check(_ key: String, _ body: () throws -> Void) {
            do { try body() } catch {
                // MQTTOptionsBuilder's messages start with the key; the diagnostic already names it.
                let message = "\(error)"
                let prefix = "mqtt.\(key): "
                problems.append(Problem(keyPath: "mqtt.\(key)",
                                        message: message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message))
            }
        }
        if let file = mqtt.passwordFile {
            check("password_file") {
                try MQTTOptionsBuilder.checkSecret(file, key: "mqtt.password_file", groupMayRead: true)
                guard access(file, R_OK) == 0 else {
                    throw AgentError(.unreadable, "cannot read \(file)", failedWith: errno)
                }
            }
        }
        guard mqtt.url.tls else { return problems }
        if let file = mqtt.caFile {
            check("ca_file") {
                try MQTTOptionsBuilder.checkExists(file, key: "mqtt.ca_file", directory: false)
                if let problem = TLSFileCheck.certificateProblem(file) { throw AgentError(.unreadable, problem) }
            }
        }
        if let directory = mqtt.caDirectory {
            check("ca_dir") { try MQTTOptionsBuilder.checkExists(directory, key: "mqtt.ca_dir", directory: true) }
        }
        var pairReadable = true
        if let file = mqtt.certFile {
            check("cert_file") {
                do {
                    try MQTTOptionsBuilder.checkExists(file, key: "mqtt.cert_file", directory: false)
                    if let problem = TLSFileCheck.certificateProblem(file) { throw AgentError(.unreadable, problem) }
                } catch { pairReadable = false; throw error }
            }
        }
        if let file = mqtt.keyFile {
            check("key_file") {
                do {
                    try MQTTOptionsBuilder.checkSecret(file, key: "mqtt.key_file", groupMayRead: true)
                    guard access(file, R_OK) == 0 else {
                        throw AgentError(.unreadable, "cannot read \(file)", failedWith: errno)
                    }
                } catch { pairReadable = false; throw error }
            }
        }
        if pairReadable, let cert = mqtt.certFile, let key = mqtt.keyFile,
           let problem = TLSFileCheck.pairProblem(certFile: cert, keyFile: key) {
            problems.append(Problem(keyPath: "mqtt.key_file", message: problem))
        }
        return problems
    }

    /// The database needs its directory to exist and be writable (SQLite creates the WAL and
    /// shared-memory files beside it), and the file, when there, to be a readable, writable file.
    static func storageProblem(_ path: String) -> String? {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var info = stat()
        guard stat(directory, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            return errno == ENOENT
                ? "the database's directory \(directory) does not exist (create it, writable by the service user)"
                : "cannot reach the database's directory \(directory): \(reason)"
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "\(directory) is not a directory" }
        guard access(directory, W_OK | X_OK) == 0 else {
            return "cannot create files in the database's directory \(directory): \(String(cString: strerror(errno)))"
        }
        guard stat(path, &info) == 0 else {
            return errno == ENOENT ? nil : "cannot reach \(path): \(String(cString: strerror(errno)))"
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return "\(path) is not a regular file (expected the SQLite database)" }
        guard access(path, R_OK | W_OK) == 0 else {
            return "cannot read and write \(path): \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
