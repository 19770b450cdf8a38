import CMosquitto
import Logging

// What the network thread tells about a broker's answers beyond the connection itself: why it may
// have closed the connection over a retained message, and which SUBSCRIBE a SUBACK answers.
extension MQTTNetworkLoop {
    /// When the broker may have closed the connection because it does not take retained messages:
    /// mosquitto with `retain_available false` closes an MQTT 3.1.1 connection without a word, before
    /// CONNACK for a retained will, after a retained PUBLISH; empty otherwise.
    func retainRefusalHint(established: Bool, retainedPending: Bool, reason: String?, libraryErrors: [String]) -> String {
        let refusedByConnack = reason?.hasPrefix("connection refused:") == true
        let suspect = established ? retainedPending : options.will?.retain == true && !refusedByConnack && libraryErrors.isEmpty
        guard suspect else { return "" }
        let what = established ? "a retained message was unacknowledged" : "its will is retained"
        return "; the broker closed the connection while \(what), as a broker that does not take retained messages does "
            + retainRefusalCauses
    }

    /// MQTT 5 says what 3.1.1 leaves to guess (`retainRefusalHint`): reason code 0x9A, retain not supported.
    func retainNotSupportedHint(_ reasonCode: Int32, what: String) -> String {
        guard reasonCode == Int32(MQTT_RC_RETAIN_NOT_SUPPORTED.rawValue) else { return "" }
        return "; the broker does not take retained messages and \(what) " + retainRefusalCauses
    }

    /// Who refuses retained messages, and the fix.
    private var retainRefusalCauses: String {
        "(mosquitto's retain_available false, an AWS IoT Core policy without iot:RetainPublish): "
            + (options.retainRefusalFix ?? "publish without the retain flag")
    }

    /// Sends a SUBSCRIBE and, when it went out, remembers its message id for the SUBACK
    /// (`handleSubscribed`). Answers libmosquitto's result.
    static func subscribe(_ filter: String, qos: Int32, on handle: MosquittoHandle,
                          awaiting pending: inout [Int32: String]) -> Int32 {
        let (rc, mid) = handle.subscribe(filter, qos: qos)
        if rc == MosquittoLibrary.success { pending[mid] = filter }
        return rc
    }

    /// An MQTT 5 SUBACK: one reason code per filter (the granted QoS, or 0x80 and above when refused).
    func handleSubscribed(messageID: Int32, reasonCodes: [UInt8]) {
        guard let filter = state.withLock({ $0.pendingSubscriptions.removeValue(forKey: messageID) }) else { return }
        for code in reasonCodes {
            if MQTTEvent.isFailure(reasonCode: code) {
                logger.error("the broker refused the subscription", metadata: metadata.merging([
                    "mqtt.topic": "\(filter)", "reason": "\(MosquittoLibrary.describe(reasonCode: code))",
                ]) { $1 })
            } else {
                logger.debug("subscription granted", metadata: ["mqtt.topic": "\(filter)", "mqtt.qos": "\(code)"])
            }
        }
    }
}
