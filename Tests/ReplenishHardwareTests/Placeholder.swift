import Testing
@testable import ReplenishHardware

@Test("module builds") func moduleBuilds() { #expect(Bool(true)) }
