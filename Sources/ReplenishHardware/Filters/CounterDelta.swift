/// Turns successive counter readings into the quantity counted in between.
struct CounterDelta: Sendable, Equatable {
    let modulus: Double?
    private var previous: Double?

    init(modulus: Double?) {
        self.modulus = modulus
    }

    /// A fall of the counter is a wrap when the modulus is set and the wrapped distance is under
    /// half the modulus (a counter near its top rolled over); any other fall is a reset, which
    /// yields 0: what was counted between the last sample and the reset is unknown, and guessing
    /// it risks counting use twice, which the cloud cannot undo.
    mutating func add(_ value: Double) -> FilterStage.Step {
        defer { previous = value }
        guard let previous else { return .settle(.baseline) }
        if value >= previous { return .pass(value - previous, nil) }
        if let modulus {
            let wrapped = value + modulus - previous
            if wrapped < modulus / 2 { return .pass(wrapped, .counterWrapped) }
        }
        return .pass(0, .counterReset)
    }
}
