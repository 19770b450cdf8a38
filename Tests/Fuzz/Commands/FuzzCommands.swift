// libFuzzer entry point for the command decoder (`make fuzz`). The input is a command name, a
// newline, then the payload: what arrives on replenish/v1/<device>/commands/<name>.
import ReplenishCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommand(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let split = bytes.firstIndex(of: 0x0A) ?? bytes.endIndex
    let name = String(decoding: bytes[..<split], as: UTF8.self)
    let payload = split < bytes.endIndex ? Array(bytes[(split + 1)...]) : []
    switch CommandDecoder.decode(name: name, payload: payload, knownSlots: ["water", "pods", "descaler"]) {
    case .success(let request):
        // An accepted command carries what its reply echoes, within the decoder's bounds.
        precondition(request.correlationId.utf8.count <= CommandDecoder.maxCorrelationIdBytes, "correlationId over its bound")
        precondition(request.name.rawValue == name, "decoded as another command")
    case .failure(let rejection):
        // The rejection is logged and sent back: its text must be printable and bounded.
        precondition(rejection.reason.utf8.count < 4096, "unbounded rejection reason")
    }
    return 0
}

// SwiftPM links an executable's entry point as `fuzz_commands_main`; libFuzzer's driver runs from it.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("fuzz_commands_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzCommand)
}
