import Testing
@testable import ReplenishMQTT

@Test("module builds") func moduleBuilds() { #expect(Bool(true)) }
