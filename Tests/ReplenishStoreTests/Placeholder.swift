import Testing
@testable import ReplenishStore

@Test("module builds") func moduleBuilds() { #expect(Bool(true)) }
