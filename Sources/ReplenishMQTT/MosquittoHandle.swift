import CMosquitto
#if canImport(Glibc)
import Glibc
#endif

/// Owns one `struct mosquitto *` for exactly one connection attempt, and destroys it in deinit.
///
/// A fresh handle per connection means libmosquitto never re-sends a message from an earlier
/// connection (the outbox does that) and message ids never mix between connections.
/// `@unchecked Sendable`: libmosquitto is in threaded mode, and `MQTTNetworkLoop` only calls
/// into it from other threads while holding its state lock, so no call sees a destroyed handle.
final class MosquittoHandle: @unchecked Sendable {
    let raw: OpaquePointer
    private(set) var protocolVersion: MQTTProtocolVersion = .v311
    private var sessionExpirySeconds: UInt32?

    /// `userdata` is handed back to the C callbacks (an unretained `MQTTNetworkLoop`, or nil when
    /// only validating options). The corresponding C function is `mosquitto_new`.
    init(options: MQTTClientOptions, userdata: UnsafeMutableRawPointer?) throws(MQTTError) {
        MosquittoLibrary.initializeOnce()
        // An empty id asks libmosquitto for a random one (allowed with a clean session only).
        let created: OpaquePointer? = options.clientID.isEmpty
            ? mosquitto_new(nil, options.cleanSession, userdata)
            : options.clientID.withCString { mosquitto_new($0, options.cleanSession, userdata) }
        guard let created else {
            let code = errno
            let reason = String(cString: strerror(code))
            throw MQTTError(code: code == EINVAL ? .invalidArgument : .mosquitto,
                            message: "mosquitto_new failed for client id '\(options.clientID)': \(reason)", errno: code)
        }
        raw = created
        try configure(options, userdata: userdata)
    }

    deinit {
        mosquitto_destroy(raw)
    }

    private func configure(_ options: MQTTClientOptions, userdata: UnsafeMutableRawPointer?) throws(MQTTError) {
        // We call mosquitto_loop on our own thread while other threads publish.
        try check(mosquitto_threaded_set(raw, true), "mosquitto_threaded_set")
        let version = options.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(raw, MOSQ_OPT_PROTOCOL_VERSION, version),
                  "setting protocol version \(options.protocolVersion.rawValue)")
        protocolVersion = options.protocolVersion
        sessionExpirySeconds = options.sessionExpirySeconds
        try check(mosquitto_max_inflight_messages_set(raw, UInt32(options.maxInflight)),
                  "setting max inflight messages to \(options.maxInflight)")
        if let username = options.username {
            try check(mosquitto_username_pw_set(raw, username, options.password),
                      "setting username and password")
        }
        if let will = options.will {
            let rc = will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set(raw, will.topic, Int32(bytes.count), bytes.baseAddress, will.qos, will.retain)
            }
            try check(rc, "setting the will on topic '\(will.topic)'", code: .invalidArgument)
        }
        if let tls = options.tls {
            try configureTLS(tls, userdata: userdata)
        }
        if options.protocolVersion == .v5 {
            setVersion5Callbacks()
        } else {
            mosquitto_connect_with_flags_callback_set(raw) { _, userdata, rc, flags in
                MQTTNetworkLoop.from(userdata)?.handleConnect(result: rc, flags: flags)
            }
            mosquitto_disconnect_callback_set(raw) { _, userdata, rc in
                MQTTNetworkLoop.from(userdata)?.handleDisconnect(result: rc)
            }
            mosquitto_publish_callback_set(raw) { _, userdata, mid in
                MQTTNetworkLoop.from(userdata)?.handlePublished(messageID: mid, reasonCode: 0)
            }
            mosquitto_message_callback_set(raw) { _, userdata, message in
                guard let message else { return }
                MQTTNetworkLoop.from(userdata)?.handleMessage(message.pointee)
            }
        }
        // Always set: TLS failures (OpenSSL's reason, host name mismatch) only arrive this way.
        // The loop turns the text into a String only for errors, warnings and trace logging.
        mosquitto_log_callback_set(raw) { _, userdata, level, text in
            guard let text else { return }
            MQTTNetworkLoop.from(userdata)?.handleLibraryLog(level: level, text: text)
        }
    }

    /// MQTT 5: the callbacks that carry reason codes (CONNACK, DISCONNECT, PUBACK, SUBACK).
    /// libmosquitto hands a CONNACK's or DISCONNECT's reason code where 3.1.1 has its result.
    private func setVersion5Callbacks() {
        mosquitto_connect_v5_callback_set(raw) { _, userdata, rc, flags, _ in
            MQTTNetworkLoop.from(userdata)?.handleConnect(result: rc, flags: flags)
        }
        mosquitto_disconnect_v5_callback_set(raw) { _, userdata, rc, _ in
            MQTTNetworkLoop.from(userdata)?.handleDisconnect(result: rc)
        }
        mosquitto_publish_v5_callback_set(raw) { _, userdata, mid, reasonCode, _ in
            MQTTNetworkLoop.from(userdata)?.handlePublished(messageID: mid, reasonCode: UInt8(truncatingIfNeeded: reasonCode))
        }
        mosquitto_message_v5_callback_set(raw) { _, userdata, message, properties in
            guard let message else { return }
            MQTTNetworkLoop.from(userdata)?.handleMessage(message.pointee, request: MosquittoProperties.request(in: properties))
        }
        mosquitto_subscribe_v5_callback_set(raw) { _, userdata, mid, count, granted, _ in
            let codes = granted.map { Array(UnsafeBufferPointer(start: $0, count: Int(max(count, 0)))) } ?? []
            MQTTNetworkLoop.from(userdata)?.handleSubscribed(messageID: mid, reasonCodes: codes.map { UInt8(truncatingIfNeeded: $0) })
        }
    }

    /// The broker is always verified (SSL_VERIFY_PEER); `tls_version` is a minimum in
    /// libmosquitto 2.0 (`tlsv1.2` turns off SSLv3, TLS 1.0 and 1.1 and keeps TLS 1.3).
    /// The corresponding C functions are `mosquitto_tls_set`, `mosquitto_tls_opts_set`,
    /// `mosquitto_tls_insecure_set` and `mosquitto_string_option(MOSQ_OPT_TLS_ALPN)`.
    private func configureTLS(_ tls: MQTTTLSOptions, userdata: UnsafeMutableRawPointer?) throws(MQTTError) {
        if let problem = tls.problem { throw MQTTError(code: .invalidArgument, message: problem) }
        try useVerificationReporter(userdata)
        // libmosquitto opens each file here and answers MOSQ_ERR_INVAL when one cannot be read.
        try check(mosquitto_tls_set(raw, tls.caFile, tls.caDirectory, tls.certFile, tls.keyFile, nil),
                  "cannot use the TLS files (\(tls))")
        let verifyPeer: Int32 = 1  // SSL_VERIFY_PEER
        try check(mosquitto_tls_opts_set(raw, verifyPeer, tls.minimumVersion, nil),
                  "setting the minimum TLS version \(tls.minimumVersion)")
        try check(mosquitto_tls_insecure_set(raw, !tls.verifyHostname), "setting TLS host name verification")
        if let alpn = tls.alpn {
            try check(mosquitto_string_option(raw, MOSQ_OPT_TLS_ALPN, alpn), "setting the ALPN protocol '\(alpn)'")
        }
    }

    /// libmosquitto logs only "certificate verify failed" when the broker's certificate is refused,
    /// and the reason (expired, not yet valid, self-signed, unknown CA) is gone once it frees the
    /// SSL. So we hand it our own SSL_CTX (it applies the TLS options to it as usual) whose
    /// certificate check is ours: OpenSSL's chain and host name verification, the reason handed to
    /// the loop (`userdata`). It replaces libmosquitto's check, which cannot find its handle on a
    /// context it did not make.
    private func useVerificationReporter(_ userdata: UnsafeMutableRawPointer?) throws(MQTTError) {
        guard let userdata else { return }
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw MQTTError(code: .mosquitto, message: "cannot create an OpenSSL context (SSL_CTX_new)")
        }
        defer { SSL_CTX_free(context) }  // libmosquitto takes its own reference
        SSL_CTX_set_cert_verify_callback(context, { store, userdata in
            guard let store, let loop = MQTTNetworkLoop.from(userdata) else { return 0 }
            return loop.verifyBrokerCertificate(store)
        }, userdata)
        try check(mosquitto_void_option(raw, MOSQ_OPT_SSL_CTX, UnsafeMutableRawPointer(context)), "using our SSL context")
        try check(mosquitto_int_option(raw, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 1), "applying the TLS options to our SSL context")
    }

    /// Blocking TCP connect and CONNECT send; CONNACK arrives later through `loop`.
    /// The corresponding C function is `mosquitto_connect`.
    /// Under MQTT 5 with the session expiry interval as a CONNECT property (`mosquitto_connect_bind_v5`).
    func connect(host: String, port: Int, keepAliveSeconds: Int) -> Int32 {
        guard protocolVersion == .v5 else { return mosquitto_connect(raw, host, Int32(port), Int32(keepAliveSeconds)) }
        let properties = MosquittoProperties()
        if let sessionExpirySeconds {
            let rc = properties.add(MQTT_PROP_SESSION_EXPIRY_INTERVAL, sessionExpirySeconds)
            guard rc == MosquittoLibrary.success else { return rc }
        }
        return mosquitto_connect_bind_v5(raw, host, Int32(port), Int32(keepAliveSeconds), nil, properties.list)
    }

    /// Waits up to `timeoutMilliseconds` for network activity (or a wake-up from another thread's
    /// publish/disconnect) and processes it. The corresponding C function is `mosquitto_loop`.
    func loop(timeoutMilliseconds: Int32) -> Int32 {
        mosquitto_loop(raw, timeoutMilliseconds, 1)
    }

    /// Queues a PUBLISH and returns its message id. The corresponding C function is `mosquitto_publish`.
    func publish(topic: String, payload: [UInt8], qos: Int32, retain: Bool,
                 properties: MQTTPublishProperties? = nil) throws(MQTTError) -> Int32 {
        let (rc, messageID) = publishResult(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties)
        switch rc {
        case MosquittoLibrary.success:
            return messageID
        case Int32(MOSQ_ERR_NO_CONN.rawValue), Int32(MOSQ_ERR_CONN_LOST.rawValue):
            throw MQTTError(code: .notConnected, message: "publish on '\(topic)' failed", mosquittoResult: rc)
        case Int32(MOSQ_ERR_INVAL.rawValue), Int32(MOSQ_ERR_PAYLOAD_SIZE.rawValue),
             Int32(MOSQ_ERR_MALFORMED_UTF8.rawValue), Int32(MOSQ_ERR_OVERSIZE_PACKET.rawValue),
             Int32(MOSQ_ERR_QOS_NOT_SUPPORTED.rawValue):
            throw MQTTError(code: .invalidArgument, message: "publish on '\(topic)' rejected", mosquittoResult: rc)
        default:
            throw MQTTError(code: .mosquitto, message: "publish on '\(topic)' failed", mosquittoResult: rc)
        }
    }

    /// The raw result and the message id libmosquitto assigned. Note: in 2.0.11 a QoS 1 publish
    /// that returns MOSQ_ERR_NO_CONN still gets an id and stays queued in the handle, to be sent
    /// if the same handle ever connects again; we never reconnect a handle.
    /// Under MQTT 5 with `properties` (`mosquitto_publish_v5`); 3.1.1 has none and ignores them.
    func publishResult(topic: String, payload: [UInt8], qos: Int32, retain: Bool,
                       properties: MQTTPublishProperties? = nil) -> (result: Int32, messageID: Int32) {
        var messageID: Int32 = 0
        guard protocolVersion == .v5, let properties, !properties.isEmpty else {
            let rc = payload.withUnsafeBytes { bytes in
                mosquitto_publish(raw, &messageID, topic, Int32(bytes.count), bytes.baseAddress, qos, retain)
            }
            return (rc, messageID)
        }
        let list = MosquittoProperties()
        for property in properties.userProperties {
            let rc = list.addUserProperty(name: property.name, value: property.value)
            guard rc == MosquittoLibrary.success else { return (rc, 0) }
        }
        if let expiry = properties.messageExpirySeconds {
            let rc = list.add(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, expiry)
            guard rc == MosquittoLibrary.success else { return (rc, 0) }
        }
        if let data = properties.correlationData {
            let rc = list.add(MQTT_PROP_CORRELATION_DATA, data)
            guard rc == MosquittoLibrary.success else { return (rc, 0) }
        }
        let rc = payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(raw, &messageID, topic, Int32(bytes.count), bytes.baseAddress, qos, retain, list.list)
        }
        return (rc, messageID)
    }

    /// The result and the SUBSCRIBE's message id (its SUBACK names it). The corresponding C function is `mosquitto_subscribe`.
    func subscribe(_ filter: String, qos: Int32) -> (result: Int32, messageID: Int32) {
        var messageID: Int32 = 0
        let rc = mosquitto_subscribe(raw, &messageID, filter, qos)
        return (rc, messageID)
    }

    /// Queues a DISCONNECT (no will) and wakes the loop. The corresponding C function is `mosquitto_disconnect`.
    @discardableResult
    func disconnect() -> Int32 {
        mosquitto_disconnect(raw)
    }

    private func check(_ rc: Int32, _ what: String, code: MQTTError.Code = .invalidArgument) throws(MQTTError) {
        guard rc == MosquittoLibrary.success else {
            throw MQTTError(code: code, message: what, mosquittoResult: rc)
        }
    }
}

/// Owns one libmosquitto MQTT 5 property list (`mosquitto_property *`), freed in deinit.
final class MosquittoProperties {
    private(set) var list: OpaquePointer?

    deinit {
        mosquitto_property_free_all(&list)
    }

    /// A four-byte integer property. The corresponding C function is `mosquitto_property_add_int32`.
    func add(_ identifier: mqtt5_property, _ value: UInt32) -> Int32 {
        mosquitto_property_add_int32(&list, Int32(identifier.rawValue), value)
    }

    /// A user property (a name and a value). The corresponding C function is `mosquitto_property_add_string_pair`.
    func addUserProperty(name: String, value: String) -> Int32 {
        mosquitto_property_add_string_pair(&list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), name, value)
    }

    /// Binary data of at most 65,535 bytes. The corresponding C function is `mosquitto_property_add_binary`.
    func add(_ identifier: mqtt5_property, _ bytes: [UInt8]) -> Int32 {
        guard bytes.count <= Int(UInt16.max) else { return MOSQ_ERR_INVAL.rawValue }
        return bytes.withUnsafeBytes {
            mosquitto_property_add_binary(&list, Int32(identifier.rawValue), $0.baseAddress, UInt16(bytes.count))
        }
    }

    /// The response topic and correlation data of a received PUBLISH's properties (libmosquitto's
    /// copies are freed here). The corresponding C functions are `mosquitto_property_read_string`
    /// and `mosquitto_property_read_binary`.
    static func request(in properties: OpaquePointer?) -> MQTTRequestProperties {
        guard let properties else { return MQTTRequestProperties() }
        var request = MQTTRequestProperties()
        var topic: UnsafeMutablePointer<CChar>?
        if mosquitto_property_read_string(properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), &topic, false) != nil,
           let topic {
            request.responseTopic = String(cString: topic)
            free(topic)
        }
        var data: UnsafeMutableRawPointer?
        var count: UInt16 = 0
        if mosquitto_property_read_binary(properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &data, &count, false) != nil {
            request.correlationData = data.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(count))) } ?? []
            free(data)
        }
        return request
    }
}
