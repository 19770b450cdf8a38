import CMosquitto

/// Whether a client certificate and its key belong together, asked of OpenSSL without connecting
/// (`replenishd check`): the same library libmosquitto will hand them to.
public enum TLSKeyPair {
    /// Nil when OpenSSL takes `keyFile` as the private key of the certificate in `certFile`.
    public static func problem(certFile: String, keyFile: String) -> String? {
        guard let context = SSL_CTX_new(TLS_client_method()) else { return nil }
        defer { SSL_CTX_free(context) }
        defer { ERR_clear_error() }
        guard SSL_CTX_use_certificate_chain_file(context, certFile) == 1 else {
            return "OpenSSL cannot load the certificate in \(certFile)"
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(context) == 1 else {
            return "\(keyFile) is not the private key of the certificate in \(certFile) (or not an unencrypted PEM key)"
        }
        return nil
    }
}
