import Testing
@testable import ReplenishHardware

@Suite("Linux hardware: line specs")
struct LinuxLineSpecTests {
    @Test("a chip is named by path, name or label and a line by name or offset", arguments: [
        ("gpiochip0", "GPIO17", LineSpec.Chip.name("gpiochip0"), LineSpec.Line.name("GPIO17")),
        ("/dev/gpiochip0", "17", .path("/dev/gpiochip0"), .offset(17)),
        ("gpio-sim.0-node0", "flow", .label("gpio-sim.0-node0"), .name("flow")),
        ("pinctrl-bcm2835", "GPIO4", .label("pinctrl-bcm2835"), .name("GPIO4")),
        ("gpiochipA", "3", .label("gpiochipA"), .offset(3)),
        ("soc:gpio", "GPIO5", .label("soc:gpio"), .name("GPIO5")),
        ("gpiochip0", "١٧", .name("gpiochip0"), .name("١٧")),
    ])
    func parsing(chipText: String, lineText: String, chip: LineSpec.Chip, line: LineSpec.Line) {
        #expect(LineSpec.Chip(parsing: chipText) == chip)
        #expect(LineSpec.Line(parsing: lineText) == line)
    }

    @Test("the description names line, chip and options as messages show them")
    func description() {
        #expect(LineSpec(chip: .name("gpiochip0"), line: .name("GPIO17"), activeLow: true, bias: .pullUp).description
            == "GPIO17 on gpiochip0 (active-low, pull-up)")
        #expect(LineSpec(chip: .path("/dev/gpiochip0"), line: .offset(17)).description == "line 17 on /dev/gpiochip0")
        #expect(LineSpec(chip: .label("coffee-io"), line: .name("float-low"), bias: .disable).description
            == "float-low on coffee-io (disable)")
    }

    @Test("bias is written as in gpioset/gpiomon", arguments: LineSpec.Bias.allCases)
    func biasNames(bias: LineSpec.Bias) {
        #expect(LineSpec.Bias(rawValue: bias.rawValue) == bias)
        #expect(["as-is", "disable", "pull-up", "pull-down"].contains(bias.rawValue))
    }
}
