// swift-tools-version:6.1
import PackageDescription

// The shipped (release) binary, linked for the board (issue 16):
// - with lld, relative relocations packed as DT_RELR (glibc 2.36, Debian 12): the 1.1 MB .rela.dyn
//   that every start read becomes 9 KB;
// - no dynamic symbol table beyond what the C libraries need: `-static-stdlib` links with
//   `-export-dynamic`, which exported 8,455 of our and the packages' symbols (740 KB of .dynsym,
//   .dynstr and .gnu.hash the dynamic loader searches); exports.map makes them local;
// - the functions a start and an idle day run placed side by side, in the order of startup.order
//   (`make order-file`; `make release` puts every function in a section of its own).
// Measured (`make bench`): stripped binary 19.98 -> 18.0 MB, connected idle VmRSS 22.4 -> 16.8 MiB.
let packageDirectory = Context.packageDirectory
let releaseLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                  "-Xlinker", "--version-script=\(packageDirectory)/Sources/replenishd/exports.map",
                  "-Xlinker", "--symbol-ordering-file=\(packageDirectory)/Sources/replenishd/startup.order",
                  "-Xlinker", "--no-warn-symbol-ordering"],
                 .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "replenishd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "replenishd", targets: ["replenishd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // C libraries: one module map each, found through pkg-config, installed from Debian.
        // CMosquitto also links OpenSSL: the broker certificate check that names why it failed.
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev", "libssl-dev"])]),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // The config's YAML: libyaml's parser events, composed into ReplenishAgent's own node tree.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),

        // What Swift cannot import: one GPIO API over libgpiod 1.6 or 2.x (chosen by the installed
        // gpiod.h, or -DREPLENISH_GPIOD_V2), i2c-dev ioctls. Links libgpiod through CGPIOD.
        .target(name: "CLinuxShims", dependencies: ["CGPIOD"]),

        // One dedicated POSIX thread type for the kernel waits of the GPIO drivers and MQTT.
        .target(name: "ReplenishThreads"),

        .target(name: "ReplenishCore"),
        .target(name: "ReplenishHardware", dependencies: ["ReplenishCore", "ReplenishThreads", "CGPIOD", "CLinuxShims"]),
        .target(name: "ReplenishStore", dependencies: ["ReplenishCore", "CSQLite3"]),
        .target(name: "ReplenishMQTT", dependencies: [
            "CMosquitto", "ReplenishThreads", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ReplenishSystemd", dependencies: [
            "CSystemd", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ReplenishAgent", dependencies: [
            "ReplenishCore", "ReplenishHardware", "ReplenishStore", "ReplenishMQTT", "ReplenishSystemd", "CYAML",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "replenishd", dependencies: [
            "ReplenishAgent", "ReplenishHardware", "ReplenishSystemd",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["exports.map", "startup.order"], linkerSettings: releaseLinkerSettings),

        // What only tests use: the throwaway PKI (shells out to openssl), the manual clocks, a
        // socket standing in for systemd's notify socket or the journal's, the wall-clock-only
        // ledger path, a database file read on a connection of its own.
        .target(name: "ReplenishTestSupport", dependencies: [
                    "ReplenishCore", "ReplenishMQTT", "CSQLite3", .product(name: "Logging", package: "swift-log"),
                ],
                path: "Tests/ReplenishTestSupport"),

        .testTarget(name: "ReplenishCoreTests", dependencies: ["ReplenishCore", "ReplenishTestSupport"]),
        .testTarget(name: "ReplenishHardwareTests", dependencies: ["ReplenishHardware", "ReplenishTestSupport"]),
        .testTarget(name: "ReplenishStoreTests", dependencies: ["ReplenishStore", "ReplenishTestSupport"]),
        .testTarget(name: "ReplenishMQTTTests", dependencies: ["ReplenishMQTT", "ReplenishTestSupport"]),
        .testTarget(name: "ReplenishSystemdTests", dependencies: ["ReplenishSystemd", "ReplenishTestSupport"]),
        .testTarget(name: "ReplenishAgentTests", dependencies: ["ReplenishAgent", "ReplenishTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets for `make fuzz` only (they need `-sanitize=fuzzer`, which supplies main):
// the command decoder, the config decoder and command sequences. REPLENISHD_FUZZ=1 adds them.
if Context.environment["REPLENISHD_FUZZ"] == "1" {
    package.targets += [
        .executableTarget(name: "fuzz-commands", dependencies: ["ReplenishCore"], path: "Tests/Fuzz/Commands"),
        .executableTarget(name: "fuzz-config", dependencies: ["ReplenishAgent"], path: "Tests/Fuzz/Config"),
        .executableTarget(name: "fuzz-sequence", dependencies: ["ReplenishCore"], path: "Tests/Fuzz/CommandSequence"),
    ]
}
