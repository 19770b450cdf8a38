import Testing
@testable import ReplenishHardware

@Suite("Linux hardware: line specs")
struct LinuxLineSpecTests {
    @Test("CHIP:LINE names a chip by path, name or label and a line by name or offset", arguments: [
        ("gpiochip0:GPIO17", LineSpec.Chip.name("gpiochip0"), LineSpec.Line.name("GPIO17")),
        ("/dev/gpiochip0:17", .path("/dev/gpiochip0"), .offset(17)),
        ("gpio-sim.0-node0:flow", .label("gpio-sim.0-node0"), .name("flow")),
        ("pinctrl-bcm2835:GPIO4", .label("pinctrl-bcm2835"), .name("GPIO4")),
        ("gpiochipA:3", .label("gpiochipA"), .offset(3)),
        ("soc:gpio:GPIO5", .label("soc:gpio"), .name("GPIO5")),
    ])
    func parsing(text: String, chip: LineSpec.Chip, line: LineSpec.Line) throws {
        let spec = try LineSpec(parsing: text)
        #expect(spec.chip == chip)
        #expect(spec.line == line)
        #expect(spec.activeLow == false)
        #expect(spec.bias == .asIs)
    }

    @Test("a spec without both chip and line is refused with an example", arguments: ["GPIO17", ":17", "gpiochip0:", ""])
    func invalid(text: String) throws {
        let error = try #require(throws: HardwareError.self) { try LineSpec(parsing: text) }
        #expect(error.code == .invalidSpec)
        #expect(error.message.contains("e.g. gpiochip0:GPIO17"))
    }

    @Test("the description names line, chip and options as messages show them")
    func description() throws {
        #expect(try LineSpec(parsing: "gpiochip0:GPIO17", activeLow: true, bias: .pullUp).description
            == "GPIO17 on gpiochip0 (active-low, pull-up)")
        #expect(try LineSpec(parsing: "/dev/gpiochip0:17").description == "line 17 on /dev/gpiochip0")
        #expect(LineSpec(chip: .label("coffee-io"), line: .name("float-low"), bias: .disable).description
            == "float-low on coffee-io (disable)")
    }

    @Test("bias is written as in gpioset/gpiomon", arguments: LineSpec.Bias.allCases)
    func biasNames(bias: LineSpec.Bias) {
        #expect(LineSpec.Bias(rawValue: bias.rawValue) == bias)
        #expect(["as-is", "disable", "pull-up", "pull-down"].contains(bias.rawValue))
    }
}
