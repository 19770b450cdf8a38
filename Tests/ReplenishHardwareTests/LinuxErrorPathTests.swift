#if canImport(Glibc)
import Glibc
#endif
import CLinuxShims
import Testing
@testable import ReplenishHardware

/// Error paths of the Linux hardware layer that need no hardware: missing chips and buses are
/// really opened (and really missing on a machine without them); messages are checked as text.
@Suite("Linux hardware: errors without hardware")
struct LinuxErrorPathTests {
    static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @Test("a GPIO chip that does not exist is reported with the chips that do",
          arguments: [LineSpec.Chip.label("replenish-no-such-chip"), .name("gpiochip999"), .path("/dev/gpiochip999")])
    func missingChip(chip: LineSpec.Chip) throws {
        let error = try #require(throws: HardwareError.self) { try GPIOChip(chip) }
        #expect(error.code == .chipNotFound)
        #expect(error.message.hasPrefix("no GPIO chip '\(chip.spec)' (found: "))
        if DeviceAccess.numberedEntries(in: "/dev", prefix: "gpiochip").isEmpty {
            #expect(error.message == "no GPIO chip '\(chip.spec)' (found: none; is the board's GPIO driver (or gpio-sim) loaded?)")
        }
    }

    @Test("the missing-chip message lists each chip with its label, or that it cannot be opened")
    func missingChipListsChips() {
        let error = GPIOChip.chipNotFound(.label("coffee-io"), found: [
            (path: "/dev/gpiochip0", name: "gpiochip0", label: "pinctrl-bcm2835"),
            (path: "/dev/gpiochip1", name: "gpiochip1", label: nil),
        ])
        #expect(error.message == "no GPIO chip 'coffee-io' (found: gpiochip0 [pinctrl-bcm2835], gpiochip1 [no access])")
    }

    @Test("an I2C bus that does not exist says what to load")
    func missingI2CBus() throws {
        try #require(!Self.fileExists("/dev/i2c-99"), "this machine has /dev/i2c-99")
        let error = try #require(throws: HardwareError.self) { try I2CBus(99) }
        #expect(error.code == .busNotFound)
        #expect(error.errno == ENOENT)
        #expect(error.message.hasPrefix("no I2C bus /dev/i2c-99 (found: "))
        if DeviceAccess.numberedEntries(in: "/dev", prefix: "i2c-").isEmpty {
            #expect(error.message.contains("modprobe i2c-dev"))
        }
    }

    @Test("the missing-bus message lists the buses there are")
    func missingBusListsBuses() {
        let error = I2CBus.busNotFound(path: "/dev/i2c-3", found: ["i2c-1", "i2c-20"])
        #expect(error.message == "no I2C bus /dev/i2c-3 (found: i2c-1, i2c-20; check the bus number, and that i2c-dev is loaded)")
    }

    @Test("permission denied names the device and the group to join")
    func permissionDenied() {
        let gpio = HardwareError.permissionDenied(path: "/dev/gpiochip0", group: "gpio")
        #expect(gpio.code == .permissionDenied)
        #expect(gpio.message == "cannot open /dev/gpiochip0: permission denied; add the service user to group 'gpio'")
        let i2c = HardwareError.permissionDenied(path: "/dev/i2c-1", group: "i2c")
        #expect(i2c.message == "cannot open /dev/i2c-1: permission denied; add the service user to group 'i2c'")
        let rootOwned = HardwareError.permissionDenied(path: "/dev/i2c-1", group: "root")
        #expect(rootOwned.message.contains("udev rule"))
        #expect(rootOwned.message.contains("'i2c'"))
    }

    @Test("EPERM is a device policy, not a group to join; an unmapped group is said to be one")
    func devicePolicyDenied() {
        // systemd's DevicePolicy=closed answers EPERM when i2c-dev was not loaded as the unit started.
        let i2c = HardwareError.permissionDenied(path: "/dev/i2c-1", group: "nogroup", errno: EPERM)
        #expect(i2c.message.hasPrefix("cannot open /dev/i2c-1: not permitted by the device policy;"))
        #expect(i2c.message.contains("i2c-dev module was not loaded when the service started"))
        #expect(!i2c.message.contains("add the service user"))
        let gpio = HardwareError.permissionDenied(path: "/dev/gpiochip0", group: "gpio", errno: EPERM)
        #expect(gpio.message.contains("DeviceAllow=char-gpiochip"))
        // EACCES under PrivateUsers=yes: the device's real group shows as nogroup.
        let hidden = HardwareError.permissionDenied(path: "/dev/i2c-1", group: "nogroup")
        #expect(hidden.message.contains("not visible here"))
        #expect(!hidden.message.contains("group 'nogroup'"))
    }

    @Test("the group comes from the device file's gid")
    func groupFromDeviceFile() {
        // /dev/null is root:root on Debian; the lookup goes through stat and getgrgid_r.
        #expect(DeviceAccess.group(of: "/dev/null") == "root")
        #expect(DeviceAccess.group(of: "/dev/replenish-no-such-device") == nil)
        #expect(HardwareError.permissionDenied(path: "/dev/null").message.contains("group 'root'"))
    }

    @Test("device entries are listed in numeric order")
    func numericOrder() throws {
        var template = Array("/tmp/replenish-dev-XXXXXX".utf8CString)
        let directory = try #require(mkdtemp(&template).map { String(cString: $0) })
        defer {
            for name in ["gpiochip10", "gpiochip2", "gpiochipX", "i2c-1"] { unlink("\(directory)/\(name)") }
            rmdir(directory)
        }
        for name in ["gpiochip10", "gpiochip2", "gpiochipX", "i2c-1"] {
            close(open("\(directory)/\(name)", O_CREAT | O_WRONLY, 0o600))
        }
        #expect(DeviceAccess.numberedEntries(in: directory, prefix: "gpiochip") == ["gpiochip2", "gpiochip10"])
        #expect(DeviceAccess.numberedEntries(in: directory, prefix: "i2c-") == ["i2c-1"])
    }

    @Test("errno text and hex addresses read as in i2c-tools")
    func formatting() {
        #expect(errnoText(ENOENT) == "No such file or directory")
        #expect(hex(UInt16(0x48)) == "0x48")
        #expect(hex(UInt8(5)) == "0x05")
    }

    @Test("this build uses libgpiod 1.6, Debian 12's")
    func libgpiodVersion() {
        #expect(rpl_gpio_api_major() == 1)  // the shim's own answer, as `make check-gpiod2` prints it
    }
}
