import FoundationEssentials

/// Whether the cloud may set a key through `{base}/config/desired`.
enum RemoteSetting: Sendable, Equatable {
    /// Applied like a SIGHUP reload.
    case settable
    /// A connection setting: applied tentatively, and rolled back when the device cannot connect
    /// with it and see its own `{base}/state` within `remote_config.confirm_within`.
    case connection
    /// Only the board's own file may set it; the reason says why.
    case localOnly(String)
}

/// One line of the remote-settable list: a key path pattern and what the cloud may do with it.
/// `slots[]` stands for any slot (a desired slot is named by its `id`); a pattern ending in `.*`
/// covers everything under it.
struct RemoteKeyRule: Sendable {
    let pattern: String
    let setting: RemoteSetting
}

/// The one place that says which keys a desired document may set. A key it does not list is refused:
/// a key added to the file format stays local until someone decides here that the cloud may set it.
enum RemoteSettableKeys {
    static let rules: [RemoteKeyRule] = [
        // The desired document's own field.
        .init(pattern: "version", setting: .settable),

        .init(pattern: "device.id", setting: .localOnly("the device's identity: the database, the topics and the cloud's records belong to it")),
        .init(pattern: "device.timezone", setting: .settable),
        .init(pattern: "device.has_rtc", setting: .localOnly("a fact of the board's hardware (a battery-backed clock)")),
        .init(pattern: "device.alexa_endpoint_id", setting: .localOnly("the identity registered with Alexa at discovery")),

        .init(pattern: "mqtt.username", setting: .localOnly("a credential of this board")),
        .init(pattern: "mqtt.password_file", setting: .localOnly("the path of a secret on the board")),
        .init(pattern: "mqtt.key_file", setting: .localOnly("the path of the client certificate's private key")),
        .init(pattern: "mqtt.allow_insecure", setting: .localOnly("the cloud must not be able to downgrade the device to plaintext")),
        .init(pattern: "mqtt.*", setting: .connection),

        .init(pattern: "remote_config.*", setting: .localOnly("the safeguard against a remote change that cuts the device off")),

        .init(pattern: "storage.path", setting: .localOnly("the state database: its ledgers, its lock and the seq counter")),
        .init(pattern: "storage.outbox_limit", setting: .localOnly("sized for the board's flash")),
        .init(pattern: "storage.flush_interval", setting: .localOnly("sized for the flash's write endurance")),

        .init(pattern: "report.daily_at", setting: .settable),
        .init(pattern: "report.every", setting: .settable),
        .init(pattern: "report.on_start", setting: .settable),
        .init(pattern: "report.expire_after", setting: .settable),
        .init(pattern: "report.startup_wait", setting: .settable),

        // The selector of a desired slot: it names a slot of the file, it never renames one.
        .init(pattern: "slots[].id", setting: .settable),
        .init(pattern: "slots[].sensor", setting: .localOnly("what the slot's hardware measures")),
        .init(pattern: "slots[].measurement.*", setting: .localOnly("the unit the slot's hardware and ledger count in")),
        .init(pattern: "slots[].capacity", setting: .localOnly("what the part holds: every stored level is a share of it")),
        .init(pattern: "slots[].refill_hysteresis", setting: .settable),
        .init(pattern: "slots[].low_threshold", setting: .settable),
        .init(pattern: "slots[].forecast_days", setting: .settable),
        .init(pattern: "slots[].alexa_instance", setting: .settable),
        .init(pattern: "slots[].alexa_friendly_name", setting: .settable),
        .init(pattern: "slots[].alexa_level_step", setting: .settable),
        .init(pattern: "slots[].drs_slot_id", setting: .settable),
        .init(pattern: "slots[].dash_replenishment_id", setting: .settable),
        .init(pattern: "slots[].replenishment.*", setting: .settable),
        .init(pattern: "slots[].source.*", setting: .localOnly("the board's wiring: chips, lines, buses and calibration")),
        .init(pattern: "slots[].simulation.*", setting: .localOnly("the bench's simulated household")),
    ]

    /// The rule for a key path such as `slots[2].low_threshold`; nil when the list does not name it.
    static func rule(for keyPath: String) -> RemoteKeyRule? {
        let general = pattern(of: keyPath)
        return rules.first { rule in
            if rule.pattern.hasSuffix(".*") {
                let prefix = String(rule.pattern.dropLast(2))
                return general == prefix || general.hasPrefix(prefix + ".") || general.hasPrefix(prefix + "[")
            }
            return rule.pattern == general
        }
    }

    /// `slots[2].source.filters[0].median` as `slots[].source.filters[].median`.
    static func pattern(of keyPath: String) -> String {
        var result = ""
        var inIndex = false
        for character in keyPath {
            if character == "[" { inIndex = true; result.append("[") } else if character == "]" {
                inIndex = false
                result.append("]")
            } else if !inIndex { result.append(character) }
        }
        return result
    }

    /// Keys whose names say they hold a secret: a desired document never carries one.
    static func namesSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return ["password", "secret", "token", "private_key", "passphrase", "credential"].contains { lowered.contains($0) }
    }

    /// A value that is a secret whatever its key: PEM private keys.
    static func looksSecret(_ value: String) -> Bool {
        value.contains("PRIVATE KEY-----")
    }
}
