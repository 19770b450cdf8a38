import Logging

/// Stable `MESSAGE_ID=`s for what operators search the journal for, e.g.
/// `journalctl -u replenishd MESSAGE_ID=3b1c…`. Never change a value: scripts depend on them.
public enum JournalMessageID: String, Sendable, CaseIterable {
    case brokerLost = "7e84898a4fff4cb4ad7ce32d14371df6"
    case brokerBack = "e03b13d95cd94afc8e9db327ae106cec"
    case outboxEvicting = "b7582c7cb1c0459e8dddda489361d570"
    case sensorFault = "fab85d59415949639a2f3bc3c056bf71"
    case sensorRecovered = "0abd409438354ae3b39b2645689df89a"
    case configRejected = "a43b30cbd6004aa9b701ff142522b2e1"
    case diskFull = "c24a29d132d845f797fc380da8aaed5c"
    case loopStalled = "23a9e0cdde344ce7b653a46cea6f24e8"

    /// The metadata key log calls use to carry the id.
    public static let metadataKey = "messageID"

    /// `["messageID": id]`, to merge into a log call's metadata.
    public var metadata: Logger.Metadata { [Self.metadataKey: .string(rawValue)] }
}
