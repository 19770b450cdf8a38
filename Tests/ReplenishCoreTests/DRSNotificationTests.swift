import FoundationEssentials
@testable import ReplenishCore
import ReplenishTestSupport
import Testing

/// Issue 18 item 3: the order commands take DRS's order notifications as DRS sends them. The
/// bodies below follow the shape of the samples on "Notification Messages (DRS)"
/// (developer.amazon.com/docs/dash/notification-messages.html) with values of our own.
@Suite("DRS notifications as order commands")
struct DRSNotificationTests {
    static let drsSlots = ["DescalerTabs": "pods", "Tank": "water"]

    static func decode(_ name: String, _ payload: [UInt8]) -> Result<CommandRequest, CoreError> {
        CommandDecoder.decode(name: name, payload: payload, knownSlots: ["pods", "water"], drsSlots: drsSlots)
    }

    @Test("placed, shipped and cancelled notifications decode to the commands, answered under the notificationId")
    func accepted() throws {
        let placed = try Self.decode("orderPlaced", DRSSample.notification("OrderPlacedNotification")).get()
        #expect(placed == CommandRequest(correlationId: "amzn1.dash.notification.v1.test-4711", command: .orderPlaced(
            slot: "pods", orderId: "amzn1.dash.v2.o.test-0042", quantity: 3, unit: "count", asin: "B0TESTPODS",
            estimatedDelivery: Timestamp.parse("2026-12-11T07:59:59Z"))))

        // A date alone, as some notifications carry it: the start of that day, UTC.
        let shipped = try Self.decode("orderShipped", DRSSample.notification(
            "ItemShippedNotification", id: "n-2", slotId: "Tank",
            product: #"{"asin": "B0TESTTANK", "quantity": 1800, "unit": "count", "estimatedDeliveryDate": "2026-12-09"}"#)).get()
        #expect(shipped == CommandRequest(correlationId: "n-2", command: .orderShipped(
            slot: "water", orderId: "amzn1.dash.v2.o.test-0042", quantity: 1800,
            estimatedDelivery: Timestamp.parse("2026-12-09T00:00:00Z"))))

        let cancelled = try Self.decode("orderCancelled", DRSSample.notification("OrderCancelledNotification", id: "n-3", product: nil)).get()
        #expect(cancelled == CommandRequest(correlationId: "n-3", command: .orderCancelled(slot: "pods", orderId: "amzn1.dash.v2.o.test-0042")))

        // The cloud may add its own correlationId (and may name our slot): it is used.
        let own = try Self.decode("orderCancelled", DRSSample.notification(
            "OrderCancelledNotification", slotId: "pods", product: nil, extra: #""correlationId": "cloud-9","#)).get()
        #expect(own == CommandRequest(correlationId: "cloud-9", command: .orderCancelled(slot: "pods", orderId: "amzn1.dash.v2.o.test-0042")))
    }

    @Test("what is refused, and why", arguments: [
        ("orderPlaced", DRSSample.notification("OrderPlacedNotification", product: #"{"quantity": 1}, {"quantity": 2}"#),
         "orderInfo.productInfo must be an array of one product"),
        ("orderPlaced", DRSSample.notification("OrderPlacedNotification", extra: #""orderId": "another","#),
         "orderId and orderInfo.instanceId differ"),
        ("orderPlaced", DRSSample.notification("OrderPlacedNotification", slotId: "NotOurs"), "unknown slot 'NotOurs'"),
        ("orderShipped", DRSSample.notification("ItemShippedNotification",
                                      product: #"{"quantity": 1, "estimatedDeliveryDate": "09/12/2026"}"#),
         "estimatedDeliveryDate must be an ISO 8601 date-time"),
        ("orderShipped", DRSSample.notification("ItemShippedNotification", product: #"{"quantity": 0, "asin": "B0X"}"#),
         "quantity must be a positive number"),
        ("reportNow", DRSSample.notification("OrderPlacedNotification"), "unknown field 'customerInfo'"),
        ("orderPlaced", Array(#"{"correlationId": "c", "orderInfo": "o-1"}"#.utf8), "orderInfo must be an object"),
    ] as [(String, [UInt8], String)])
    func refused(_ name: String, _ payload: [UInt8], _ reason: String) {
        guard case .failure(let error) = Self.decode(name, payload) else {
            Issue.record("accepted")
            return
        }
        #expect(error.reason.contains(reason), "\(error.reason)")
    }
}
