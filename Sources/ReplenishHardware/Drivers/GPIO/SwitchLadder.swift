import FoundationEssentials
import ReplenishCore

/// Settings of a `gpio-switch-ladder` source: float switches at known fill fractions.
public struct SwitchLadderSettings: Sendable, Equatable {
    /// One float switch; its line reads true (after active-low) when the switch is submerged.
    public struct FloatSwitch: Sendable, Equatable {
        /// YAML `line`: the line name (`GPIO17`) or `chip:offset`, resolved by the agent.
        public var line: String
        /// YAML `fraction`: the fill fraction (0 < fraction ≤ 1) at which the switch gets wet.
        public var fraction: Double

        public init(line: String, fraction: Double) {
            self.line = line
            self.fraction = fraction
        }
    }

    /// YAML `switches`: the float switches, in any order.
    public var switches: [FloatSwitch]

    public init(switches: [FloatSwitch]) {
        self.switches = switches
    }

    /// Problems that make the settings unusable, each naming its YAML key; empty when valid.
    public var problems: [String] {
        var problems: [String] = []
        if switches.isEmpty { problems.append("switches: expected at least one float switch") }
        if switches.contains(where: { !($0.fraction > 0 && $0.fraction <= 1) }) {
            problems.append("switches: every fraction must be above 0 and at most 1")
        }
        if Set(switches.map(\.fraction)).count != switches.count {
            problems.append("switches: two switches share a fraction")
        }
        if Set(switches.map(\.line)).count != switches.count { problems.append("switches: a line is used twice") }
        return problems
    }
}

/// What a ladder of float switches says about the level.
public enum LadderVerdict: Sendable, Equatable {
    /// The highest fraction whose switch and every switch below it are wet (0 when the lowest is dry).
    case level(fraction: Double)
    /// A switch is wet above a dry one: stuck float, broken wire, or sloshing. `consistentFraction`
    /// is what the switches up to the first dry one say; `wetAboveDry` lists the contradicting ones.
    case inconsistent(consistentFraction: Double, wetAboveDry: [Double])
}

/// The level math of a switch ladder, without I/O.
public enum SwitchLadder {
    /// - Parameter wet: one state per switch, in the order of `switches`.
    public static func verdict(switches: [SwitchLadderSettings.FloatSwitch], wet: [Bool]) -> LadderVerdict {
        let ordered = zip(switches.map(\.fraction), wet).sorted { $0.0 < $1.0 }
        let firstDry = ordered.firstIndex { !$0.1 } ?? ordered.count
        let level = firstDry == 0 ? 0 : ordered[firstDry - 1].0
        let contradicting = ordered[firstDry...].filter(\.1).map(\.0)
        return contradicting.isEmpty ? .level(fraction: level)
            : .inconsistent(consistentFraction: level, wetAboveDry: contradicting)
    }
}

/// A `gpio-switch-ladder` slot: reads every switch at each sample and reports
/// `.level(fraction × capacity)`, already in the slot's unit (no calibrate filter needed).
/// An inconsistent pattern throws `HardwareError(.inconsistentReading)` so the ledger does not move.
public final class SwitchLadderSource: SensorSource {
    public let slot: String
    public let sampleIntervalSeconds: Double
    public let settings: SwitchLadderSettings
    private let capacity: Double
    private let lines: [any GPIOInput]

    /// - Parameter lines: one opened input per switch, in the order of `settings.switches`.
    public init(slot: String, sampleIntervalSeconds: Double, settings: SwitchLadderSettings, capacity: Double,
                lines: [any GPIOInput]) {
        precondition(lines.count == settings.switches.count, "one line per float switch")
        self.slot = slot
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.settings = settings
        self.capacity = capacity
        self.lines = lines
    }

    /// The switches' verdict, for probe and for the agent's health logic.
    public func read() throws -> LadderVerdict {
        var wet: [Bool] = []
        for (line, floatSwitch) in zip(lines, settings.switches) {
            do {
                wet.append(try line.read())
            } catch {
                throw HardwareError(.lineFailure, "float switch \(floatSwitch.line): \(error)", cause: error)
            }
        }
        return SwitchLadder.verdict(switches: settings.switches, wet: wet)
    }

    public func sample(at now: Date) throws -> [Observation] {
        switch try read() {
        case .level(let fraction):
            return [.level(fraction * capacity)]
        case let .inconsistent(consistent, wetAboveDry):
            let wet = wetAboveDry.map { "\($0)" }.joined(separator: ", ")
            throw HardwareError(.inconsistentReading,
                              "float switches wet at \(wet) above a dry one (level up to the first dry switch: \(consistent))")
        }
    }
}
