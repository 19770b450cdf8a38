import CMosquitto
#if canImport(Glibc)
import Glibc
#endif

/// The broker's certificate check, run by OpenSSL during each TLS handshake (network thread).
extension MQTTNetworkLoop {
    /// Verifies the chain and (unless turned off) that the certificate names `options.host`;
    /// when it fails, OpenSSL's reason leads the attempt's errors, so the attempt's one warning
    /// says it. Returns 1 to accept, 0 to refuse (OpenSSL's cert_verify_callback contract).
    func verifyBrokerCertificate(_ store: OpaquePointer) -> Int32 {
        // Replaces libmosquitto's per-certificate callback: OpenSSL's own verdict, nothing added.
        X509_STORE_CTX_set_verify_cb(store) { ok, _ in ok }
        if options.tls?.verifyHostname != false, let parameters = X509_STORE_CTX_get0_param(store) {
            if Self.isIPAddress(options.host) {
                X509_VERIFY_PARAM_set1_ip_asc(parameters, options.host)
            } else {
                X509_VERIFY_PARAM_set1_host(parameters, options.host, 0)
            }
        }
        let verdict = X509_verify_cert(store)
        guard verdict != 1 else { return 1 }
        let error = X509_STORE_CTX_get_error(store)
        let reason: String
        switch error {
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            reason = "host name verification failed: the broker certificate does not name \(options.host)"
        default:
            let text = X509_verify_cert_error_string(Int(error)).map { String(cString: $0) } ?? "error \(error)"
            // A broker sending its (foreign) CA along gets "self-signed certificate in certificate chain".
            let unknownCA = [X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                             X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT].contains(error)
            reason = "broker certificate rejected: \(text)\(unknownCA ? " (unknown CA: not signed by a CA in the CA file)" : "")"
        }
        attemptErrors.withLock { errors in
            if !errors.contains(reason) { errors.insert(reason, at: 0) }
        }
        return 0
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
