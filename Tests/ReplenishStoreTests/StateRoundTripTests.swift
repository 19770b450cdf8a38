import Testing
@testable import ReplenishStore

@Suite("slot states and values")
struct StateRoundTripTests {
    @Test("slot states and values round-trip, later commits overwrite them, and they survive reopening")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do {
                let store = try StateStore(path: path)
                try store.commit { transaction in
                    try transaction.setSlotState("coffee", [1, 2, 3])
                    try transaction.setSlotState("tea", [4])
                    try transaction.setValue("schedule", Array("daily".utf8))
                }
                try store.commit { transaction in
                    try transaction.setSlotState("coffee", [5, 6])
                    try transaction.setValue("empty", [])
                }
                #expect(try store.loadState().slots["coffee"] == [5, 6])
            }
            let state = try StateStore(path: path).loadState()
            #expect(state.slots == ["coffee": [5, 6], "tea": [4]])
            #expect(state.values == ["schedule": Array("daily".utf8), "empty": []])
            #expect(state.lastSeq == 0)
        }
    }

    @Test("a slot whose row is gone is no longer loaded")
    func removeSlotState() throws {
        try withStore { store, path in
            try store.commit { transaction in
                try transaction.setSlotState("coffee", [1])
                try transaction.setSlotState("tea", [2])
            }
            // The daemon never deletes a slot's row; a second connection does, as a person with sqlite3 could.
            let other = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: 1000)
            try other.execute("DELETE FROM slot_state WHERE slot_id = 'tea'", operation: "test: remove a slot")
            #expect(try store.loadState().slots == ["coffee": [1]])
        }
    }
}
