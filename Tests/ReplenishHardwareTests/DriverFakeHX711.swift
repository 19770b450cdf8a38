import Synchronization
@testable import ReplenishHardware

/// A simulated HX711 on a fake clock: answers clock pulses with the bits of its conversion,
/// selects the next conversion's gain from the pulse count, and powers down (resetting to
/// channel A gain 128) when a clock high phase lasts 60 µs or more.
final class FakeHX711: GPIOOutput, GPIOInput {
    struct State {
        /// What a conversion at a given gain reads (a load cell's count scales with the gain).
        var countAtGain128: Int32
        var gain = 128
        var clockHigh = false
        var pulses = 0
        var bits: UInt32 = 0
        var pollsBeforeReady: Int
        var pollsLeft: Int
        var poweredDown = false
        /// Per finished transfer: the pulses clocked and the gain the conversion was made at.
        var transfers: [(pulses: Int, gain: Int)] = []
        var clockWrites: [Bool] = []
        /// 1-based pulse numbers (counted over all transfers) whose high phase lasts `slowNanoseconds`.
        var slowPulses: Set<Int> = []
        var totalPulses = 0
    }

    let state: Mutex<State>
    let time: FakeDriverClock
    static let slowNanoseconds: UInt64 = 70_000

    init(count: Int32, pollsBeforeReady: Int = 2, time: FakeDriverClock) {
        state = Mutex(State(countAtGain128: count, pollsBeforeReady: pollsBeforeReady, pollsLeft: pollsBeforeReady))
        self.time = time
        state.withLock { $0.bits = Self.bits(count, gain: 128) }
    }

    static func bits(_ count128: Int32, gain: Int) -> UInt32 {
        UInt32(bitPattern: count128 * Int32(gain) / 128) & 0xFF_FFFF
    }

    var transfers: [(pulses: Int, gain: Int)] { state.withLock { $0.transfers } }

    func write(_ value: Bool) throws {
        var advance: UInt64 = 1_000  // 1 µs per GPIO call
        state.withLock { s in
            s.clockWrites.append(value)
            if value && !s.clockHigh {
                s.pulses += 1
                s.totalPulses += 1
                if s.slowPulses.contains(s.totalPulses) { advance += Self.slowNanoseconds }
                if advance >= 60_000 { s.poweredDown = true }
            } else if !value && s.clockHigh && s.poweredDown {
                // Waking from power-down resets the chip: channel A, gain 128.
                s.gain = 128
            }
            s.clockHigh = value
        }
        time.advance(advance)
    }

    func read() throws -> Bool {
        time.advance(1_000)
        return state.withLock { s in
            if s.clockHigh {
                // Bit n of the conversion after the n-th rising edge; DOUT high after the 24th.
                guard s.pulses <= 24, !s.poweredDown else { return true }
                return (s.bits >> UInt32(24 - s.pulses)) & 1 == 1
            }
            if s.pulses > 0 {
                // The transfer is over: its pulse count picks the next conversion's gain.
                s.transfers.append((s.pulses, s.gain))
                if !s.poweredDown {
                    s.gain = [25: 128, 26: 32, 27: 64][s.pulses] ?? s.gain
                }
                s.poweredDown = false
                s.pulses = 0
                s.pollsLeft = s.pollsBeforeReady
                s.bits = Self.bits(s.countAtGain128, gain: s.gain)
            }
            if s.pollsLeft > 0 {
                s.pollsLeft -= 1
                return true
            }
            return false
        }
    }
}
