// libFuzzer entry point for the config decoder (`make fuzz`): any bytes as replenishd.yaml must
// give a config or a list of diagnostics naming file, line and key, never a crash.
import ReplenishAgent

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let config = try ConfigLoader.parse(text, fileName: "fuzz.yaml")
        precondition(!config.slots.isEmpty, "a config without slots was accepted")
    } catch {
        precondition(!error.diagnostics.isEmpty, "a rejected config without a diagnostic")
        for diagnostic in error.diagnostics {
            precondition(String(describing: diagnostic).hasPrefix("fuzz.yaml"), "a diagnostic that does not name the file")
        }
    }
    return 0
}

// SwiftPM links an executable's entry point as `fuzz_config_main`; libFuzzer's driver runs from it.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("fuzz_config_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzConfig)
}
