import FoundationEssentials
import ReplenishCore
import ReplenishHardware

/// `replenishd probe`: bench bring-up. Opens each configured source, reads it, and shows the raw
/// value, what the slot's ledger would see, and exactly what is wrong when something cannot be opened.
public enum Probe {
    /// One line per slot and read.
    public struct Line: Sendable, Equatable, CustomStringConvertible {
        public var slot: String
        public var driver: String
        public var raw: String?
        public var result: String
        public var ok: Bool

        /// `text` cut or padded with spaces to exactly `width` characters.
        private static func column(_ text: String, _ width: Int) -> String {
            text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
        }

        public var description: String {
            let rawPart = raw.map { "raw \($0)  " } ?? ""
            return "\(Self.column(slot, 12)) \(Self.column(driver, 19)) "
                + "\(ok ? "" : "ERROR ")\(rawPart)\(result)"
        }
    }

    /// Opens the sources of `slots` (all when nil); a source that cannot be opened becomes an error line.
    public static func open(_ config: AgentConfig, slot: String?) throws -> [(SlotConfig, Result<any SensorSource, any Error>)] {
        let chosen = config.slots.filter { slot == nil || $0.definition.id == slot }
        guard !chosen.isEmpty else {
            throw AgentError(.invalidArguments, "no slot '\(slot ?? "")' in the config (slots: "
                             + config.slots.map(\.definition.id).joined(separator: ", ") + ")")
        }
        return chosen.map { slotConfig in
            let result: Result<any SensorSource, any Error> = Result {
                if slotConfig.source.hardware == nil { return Daemon.simulatedSource(for: slotConfig, start: Date()) }
                let source = try HardwareSources.open(slotConfig)
                try source.start()
                return source
            }
            return (slotConfig, result)
        }
    }

    /// Reads one source once, through the same pipeline as the daemon (`SlotPipeline`):
    /// the raw value, then what the ledger would see. Keep one sampler per slot across reads (a
    /// median or a delta needs the reads before).
    public static func read(_ slot: SlotConfig, _ opened: Result<any SensorSource, any Error>,
                            sampler: inout SlotPipeline, at now: Date, monotonic: Double) -> Line {
        let id = slot.definition.id
        let driver = slot.source.driver.rawValue
        let source: any SensorSource
        switch opened {
        case .failure(let error):
            return Line(slot: id, driver: driver, raw: nil, result: "\(error)", ok: false)
        case .success(let opened):
            source = opened
        }
        let read = SlotPipeline.read(source, at: now)
        var raw: String?
        switch read {
        case .failure(let error):
            return Line(slot: id, driver: driver, raw: nil, result: "\(error)", ok: false)
        case .success(.raw(let value, let unit)):
            raw = "\(format(value)) \(unit)"
        case .success(.observations):
            break
        }
        let sample = sampler.take(read, monotonic: monotonic)
        if case .fault(let reason)? = sample.transition {
            return Line(slot: id, driver: driver, raw: raw, result: "not for the ledger: \(reason)", ok: false)
        }
        if sample.observations.isEmpty, case .success(.raw) = read {
            return Line(slot: id, driver: driver, raw: raw, result: "held back by the filters (health \(sample.health.rawValue))",
                        ok: sample.health == .ok)
        }
        return Line(slot: id, driver: driver, raw: raw, result: describe(sample.observations, slot.definition), ok: true)
    }

    static func describe(_ observations: [Observation], _ definition: SlotDefinition) -> String {
        let unit = definition.measurement.unit?.rawValue ?? definition.measurement.type.rawValue
        guard !observations.isEmpty else { return "no change since the last read" }
        return observations.map { observation in
            switch observation {
            case .level(let value):
                let percent = definition.capacity > 0 ? value / definition.capacity * 100 : 0
                return "level \(format(value)) \(unit) (\(format(percent))% of \(format(definition.capacity)))"
            case .consumed(let value):
                return "used \(format(value)) \(unit) since the last read"
            case .replaced(let quantity):
                return "replaced, now \(format(quantity ?? definition.capacity)) \(unit)"
            }
        }.joined(separator: "; ")
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 100 ? cFormat("%.1f", value) : cFormat("%.4g", value)
    }
}
