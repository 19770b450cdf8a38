import Testing
@testable import ReplenishHardware

@Suite("Filter: median, clamp, delta")
struct FilterStageTests {
    @Test("median follows the window, using what is there until it fills", arguments: [
        // window, raw sequence, expected outputs
        (1, [5.0, 1, 9], [5.0, 1, 9]),
        (3, [10, 100, 12, 11, 13, 500, 12], [10, 55, 12, 12, 12, 13, 13]),
        (5, [10, 100, 12, 11, 13, 500, 12], [10, 55, 12, 11.5, 12, 13, 12]),
        (4, [1, 2, 3, 4, 100, 100], [1, 1.5, 2, 2.5, 3.5, 52]),
    ])
    func median(window: Int, raws: [Double], expected: [Double]) throws {
        let out = try runChain([.median(window: window)], raws)
        #expect(out.map(\.value) == expected)
    }

    @Test("a single spike never passes a median of 3")
    func medianSuppressesSpike() throws {
        let recorded: [Double] = [812, 811, 813, 4095, 812, 810, 811, 0, 812]
        let out = try runChain([.median(window: 3)], recorded)
        #expect(out.dropFirst(2).allSatisfy { ($0.value ?? 0) >= 810 && ($0.value ?? 0) <= 813 })
    }

    @Test("clamp forces values into its bounds and notes when it did", arguments: [
        (Optional(0.0), Optional(100.0), -5.0, 0.0, true),
        (0, 100, 50, 50, false),
        (0, 100, 130, 100, true),
        (nil, 100, -5, -5, false),
        (0, nil, 1e6, 1e6, false),
        (0, nil, -0.5, 0, true),
    ])
    func clamp(min: Double?, max: Double?, raw: Double, expected: Double, noted: Bool) throws {
        let out = try runChain([.clamp(min: min, max: max)], [raw])[0]
        #expect(out.value == expected)
        #expect((out.stages[0].note == .clamped) == noted)
    }

    @Test("delta gives the count since the previous sample; the first only sets the baseline")
    func delta() throws {
        let out = try runChain([.delta(modulus: nil)], [1200, 1200, 1203, 1210])
        #expect(out[0].verdict == .settling)
        #expect(out[0].value == nil)
        #expect(out[0].stages[0].note == .baseline)
        #expect(out.dropFirst().map(\.value) == [0, 3, 7])
    }

    @Test("delta across the modulus and across a counter reset", arguments: [
        // modulus, previous, current, expected delta, note
        (Optional(65536.0), 65530.0, 4.0, 10.0, Optional(FilterNote.counterWrapped)),
        (65536, 65535, 0, 1, .counterWrapped),
        (65536, 40000, 40005, 5, nil),
        (65536, 1000, 3, 0, .counterReset),
        (nil, 65530, 4, 0, .counterReset),
        (nil, 98765, 0, 0, .counterReset),
    ])
    func deltaWrapAndReset(modulus: Double?, previous: Double, current: Double, expected: Double, note: FilterNote?) throws {
        let out = try runChain([.delta(modulus: modulus)], [previous, current])
        #expect(out[1].value == expected)
        #expect(out[1].stages[0].note == note)
    }

    @Test("a recorded 16-bit page counter: wrap and a power-cut reset are never negative use")
    func recordedPageCounter() throws {
        let register: [Double] = [65520, 65527, 65533, 2, 9, 9, 14, 0, 3, 7]
        let out = try runChain([.delta(modulus: 65536)], register)
        #expect(out.dropFirst().map(\.value) == [7, 6, 5, 7, 0, 5, 0, 3, 4])
        #expect(out.allSatisfy { ($0.value ?? 0) >= 0 })
    }
}
