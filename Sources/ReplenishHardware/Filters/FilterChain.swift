/// A slot's filters in configured order, with their state. Pure: time comes in with each sample
/// as monotonic seconds, and the chain does no I/O.
public struct FilterChain: Sendable {
    public let filters: [SensorFilter]
    private var stages: [FilterStage]

    /// Checks every filter's settings; an empty list passes raw values through (still rejecting
    /// NaN and infinity).
    public init(_ filters: [SensorFilter]) throws(HardwareError) {
        self.filters = filters
        var stages: [FilterStage] = []
        for (index, filter) in filters.enumerated() {
            stages.append(try FilterStage(filter, index: index))
        }
        self.stages = stages
    }

    /// Runs one raw sample through the stages. A non-finite raw value is implausible before any
    /// stage sees it; the chain stops at the first stage that withholds the sample, so later
    /// stages (a `delta` baseline, a `median` window) never take in a rejected value.
    public mutating func process(raw: Double, at monotonic: Double) -> FilterOutcome {
        guard raw.isFinite else {
            return FilterOutcome(raw: raw, at: monotonic, stages: [],
                                 verdict: .implausible(reason: "raw value is \(raw)"))
        }
        var outputs: [FilterStageOutput] = []
        outputs.reserveCapacity(stages.count)
        var value = raw
        for index in stages.indices {
            let filter = filters[index]
            switch stages[index].apply(value, raw: raw, at: monotonic) {
            case let .pass(next, note):
                outputs.append(FilterStageOutput(filter: filter, value: next, note: note))
                guard next.isFinite else {
                    return FilterOutcome(raw: raw, at: monotonic, stages: outputs,
                                         verdict: .implausible(reason: "filter \(index + 1) produced \(next)"))
                }
                value = next
            case let .settle(note):
                outputs.append(FilterStageOutput(filter: filter, value: nil, note: note))
                return FilterOutcome(raw: raw, at: monotonic, stages: outputs, verdict: .settling)
            case let .reject(reason):
                outputs.append(FilterStageOutput(filter: filter, value: nil, note: .rejected(reason: reason)))
                return FilterOutcome(raw: raw, at: monotonic, stages: outputs, verdict: .implausible(reason: reason))
            }
        }
        return FilterOutcome(raw: raw, at: monotonic, stages: outputs, verdict: .plausible)
    }

    /// Forgets the state of every stage (median window, delta baseline, plausibility history),
    /// for when a new consumable is inserted and a jump is expected.
    public mutating func reset() {
        for index in stages.indices { stages[index].reset() }
    }
}
