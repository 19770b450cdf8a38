/// How a slot is replenished; from the slot's `replenishment:` block in the config.
///
/// ```yaml
/// replenishment:
///   mode: device                 # device | cloud (default cloud)
///   lead_time_days: 7
///   safety_margin_days: 2
///   retry_after_cancel_days: 5
///   low_readings_to_request: 3
///   low_supply_hysteresis: 0.05  # fraction of capacity
///   full_tolerance: 0.02         # fraction of capacity
/// ```
public struct ReplenishmentSettings: Sendable, Equatable, Codable {
    /// Who decides to reorder.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// The device asks for a reorder (`replenishRequested`), legacy DRS style.
        case device
        /// Amazon decides from the reported levels; the device only reports.
        case cloud
    }

    /// `mode`: who decides to reorder. Default `cloud`.
    public var mode: Mode
    /// `lead_time_days`: days from a request to delivery; Dash asks for at least 7. Default 7.
    public var leadTimeDays: Int
    /// `safety_margin_days`: days added to the lead time, for late deliveries and forecast error. Default 2.
    public var safetyMarginDays: Int
    /// `retry_after_cancel_days`: after a first cancellation, days before requesting again. Default 5.
    public var retryAfterCancelDays: Int
    /// `low_readings_to_request`: consecutive readings at or below the low threshold that make a
    /// request (Amazon's rule for level sensors is 3). Default 3.
    public var lowReadingsToRequest: Int
    /// `low_supply_hysteresis`: a fraction of capacity the level must rise above the low threshold
    /// before another `lowSupply` can fire, so sensor noise around the threshold fires once. Default 0.05.
    public var lowSupplyHysteresis: Double
    /// `full_tolerance`: a refill to within this fraction of capacity counts as 100 %. Default 0.02.
    public var fullTolerance: Double

    public init(
        mode: Mode = .cloud,
        leadTimeDays: Int = 7,
        safetyMarginDays: Int = 2,
        retryAfterCancelDays: Int = 5,
        lowReadingsToRequest: Int = 3,
        lowSupplyHysteresis: Double = 0.05,
        fullTolerance: Double = 0.02
    ) {
        self.mode = mode
        self.leadTimeDays = leadTimeDays
        self.safetyMarginDays = safetyMarginDays
        self.retryAfterCancelDays = retryAfterCancelDays
        self.lowReadingsToRequest = lowReadingsToRequest
        self.lowSupplyHysteresis = lowSupplyHysteresis
        self.fullTolerance = fullTolerance
    }

    /// The YAML keys, in the order above, for the config decoder and its error messages.
    public static let yamlKeys = [
        "mode", "lead_time_days", "safety_margin_days", "retry_after_cancel_days", "low_readings_to_request",
        "low_supply_hysteresis", "full_tolerance",
    ]

    /// Seconds before the forecast run-out at which a request is due: lead time plus safety margin.
    var requestHorizon: Double { Double(leadTimeDays + safetyMarginDays) * 86_400 }
}
