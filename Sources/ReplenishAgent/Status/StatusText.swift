import FoundationEssentials
import ReplenishCore

/// `replenishd status` for a person: one block for the device, two or three lines per slot, 80 columns.
public enum StatusText {
    public static func render(_ status: DeviceStatus, zone: LocalZone = .current) -> String {
        var lines: [String] = []
        let now = status.generatedAt
        lines.append("replenishd \(status.agentVersion) · device \(status.device) · config \(status.configHash) (\(status.configuration))")
        lines.append("daemon   " + daemon(status.daemon, now: now))
        lines.append("broker   " + broker(status.broker, now: now, zone: zone))
        lines.append("outbox   " + outbox(status.outbox))
        lines.append("seq      \(status.lastSeq) issued · \(status.database)")
        for slot in status.slots {
            lines.append("")
            let percent = slot.levelPercent.map { cFormat("%3.0f%%", $0) } ?? "  ?%"
            let remaining = slot.remaining.map { "\(quantity($0)) of \(quantity(slot.capacity))\(unit(slot.unit))" }
                ?? "level unknown"
            lines.append(pad(slot.slot, 9) + bar(slot.levelPercent) + "  " + percent + "  " + remaining + "  " + slot.health)
            var detail: [String] = []
            if let lastDay = slot.lastDay {
                detail.append("last day \(quantity(lastDay))\(unit(slot.unit))")
            }
            if let average = slot.averageDailyConsumption {
                detail.append("avg \(quantity(average))\(unit(slot.unit))/day")
            }
            detail.append(slot.expectedRunOut.map { "runs out ~\(zone.localTime($0).dayKey)" } ?? "run-out unknown")
            lines.append(pad("", 9) + detail.joined(separator: " · "))
            if let replenishment = slot.replenishment {
                lines.append(pad("", 9) + "replenishment: " + replenishment + (slot.orderId.map { " (order \($0))" } ?? ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func daemon(_ daemon: DeviceStatus.Daemon, now: Date) -> String {
        switch daemon.state {
        case "running":
            "running (pid \(daemon.pid ?? 0), up \(StatusLine.age(now.timeIntervalSince(daemon.startedAt ?? now))))"
        case "stopped":
            "stopped cleanly \(ago(daemon.updatedAt, now))"
        case "gone":
            "not running (pid \(daemon.pid ?? 0) gone; last recorded \(ago(daemon.updatedAt, now)))"
        default:
            "never recorded"
        }
    }

    static func broker(_ broker: DeviceStatus.Broker, now: Date, zone: LocalZone) -> String {
        guard let connected = broker.connected else { return "\(broker.url), state unknown" }
        let since = broker.since.map { " since \(time($0, zone, now: now)) (\(ago($0, now)))" } ?? ""
        if connected { return "connected to \(broker.url)\(since)" }
        return "disconnected from \(broker.url)\(since)" + (broker.lastError.map { ": \($0)" } ?? "")
    }

    static func outbox(_ outbox: DeviceStatus.Outbox) -> String {
        guard outbox.messages > 0 else { return "empty" + evicted(outbox) + refused(outbox) + deadLetters(outbox) }
        let oldest = outbox.oldestAgeSeconds.map { ", oldest unsent \(StatusLine.age($0)) ago (seq \(outbox.oldestSeq ?? 0))" } ?? ""
        return "\(outbox.messages) message\(outbox.messages == 1 ? "" : "s"), \(bytes(outbox.bytes))\(oldest)" + evicted(outbox)
            + refused(outbox) + deadLetters(outbox)
    }

    /// Messages moved to the dead letters, e.g. ` · 2 dead letters (last seq 14 on t/events: Not authorized (0x87))`.
    static func deadLetters(_ outbox: DeviceStatus.Outbox) -> String {
        guard outbox.deadLetters > 0 else { return "" }
        let last = outbox.lastDeadLetter.map { " (last seq \($0.seq) on \($0.topic): \($0.reason))" } ?? ""
        return " · \(outbox.deadLetters) dead letter\(outbox.deadLetters == 1 ? "" : "s")\(last)"
    }

    /// Publishes the broker refused since the daemon started, e.g. ` · 3 refused by the broker (last seq 12: Not authorized (0x87))`.
    static func refused(_ outbox: DeviceStatus.Outbox) -> String {
        guard outbox.refused > 0 else { return "" }
        let last = outbox.lastRefusedSeq.map { " (last seq \($0): \(outbox.lastRefusal ?? "?"))" } ?? ""
        return " · \(outbox.refused) refused by the broker\(last)"
    }

    private static func evicted(_ outbox: DeviceStatus.Outbox) -> String {
        outbox.evictedUnannounced > 0 ? "; \(outbox.evictedUnannounced) reports evicted, not yet announced" : ""
    }

    /// A ten-cell level bar: `[######----]`.
    static func bar(_ percent: Double?) -> String {
        guard let percent else { return "[??????????]" }
        let filled = Int((min(100, max(0, percent)) / 10).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 10 - filled) + "]"
    }

    static func quantity(_ value: Double) -> String {
        value.rounded() == value || abs(value) >= 100 ? cFormat("%.0f", value) : cFormat("%.1f", value)
    }

    private static func unit(_ unit: String) -> String {
        let short = ["milliliter": "ml", "liter": "l", "gram": "g", "kilogram": "kg", "milligram": "mg",
                     "ounce": "oz", "pound": "lb", "us_fluid_ounce": "fl oz", "us_gallon": "gal",
                     "cubic_foot": "ft³", "cubic_meter": "m³"]
        return unit.isEmpty ? "" : " " + (short[unit] ?? unit)
    }

    static func bytes(_ count: Int) -> String {
        count < 1024 ? "\(count) B" : cFormat("%.1f KiB", Double(count) / 1024)
    }

    private static func ago(_ date: Date?, _ now: Date) -> String {
        date.map { StatusLine.age(now.timeIntervalSince($0)) + " ago" } ?? "at an unknown time"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// The time of day, with the date only when it is not the day of `now`.
    private static func time(_ date: Date, _ zone: LocalZone, now: Date) -> String {
        let local = zone.localTime(date)
        return local.dayKey == zone.localTime(now).dayKey ? local.hourMinute : "\(local.dayKey) \(local.hourMinute)"
    }
}

/// `replenishd status --json`: the same as one JSON object, dates as RFC 3339 strings.
public enum StatusJSON {
    public static func render(_ status: DeviceStatus) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(status), as: UTF8.self)
    }
}
