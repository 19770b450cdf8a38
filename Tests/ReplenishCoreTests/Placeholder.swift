import Testing
@testable import ReplenishCore

@Test("module builds") func moduleBuilds() { #expect(Bool(true)) }
