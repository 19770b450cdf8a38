import Testing
@testable import ReplenishSystemd

@Test("module builds") func moduleBuilds() { #expect(Bool(true)) }
