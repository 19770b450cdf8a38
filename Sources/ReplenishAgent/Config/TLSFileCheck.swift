import FoundationEssentials
import ReplenishMQTT

/// What `check` can say about TLS files without connecting: a CA or certificate file holds at
/// least one PEM certificate, and a client certificate and key belong together.
enum TLSFileCheck {
    /// Nil when `pem` holds a certificate block whose body is base64 of a DER sequence.
    static func certificateProblem(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return "cannot read \(path) as text (expected PEM certificates)"
        }
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        var rest = Substring(text)
        while let start = rest.firstRange(of: begin) {
            guard let stop = rest[start.upperBound...].firstRange(of: end) else { break }
            let body = rest[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
            if let der = Data(base64Encoded: String(body)), der.first == 0x30 { return nil }
            rest = rest[stop.upperBound...]
        }
        return "\(path) holds no PEM certificate (expected a -----BEGIN CERTIFICATE----- block)"
    }

    /// Nil when OpenSSL accepts `keyFile` as the private key of the certificate in `certFile`.
    static func pairProblem(certFile: String, keyFile: String) -> String? {
        TLSKeyPair.problem(certFile: certFile, keyFile: keyFile)
    }
}
