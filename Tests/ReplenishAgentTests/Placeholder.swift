import Testing
@testable import ReplenishAgent

@Test("module builds") func moduleBuilds() { #expect(Bool(true)) }
