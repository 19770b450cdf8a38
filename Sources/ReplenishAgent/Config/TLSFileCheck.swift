import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

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
        while let start = rest.range(of: begin) {
            guard let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex) else { break }
            let body = rest[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
            if let der = Data(base64Encoded: String(body)), der.first == 0x30 { return nil }
            rest = rest[stop.upperBound...]
        }
        return "\(path) holds no PEM certificate (expected a -----BEGIN CERTIFICATE----- block)"
    }

    /// Nil when OpenSSL accepts `keyFile` as the private key of the certificate in `certFile`,
    /// or when libssl cannot be reached (then the connection attempt says it).
    static func pairProblem(certFile: String, keyFile: String) -> String? {
        guard let ssl = OpenSSL.shared else { return nil }
        guard let context = ssl.newContext(ssl.clientMethod()) else { return nil }
        defer { ssl.freeContext(context) }
        ssl.clearErrors()
        guard ssl.useCertificateChain(context, certFile) == 1 else {
            return "OpenSSL cannot load the certificate in \(certFile)"
        }
        guard ssl.usePrivateKey(context, keyFile, 1) == 1, ssl.checkPrivateKey(context) == 1 else {
            ssl.clearErrors()
            return "\(keyFile) is not the private key of the certificate in \(certFile) (or not an unencrypted PEM key)"
        }
        return nil
    }

    /// The few libssl calls needed, found at run time: libmosquitto already maps libssl into the
    /// process, so no build dependency on its headers is added for one check.
    private struct OpenSSL: @unchecked Sendable {
        typealias Method = @convention(c) () -> OpaquePointer?
        typealias New = @convention(c) (OpaquePointer?) -> OpaquePointer?
        typealias Free = @convention(c) (OpaquePointer?) -> Void
        typealias UseFile = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Int32
        typealias UseTypedFile = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32
        typealias Check = @convention(c) (OpaquePointer?) -> Int32
        typealias Clear = @convention(c) () -> Void

        let clientMethod: Method
        let newContext: New
        let freeContext: Free
        let useCertificateChain: UseFile
        let usePrivateKey: UseTypedFile
        let checkPrivateKey: Check
        let clearErrors: Clear

        static let shared: OpenSSL? = {
            let names = ["libssl.so.3", "libssl.so"]
            guard let handle = names.lazy.compactMap({ name in dlopen(name, RTLD_NOW | RTLD_LOCAL) }).first else { return nil }
            func symbol<T>(_ name: String, as _: T.Type) -> T? {
                dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
            }
            guard let method = symbol("TLS_client_method", as: Method.self),
                  let new = symbol("SSL_CTX_new", as: New.self), let free = symbol("SSL_CTX_free", as: Free.self),
                  let chain = symbol("SSL_CTX_use_certificate_chain_file", as: UseFile.self),
                  let key = symbol("SSL_CTX_use_PrivateKey_file", as: UseTypedFile.self),
                  let check = symbol("SSL_CTX_check_private_key", as: Check.self),
                  let clear = symbol("ERR_clear_error", as: Clear.self)
            else { return nil }
            return OpenSSL(clientMethod: method, newContext: new, freeContext: free, useCertificateChain: chain,
                           usePrivateKey: key, checkPrivateKey: check, clearErrors: clear)
        }()
    }
}
