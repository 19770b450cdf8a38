import FoundationEssentials

/// Dash Replenishment's order notifications as the maker's cloud receives them from Amazon SNS,
/// taken as the order commands' payload so the cloud can forward them untouched (issue 18).
///
/// From the DRS developer documentation, "Notification Messages (DRS)"
/// (https://developer.amazon.com/docs/dash/notification-messages.html): a notification has
/// `notificationInfo` (`notificationType`, `notificationId`, `notificationTime`, `version`, ...),
/// `deviceInfo`, `customerInfo` and `orderInfo`; `orderInfo` carries the order's `instanceId`,
/// the DRS `slotId` and a `productInfo` array whose items have `asin`, `quantity`, a lowercase
/// `unit` (e.g. `count`) and `estimatedDeliveryDate`. Members not read here are ignored, as the
/// page asks of receivers. GetOrderInfo (…/dash/getorderinfo-endpoint.html) says a DRS order
/// "will mostly contain only one" item: one is taken, more are refused.
enum DRSNotification {
    /// The envelope members of a notification; read (or ignored) here and removed.
    static let envelope = ["notificationInfo", "deviceInfo", "customerInfo", "orderInfo"]

    /// `notificationInfo.notificationId`: the correlationId of a notification sent without one,
    /// so a re-sent notification is applied once.
    static func notificationId(in object: [String: JSONValue]) -> String? {
        guard case .object(let info)? = object["notificationInfo"], case .string(let id)? = info["notificationId"] else {
            return nil
        }
        return id
    }

    /// `object` in today's form (`orderId`, `slot`, `quantity`, `unit`, `asin`,
    /// `estimatedDeliveryDate`) when it is a DRS notification for `name`; else unchanged. Fields
    /// given both ways must agree. `drsSlots` maps DRS slot ids to ours; a slot id that is not
    /// mapped is taken as ours (the checks of `slot` apply then).
    static func flattened(_ object: [String: JSONValue], for name: CommandName,
                          drsSlots: [String: String]) throws(CoreError) -> [String: JSONValue] {
        guard [.orderPlaced, .orderShipped, .orderCancelled].contains(name),
              object.keys.contains(where: envelope.contains) else { return object }
        var flat = object.filter { !envelope.contains($0.key) }
        guard case .object(let order)? = object["orderInfo"] else {
            throw .invalidField("orderInfo must be an object (a DRS notification's order)")
        }
        try set("orderId", from: order["instanceId"], as: "orderInfo.instanceId", in: &flat)
        if case .string(let slotId)? = order["slotId"] {
            try set("slot", from: .string(drsSlots[slotId] ?? slotId), as: "orderInfo.slotId", in: &flat)
        } else if order["slotId"] != nil {
            throw .invalidField("orderInfo.slotId must be a string")
        }
        guard name != .orderCancelled, let products = order["productInfo"] else { return flat }
        guard case .array(let items) = products, items.count == 1, case .object(let product) = items[0] else {
            throw .invalidField("orderInfo.productInfo must be an array of one product (a DRS order of one item)")
        }
        let fields = name == .orderPlaced ? ["quantity", "unit", "asin", "estimatedDeliveryDate"]
                                          : ["quantity", "estimatedDeliveryDate"]
        for field in fields where product[field] != nil {
            try set(field, from: product[field], as: "orderInfo.productInfo[0].\(field)", in: &flat)
        }
        return flat
    }

    private static func set(_ key: String, from value: JSONValue?, as source: String,
                            in object: inout [String: JSONValue]) throws(CoreError) {
        guard let value else { return }
        if let given = object[key], given != value {
            throw .invalidField("\(key) and \(source) differ")
        }
        object[key] = value
    }
}
