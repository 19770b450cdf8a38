/// Which GPIO line a driver uses and how: chip (label, name or path), line (name or offset),
/// active-low and bias, as the config's `chip:` and `line:` give them.
public struct LineSpec: Sendable, Hashable, CustomStringConvertible {
    /// How the chip is named.
    public enum Chip: Sendable, Hashable, CustomStringConvertible {
        /// A device path, "/dev/gpiochip0".
        case path(String)
        /// A kernel name, "gpiochip0".
        case name(String)
        /// A chip label, "pinctrl-bcm2835" or "gpio-sim.0-node0".
        case label(String)

        /// "/..." is a path, "gpiochipN" a name, anything else a label.
        public init(parsing text: String) {
            if text.hasPrefix("/") {
                self = .path(text)
            } else if text.hasPrefix("gpiochip"), Int(text.dropFirst("gpiochip".count)) != nil {
                self = .name(text)
            } else {
                self = .label(text)
            }
        }

        /// The string the C shim resolves (path, name or label alike).
        public var spec: String {
            switch self {
            case .path(let text), .name(let text), .label(let text): return text
            }
        }

        public var description: String { spec }
    }

    /// How the line is named.
    public enum Line: Sendable, Hashable, CustomStringConvertible {
        case name(String)
        case offset(UInt32)

        /// All digits is an offset; anything else a line name such as "GPIO17".
        public init(parsing text: String) {
            if !text.isEmpty, text.allSatisfy(\.isASCII), let offset = UInt32(text) {
                self = .offset(offset)
            } else {
                self = .name(text)
            }
        }

        public var description: String {
            switch self {
            case .name(let name): return name
            case .offset(let offset): return "line \(offset)"
            }
        }
    }

    /// Internal pull resistors; the kernel applies them where the hardware supports it.
    public enum Bias: String, Sendable, Hashable, CaseIterable {
        case asIs = "as-is"
        case disable = "disable"
        case pullUp = "pull-up"
        case pullDown = "pull-down"
    }

    public var chip: Chip
    public var line: Line
    public var activeLow: Bool
    public var bias: Bias

    public init(chip: Chip, line: Line, activeLow: Bool = false, bias: Bias = .asIs) {
        self.chip = chip
        self.line = line
        self.activeLow = activeLow
        self.bias = bias
    }

    /// "GPIO17 on gpiochip0 (active-low, pull-up)".
    public var description: String {
        var options: [String] = []
        if activeLow { options.append("active-low") }
        if bias != .asIs { options.append(bias.rawValue) }
        let suffix = options.isEmpty ? "" : " (\(options.joined(separator: ", ")))"
        return "\(line) on \(chip)\(suffix)"
    }
}
