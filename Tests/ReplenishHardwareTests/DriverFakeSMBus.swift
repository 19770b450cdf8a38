import Synchronization
@testable import ReplenishHardware

/// An SMBus device answering from recorded register values, recording every transfer, and
/// optionally failing the first N transfers (as a chip that NAKs or a bus that glitches).
final class FakeSMBus: SMBusDevice {
    enum Transfer: Equatable {
        case readByte(UInt8)
        case readWord(UInt8)
        case writeWord(UInt8, UInt16)
    }

    struct State {
        /// Words as SMBus returns them (first wire byte low); a register's list is consumed
        /// in order and its last value repeats.
        var words: [UInt8: [UInt16]] = [:]
        var bytes: [UInt8: UInt8] = [:]
        var failuresLeft = 0
        var log: [Transfer] = []
    }

    let state: Mutex<State>

    init(words: [UInt8: [UInt16]] = [:], bytes: [UInt8: UInt8] = [:], failFirst: Int = 0) {
        state = Mutex(State(words: words, bytes: bytes, failuresLeft: failFirst))
    }

    var log: [Transfer] { state.withLock { $0.log } }

    private func transfer<T>(_ t: Transfer, _ body: (inout State) -> T) throws -> T {
        try state.withLock { s in
            s.log.append(t)
            if s.failuresLeft > 0 {
                s.failuresLeft -= 1
                throw FakeBusError()
            }
            return body(&s)
        }
    }

    func readByte(register: UInt8) throws -> UInt8 {
        try transfer(.readByte(register)) { $0.bytes[register] ?? 0 }
    }

    func readWord(register: UInt8) throws -> UInt16 {
        try transfer(.readWord(register)) { s in
            guard var queue = s.words[register], let first = queue.first else { return 0 }
            if queue.count > 1 { queue.removeFirst(); s.words[register] = queue }
            return first
        }
    }

    func writeWord(register: UInt8, value: UInt16) throws {
        try transfer(.writeWord(register, value)) { _ in }
    }
}

/// A big-endian register value as an SMBus word read returns it.
func smbus(_ bigEndian: UInt16) -> UInt16 { bigEndian.byteSwapped }
