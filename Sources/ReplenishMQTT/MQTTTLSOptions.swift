/// TLS for the broker connection: the broker is always verified (chain and host name), and the
/// client authenticates with a certificate when `certFile` and `keyFile` are given (mutual TLS,
/// as AWS IoT Core requires).
public struct MQTTTLSOptions: Sendable, Equatable {
    /// PEM file of the CA certificates that may sign the broker's certificate.
    public var caFile: String?
    /// Directory of hashed CA certificates (`openssl rehash`); with `caFile`, both are used.
    public var caDirectory: String?
    /// PEM client certificate (chain); needs `keyFile`.
    public var certFile: String?
    /// PEM private key of `certFile`, unencrypted.
    public var keyFile: String?
    /// One ALPN protocol, e.g. `x-amzn-mqtt-ca` for AWS IoT Core on port 443. libmosquitto 2.0
    /// offers exactly one protocol name.
    public var alpn: String?
    /// The lowest TLS version accepted: `tlsv1.2` or `tlsv1.3`. For libmosquitto this is a
    /// minimum: `tlsv1.2` still negotiates TLS 1.3 with a broker that offers it.
    public var minimumVersion: String
    /// Check that the broker's certificate names the host we connect to. Only tests turn it off.
    public var verifyHostname: Bool

    public static let supportedMinimumVersions = ["tlsv1.2", "tlsv1.3"]

    public init(caFile: String? = nil, caDirectory: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                alpn: String? = nil, minimumVersion: String = "tlsv1.2", verifyHostname: Bool = true) {
        self.caFile = caFile
        self.caDirectory = caDirectory
        self.certFile = certFile
        self.keyFile = keyFile
        self.alpn = alpn
        self.minimumVersion = minimumVersion
        self.verifyHostname = verifyHostname
    }

    /// Why these options cannot work, or nil.
    var problem: String? {
        if caFile == nil && caDirectory == nil {
            return "TLS needs a CA file or a CA directory to verify the broker"
        }
        if certFile != nil && keyFile == nil { return "a client certificate needs its key file" }
        if keyFile != nil && certFile == nil { return "a client key file needs its certificate" }
        if !Self.supportedMinimumVersions.contains(minimumVersion) {
            return "minimum TLS version must be one of \(Self.supportedMinimumVersions.joined(separator: ", ")), not '\(minimumVersion)'"
        }
        if let alpn, alpn.isEmpty || alpn.utf8.count > 255 {
            return "an ALPN protocol name must be 1 to 255 bytes"
        }
        return nil
    }
}

extension MQTTTLSOptions: CustomStringConvertible {
    public var description: String {
        "TLS(ca: \(caFile ?? caDirectory ?? "-"), cert: \(certFile ?? "-"), alpn: \(alpn ?? "-"), "
            + "minimum: \(minimumVersion), verifyHostname: \(verifyHostname))"
    }
}
