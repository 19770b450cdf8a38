import FoundationEssentials
import ReplenishMQTT
#if canImport(Glibc)
import Glibc
#endif

/// Turns the `mqtt:` section into transport options, checking the files it names: they must
/// exist, and secrets must not be open to other users.
enum MQTTOptionsBuilder {
    static func options(for config: AgentConfig) throws -> MQTTClientOptions {
        let mqtt = config.mqtt
        var password: String?
        if let file = mqtt.passwordFile {
            try checkSecret(file, key: "mqtt.password_file", groupMayRead: true)
            let text = ConfigFileBytes.read(file).flatMap { bytes in
                String(validating: bytes, as: UTF8.self).map(Result.success) ?? .failure(AgentError(.unreadable, "it is not UTF-8 text"))
            }
            switch text {
            case .success(let text): password = text.trimmingEnds(where: \.isNewline)
            case .failure(let error): throw AgentError(.unreadable, "mqtt.password_file: cannot read \(file): \(error.message)")
            }
        }
        var tls: MQTTTLSOptions?
        if mqtt.url.tls {
            if let file = mqtt.caFile { try checkExists(file, key: "mqtt.ca_file", directory: false) }
            if let directory = mqtt.caDirectory { try checkExists(directory, key: "mqtt.ca_dir", directory: true) }
            if let file = mqtt.certFile { try checkExists(file, key: "mqtt.cert_file", directory: false) }
            if let file = mqtt.keyFile { try checkSecret(file, key: "mqtt.key_file", groupMayRead: true) }
            tls = MQTTTLSOptions(caFile: mqtt.caFile, caDirectory: mqtt.caDirectory, certFile: mqtt.certFile,
                                 keyFile: mqtt.keyFile, alpn: mqtt.alpn)
        }
        var options = MQTTClientOptions(host: mqtt.url.host, port: mqtt.url.port, clientID: mqtt.clientID,
                                        keepAliveSeconds: mqtt.keepAliveSeconds, username: mqtt.username, password: password,
                                        reconnectDelayMin: mqtt.reconnectDelayMin, reconnectDelayMax: mqtt.reconnectDelayMax,
                                        tls: tls)
        switch mqtt.protocolVersion {
        case .v5:
            options.protocolVersion = .v5
            options.sessionExpirySeconds = UInt32(clamping: mqtt.sessionExpirySeconds)
        case .v311:
            options.protocolVersion = .v311
        }
        return options
    }

    /// A private key or password file: never readable or writable by others, never writable by the
    /// group, and readable by the group only when that is a group the service runs in (0640
    /// root:replenishd is how a package hands a root-owned key to the service).
    static func checkSecret(_ path: String, key: String, groupMayRead: Bool) throws {
        let info = try status(path, key: key)
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw AgentError(.unreadable, "\(key): \(path) is not a regular file")
        }
        let mode = info.st_mode & 0o7777
        let modeText = "mode " + cFormat("%04o", mode)
        let expected = "expected 0600 or 0640 owned by the service"
        var others: [String] = []
        if mode & S_IROTH != 0 { others.append("readable") }
        if mode & S_IWOTH != 0 { others.append("writable") }
        if !others.isEmpty {
            throw AgentError(.unsupported, "\(key): \(path) is \(others.joined(separator: " and ")) by others (\(modeText)); \(expected)")
        }
        if mode & S_IWGRP != 0 {
            throw AgentError(.unsupported, "\(key): \(path) is writable by its group (\(modeText)); \(expected)")
        }
        if mode & S_IRGRP != 0, !(groupMayRead && serviceGroups().contains(info.st_gid)) {
            throw AgentError(.unsupported,
                             "\(key): \(path) is readable by group \(groupName(info.st_gid)), which the service is not in (\(modeText)); \(expected)")
        }
    }

    static func checkExists(_ path: String, key: String, directory: Bool) throws {
        let info = try status(path, key: key)
        let isDirectory = info.st_mode & S_IFMT == S_IFDIR
        if isDirectory != directory {
            throw AgentError(.unreadable, "\(key): \(path) is \(isDirectory ? "a directory" : "not a directory")")
        }
        guard access(path, R_OK | (directory ? X_OK : 0)) == 0 else {
            throw AgentError(.unreadable, "\(key): cannot read \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func status(_ path: String, key: String) throws -> stat {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw AgentError(.unreadable, "\(key): \(path): \(String(cString: strerror(errno)))")
        }
        return info
    }

    /// The effective group and the supplementary groups of this process.
    private static func serviceGroups() -> Set<gid_t> {
        var groups = [gid_t](repeating: 0, count: Int(max(getgroups(0, nil), 0)))
        let count = getgroups(Int32(groups.count), &groups)
        return Set(groups.prefix(Int(max(count, 0)))).union([getegid()])
    }

    private static func groupName(_ gid: gid_t) -> String {
        guard let entry = getgrgid(gid), let name = entry.pointee.gr_name else { return "\(gid)" }
        return "'\(String(cString: name))' (gid \(gid))"
    }
}
