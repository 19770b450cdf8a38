import FoundationEssentials
import ReplenishCore

/// Turns the messages the demo hears into a compact table per day and a closing summary.
struct DemoView {
    private let config: AgentConfig
    private let zone: LocalZone
    private var seqs: [UInt64] = []
    private var duplicates = 0
    private var events: [String] = []
    private var refills: [String: Int] = [:]
    private var totalsAtLastDaily: [String: Double] = [:]
    private var firstTotals: [String: Double] = [:]
    private var lastTotals: [String: Double] = [:]
    private(set) var statusReports = 0
    private var replies = 0
    /// The device's answers on `{base}/config/reported` (outbox messages with a seq, like replies).
    private var configAnswers = 0
    /// Remote version of each configHash an `applied` answer named, for the day lines.
    private var remoteVersions: [String: Int] = [:]
    /// The configHash of the last daily report: a day line names it when it changes.
    private var shownConfig: String?
    /// The remote version applied and the day whose report first could use it.
    private var applied: (version: Int, day: Int)?
    /// Each slot's lowSupply events by the threshold they crossed, in the order first seen.
    private var lowSupplies: [(slot: String, threshold: Double, count: Int)] = []
    private(set) var dailyReports = 0
    /// The `InventoryConsumed` events in the reports' `alexa` members, and those with nothing used.
    private var consumedEvents = 0
    private var emptyConsumedEvents = 0
    private var changeReports = 0

    init(config: AgentConfig, zone: LocalZone) {
        self.config = config
        self.zone = zone
    }

    /// Lines to print for one message (a day's table for a daily report, nothing for the rest).
    mutating func take(topic: String, payload: [UInt8]) -> [String] {
        // The device's state is a snapshot without a seq, for the cloud (DemoCloud); nothing to show.
        if topic.hasSuffix("/state") { return [] }
        guard case .object(let json)? = try? JSONValue.parse(payload),
              let seq = json["seq"]?.number.flatMap({ UInt64(exactly: $0) }) else {
            return ["  ! unreadable message on \(topic)"]
        }
        if seqs.contains(seq) {
            duplicates += 1
            return []
        }
        seqs.append(seq)

        if topic.hasSuffix("/replies") {
            replies += 1
            if json["status"]?.string != "ok" {
                events.append("✗ \(json["command"]?.string ?? "?") rejected: \(json["error"]?.string ?? "?")")
            }
            return []
        }
        if topic.hasSuffix("/config/reported") {
            configAnswers += 1
            events.append(describe(configAnswer: json, seq: seq))
            return []
        }
        if topic.hasSuffix("/events") {
            let slot = json["slot"]?.string ?? "?"
            let name = json["event"]?.string ?? "?"
            if name == "refilled" || name == "replaced" { refills[slot, default: 0] += 1 }
            if name == "lowSupply" { countLowSupply(slot: slot, threshold: json["lowThreshold"]?.number ?? 0) }
            events.append(describe(event: name, json))
            return []
        }
        guard let slots = json["slots"]?.array?.compactMap(\.object) else { return [] }
        statusReports += 1
        for slot in slots {
            guard let id = slot["slot"]?.string, let total = slot["consumedTotal"]?.number else { continue }
            countConsumedEvent(slot["alexa"])
            if firstTotals[id] == nil { firstTotals[id] = total }
            if totalsAtLastDaily[id] == nil { totalsAtLastDaily[id] = total }
            lastTotals[id] = total
        }
        guard json["reason"]?.string == "daily" else { return [] }
        dailyReports += 1
        return dayTable(json, slots: slots)
    }

    private mutating func dayTable(_ json: [String: JSONValue], slots: [[String: JSONValue]]) -> [String] {
        let generated = json["generatedAt"]?.string.flatMap(Timestamp.parse) ?? Date()
        let seq = json["seq"]?.number.flatMap { UInt64(exactly: $0) }.map(String.init) ?? "?"
        var lines = ["Day \(pad(String(dailyReports), 2, left: true))  \(dayAndTime(generated))  "
            + "seq \(seq)  clock \(json["clock"]?.string ?? "?")" + configChange(json["configHash"]?.string)]
        for slot in slots {
            let id = slot["slot"]?.string ?? "?"
            let capacity = slot["originalQuantityInUnit"]?.number ?? 0
            let remaining = slot["remainingQuantityInUnit"]?.number
            let total = slot["consumedTotal"]?.number ?? 0
            let used = total - (totalsAtLastDaily[id] ?? total)
            totalsAtLastDaily[id] = total
            let measurement = slot["measurement"]?.object
            let unit = Self.unitLabel(unit: measurement?["unit"]?.string, type: measurement?["type"]?.string)
            let level = remaining.map { "\(bar($0 / max(capacity, 1)))  \(pad(Self.number($0), 6, left: true))/\(Self.number(capacity)) \(unit)" }
                ?? "\(String(repeating: " ", count: 22)) usage meter   "
            let runOut = slot["expectedReplenishmentDate"]?.string.flatMap(Timestamp.parse)
                .map { "run-out \(dayOfMonth($0))" } ?? "run-out —"
            lines.append("  \(pad(id, 12)) \(level)  used \(pad(Self.number(used), 6, left: true)) \(pad(unit, 3))  \(runOut)")
        }
        lines += events.map { "  ↻ " + $0 }
        events.removeAll()
        return lines
    }

    /// `  config <hash> (origin)` on the first day and when the report's configuration changed.
    private mutating func configChange(_ hash: String?) -> String {
        guard let hash, hash != shownConfig else { return "" }
        shownConfig = hash
        return "  config \(hash) (" + (remoteVersions[hash].map { "local + remote version \($0)" } ?? "local file") + ")"
    }

    /// The device's answer to a desired document: applied (its new configHash), rejected (why), rolled back.
    private mutating func describe(configAnswer json: [String: JSONValue], seq: UInt64) -> String {
        let status = json["status"]?.string ?? "?"
        let version = json["version"]?.number.map { String(Int($0)) } ?? "?"
        let hash = json["configHash"]?.string ?? "?"
        if status == "applied", let number = json["version"]?.number {
            remoteVersions[hash] = Int(number)
            applied = (Int(number), dailyReports + 1)
        }
        var line = "device answers on config/reported (seq \(seq)): \(status), version \(version), configHash \(hash)"
        if let problem = json["problems"]?.array?.first?.object {
            line += ": \(problem["keyPath"]?.string ?? "?"): \(problem["message"]?.string ?? "?")"
        }
        if let reason = json["reason"]?.string { line += ": \(reason)" }
        return line
    }

    private mutating func countLowSupply(slot: String, threshold: Double) {
        if let index = lowSupplies.lastIndex(where: { $0.slot == slot && $0.threshold == threshold }) {
            lowSupplies[index].count += 1
        } else {
            lowSupplies.append((slot, threshold, 1))
        }
    }

    /// What a remote configuration changed: how often each slot whose threshold moved warned at each.
    private func remoteConfigurationLine() -> [String] {
        guard let applied else { return [] }
        let moved = config.slots.compactMap { slot -> String? in
            let id = slot.definition.id
            let counts = lowSupplies.filter { $0.slot == id }
            guard counts.count > 1 else { return nil }
            let unit = Self.unitLabel(unit: slot.definition.measurement.unit?.rawValue, type: slot.definition.measurement.type.rawValue)
            return "\(id) " + counts.map { "\(plural($0.count, "time")) at \(Self.number($0.threshold)) \(unit)" }.joined(separator: ", then ")
        }
        return ["  remote configuration: version \(applied.version) applied before day \(applied.day)"
                + (moved.isEmpty ? "." : "; lowSupply: " + moved.joined(separator: "; ") + ".")]
    }

    /// A line to show under the next day's table (what the simulated cloud did).
    mutating func note(_ line: String) {
        events.append(line)
    }

    /// Each slot's `alexa` member is a list of Event Gateway messages; counts the consumption
    /// events (and those with nothing used, which must not exist) and the change reports.
    private mutating func countConsumedEvent(_ member: JSONValue?) {
        for message in member?.array ?? [] {
            let event = message.object?["event"]?.object
            switch event?["header"]?.object?["name"]?.string {
            case "InventoryConsumed":
                consumedEvents += 1
                if event?["payload"]?.object?["usage"]?.object?["value"]?.number ?? 0 <= 0 { emptyConsumedEvents += 1 }
            case "ChangeReport":
                changeReports += 1
            default:
                break
            }
        }
    }

    /// `delivery` is the device's side: what the broker acknowledged.
    /// `ledger` is what each slot's ledger counted in all at stop, `household` the simulation's
    /// truth (what it used, how often it refilled), to hold the ledger against.
    func summary(elapsed: Duration, outboxLeft: Int, delivery: DeliveryStats, ledger: [String: Double] = [:],
                 household: [String: (used: Double, refills: Int)] = [:]) -> [String] {
        let sorted = seqs.sorted()
        let gaps = zip(sorted, sorted.dropFirst()).reduce(0) { $0 + Int($1.1 - $1.0 - 1) }
        let inOrder = seqs == sorted
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        var lines = [
            "",
            "\(dailyReports) days simulated in \(cFormat("%.1f", seconds)) s: \(statusReports) status reports and "
                + "\(plural(seqs.count - statusReports - replies - configAnswers, "event")) and \(replies == 1 ? "1 command reply" : "\(replies) command replies")"
                + (configAnswers > 0 ? " and \(plural(configAnswers, "configuration answer"))" : "") + " received, seq \(sorted.first ?? 0)…\(sorted.last ?? 0) "
                + "\(inOrder ? "in order" : "OUT OF ORDER"), \(gaps) gaps, \(duplicates) duplicates; "
                + "the broker acknowledged \(delivery.delivered) (last seq \(delivery.lastAcknowledgedSeq)), "
                + "\(outboxLeft) left in the outbox at stop.",
            "  alexa: \(plural(consumedEvents, "InventoryConsumed event")) in the reports, \(emptyConsumedEvents) of them with nothing used; "
                + "\(plural(changeReports, "ChangeReport")) for the levels.",
        ] + remoteConfigurationLine()
        for slot in config.slots {
            let id = slot.definition.id
            let used = (lastTotals[id] ?? 0) - (firstTotals[id] ?? 0)
            let unit = Self.unitLabel(unit: slot.definition.measurement.unit?.rawValue,
                                 type: slot.definition.measurement.type.rawValue)
            let perDay = dailyReports > 0 ? used / Double(dailyReports) : 0
            // A level slot counts from its first reading: what the household used before it is not seen.
            let since = slot.definition.sensor == .level ? " since it started (a level sensor counts from its first reading)" : ""
            let truth = household[id].map { truth in
                "; at stop the ledger counted \(Self.number(ledger[id] ?? 0)) \(unit), the simulated household used "
                    + "\(Self.number(truth.used)) \(unit)\(since) and refilled \(plural(truth.refills, "time"))"
            }
            lines.append("  \(pad(id, 12)) used \(Self.number(used)) \(unit) (\(Self.number(perDay)) \(unit)/day), "
                         + "refilled or replaced \(plural(refills[id] ?? 0, "time"))" + (truth ?? ""))
        }
        return lines
    }

    private func describe(event name: String, _ json: [String: JSONValue]) -> String {
        let slot = json["slot"]?.string ?? "?"
        switch name {
        case "refilled":
            let from = json["fromQuantity"]?.number ?? 0
            let to = json["toQuantity"]?.number ?? 0
            return "\(slot) refilled \(Self.number(from)) → \(Self.number(to))"
        case "replaced":
            return "\(slot) replaced"
        case "lowSupply":
            return "\(slot) low: \(Self.number(json["remainingQuantityInUnit"]?.number ?? 0)) left "
                + "(threshold \(Self.number(json["lowThreshold"]?.number ?? 0)))"
        case "replenishRequested":
            let runOut = json["expectedReplenishmentDate"]?.string.flatMap(Timestamp.parse).map(dayOfMonth) ?? "?"
            return "\(slot) reorder requested (\(json["reason"]?.string ?? "?"), run-out \(runOut))"
        case "orderStateChanged":
            return "\(slot) order \(json["orderId"]?.string ?? "?"): \(json["previousState"]?.string ?? "?") → \(json["state"]?.string ?? "?")"
        default:
            return "\(slot) \(name)"
        }
    }

    private func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    private func bar(_ fraction: Double, width: Int = 20) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]"
    }

    static func unitLabel(unit: String?, type: String?) -> String {
        if let unit = unit.flatMap(MeasurementUnit.init(rawValue:)) { return unit.symbol }
        return type == "Percentage" ? "%" : "pcs"
    }

    static func number(_ value: Double) -> String {
        abs(value) >= 100 ? cFormat("%.0f", value) : cFormat("%.1f", value)
    }

    private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }

    /// `Mon 4 May 12:00` in the demo's zone.
    private func dayAndTime(_ date: Date) -> String {
        let local = zone.localTime(date)
        return "\(local.weekdayAbbreviation) \(local.day) \(local.monthAbbreviation) \(local.hourMinute)"
    }

    /// `4 May` in the demo's zone.
    private func dayOfMonth(_ date: Date) -> String {
        let local = zone.localTime(date)
        return "\(local.day) \(local.monthAbbreviation)"
    }
}

private extension JSONValue {
    var string: String? { if case .string(let value) = self { value } else { nil } }
    var number: Double? { if case .number(let value) = self { value } else { nil } }
    var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
}
