/// DRS order notifications for tests: the shape of the samples on "Notification Messages (DRS)"
/// (developer.amazon.com/docs/dash/notification-messages.html), every value our own.
public enum DRSSample {
    /// A notification of `type` for `order`, with our values; `product` nil leaves productInfo out.
    public static func notification(_ type: String, id: String = "amzn1.dash.notification.v1.test-4711",
                             slotId: String = "DescalerTabs", order: String = "amzn1.dash.v2.o.test-0042",
                             product: String? = #"{"asin": "B0TESTPODS", "quantity": 3.0, "unit": "count", "estimatedDeliveryDate": "2026-12-11T07:59:59Z"}"#,
                             extra: String = "") -> [UInt8] {
        let products = product.map { #", "productInfo": [\#($0)]"# } ?? ""
        return Array("""
        {\(extra)
          "notificationInfo": {"notificationType": "\(type)", "lwaClientId": "amzn1.application-oa2-client.test",
                               "notificationTime": "2026-12-04T21:00:00.123Z", "notificationId": "\(id)", "version": "2015-06-05"},
          "deviceInfo": {"deviceIdentifier": {"serialNumber": "CM-000123"}, "productIdentifier": {"modelId": "CM-2"}},
          "customerInfo": {"directedCustomerId": "amzn1.account.TESTCUSTOMER"},
          "orderInfo": {"instanceId": "\(order)", "slotId": "\(slotId)"\(products)}
        }
        """.utf8)
    }

}
