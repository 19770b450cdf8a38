import FoundationEssentials
import ReplenishStore

/// The one line `systemctl status` shows (`STATUS=`): broker state, outbox depth and the oldest
/// unsent message's age, and any slot that is not healthy.
enum StatusLine {
    static func text(_ snapshot: RuntimeSnapshot, outbox: OutboxStats?, stalled: [(loop: String, seconds: Double)] = [],
                     now: Date) -> String {
        var parts: [String] = []
        if !stalled.isEmpty {
            parts.append("STALLED " + stalled.map { "\($0.loop) \(age($0.seconds))" }.joined(separator: ", "))
        }
        let broker = snapshot.broker
        if broker.connected {
            parts.append("broker connected")
        } else {
            let why = broker.lastError.map { " (\($0))" } ?? ""
            parts.append("broker disconnected for \(age(now.timeIntervalSince(broker.since)))\(why)")
        }
        if let outbox {
            if outbox.count == 0 {
                parts.append("outbox empty")
            } else {
                let oldest = outbox.oldestCreatedAt.map { ", oldest \(age(now.timeIntervalSince1970 - $0))" } ?? ""
                parts.append("outbox \(outbox.count)\(oldest)")
            }
        }
        let unhealthy = snapshot.health.filter { $0.value != "ok" }.sorted { $0.key < $1.key }
        parts.append(unhealthy.isEmpty
            ? "\(snapshot.health.count) slots ok"
            : unhealthy.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        return parts.joined(separator: " · ")
    }

    /// A coarse age (whole minutes and up), so the line changes only when it means something.
    static func age(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        switch s {
        case ..<10: return cFormat("%.1f s", max(0, seconds))
        case ..<60: return "\(s) s"
        case ..<3600: return "\(s / 60) min"
        case ..<86_400: return "\(s / 3600) h \(s % 3600 / 60) min"
        default: return "\(s / 86_400) d \(s % 86_400 / 3600) h"
        }
    }
}
