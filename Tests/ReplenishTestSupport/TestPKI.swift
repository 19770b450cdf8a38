import Foundation
import ReplenishMQTT

/// A throwaway PKI made with the `openssl` command: a CA, a server certificate for localhost
/// (SAN DNS:localhost, IP:127.0.0.1), a client certificate, an expired client certificate, a
/// server certificate for another host name, expired, not yet valid and self-signed server
/// certificates, and an unrelated second CA. Made once per process,
/// for tests (here and in the agent's) that need a real mutual-TLS broker.
public struct TestPKI: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public let directory: URL
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    public var caFile: String { path("ca.crt") }
    public var serverCert: String { path("server.crt") }
    public var serverKey: String { path("server.key") }
    public var clientCert: String { path("client.crt") }
    public var clientKey: String { path("client.key") }
    /// Signed by the CA, valid only on 2020-01-01.
    public var expiredClientCert: String { path("expired.crt") }
    /// Signed by the CA for `other.example` only.
    public var otherHostCert: String { path("otherhost.crt") }
    public var otherHostKey: String { path("otherhost.key") }
    /// Server certificates for localhost that fail verification for one reason each: signed by the
    /// CA but valid only on 2020-01-01, signed by the CA but valid only from 2099, and self-signed.
    /// All use `serverKey`.
    public var expiredServerCert: String { path("server-expired.crt") }
    public var futureServerCert: String { path("server-future.crt") }
    public var selfSignedServerCert: String { path("server-selfsigned.crt") }
    /// A CA that signed none of the above.
    public var unrelatedCAFile: String { path("unrelated-ca.crt") }

    /// The broker listener for mutual TLS with this PKI.
    public func listener(requireCertificate: Bool = true, serverCert: String? = nil, serverKey: String? = nil) -> TestBroker.TLSListener {
        TestBroker.TLSListener(caFile: caFile, certFile: serverCert ?? self.serverCert, keyFile: serverKey ?? self.serverKey,
                                requireCertificate: requireCertificate)
    }

    /// Client TLS options with the client certificate.
    public func clientTLS(caFile: String? = nil, certFile: String? = nil) -> MQTTTLSOptions {
        MQTTTLSOptions(caFile: caFile ?? self.caFile, certFile: certFile ?? clientCert, keyFile: clientKey)
    }

    /// The PKI shared by every test in this process; creating it costs about a second.
    public static func shared() throws -> TestPKI { try made.get() }
    private static let made: Result<TestPKI, Failure> = Result { () throws(Failure) in try TestPKI.make() }

    private static let config = """
        [req]
        distinguished_name = dn
        [dn]
        [ca_ext]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [server_ext]
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:localhost, IP:127.0.0.1
        [otherhost_ext]
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:other.example
        [client_ext]
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = clientAuth
        [ca]
        default_ca = test_ca
        [test_ca]
        database = index.txt
        new_certs_dir = .
        serial = serial
        unique_subject = no
        default_md = sha256
        policy = any_name
        [any_name]
        commonName = supplied

        """

    private static func make() throws(Failure) -> TestPKI {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("replenish-pki-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try config.write(to: directory.appendingPathComponent("openssl.cnf"), atomically: true, encoding: .utf8)
            try "".write(to: directory.appendingPathComponent("index.txt"), atomically: true, encoding: .utf8)
            try "1000\n".write(to: directory.appendingPathComponent("serial"), atomically: true, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot prepare \(directory.path): \(error)")
        }
        let pki = TestPKI(directory: directory)
        func key(_ name: String) throws(Failure) {
            try pki.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name)
        }
        func selfSignedCA(_ name: String, subject: String) throws(Failure) {
            try key("\(name).key")
            try pki.openssl("req", "-config", "openssl.cnf", "-x509", "-new", "-key", "\(name).key", "-subj", subject,
                            "-days", "2", "-extensions", "ca_ext", "-out", "\(name).crt")
        }
        func request(_ name: String, subject: String) throws(Failure) {
            try key("\(name).key")
            try pki.openssl("req", "-config", "openssl.cnf", "-new", "-key", "\(name).key", "-subj", subject,
                            "-out", "\(name).csr")
        }
        func sign(_ name: String, extensions: String, as output: String? = nil) throws(Failure) {
            try pki.openssl("x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                            "-days", "2", "-extfile", "openssl.cnf", "-extensions", extensions,
                            "-out", output ?? "\(name).crt")
        }
        try selfSignedCA("ca", subject: "/CN=replenishd test CA")
        try selfSignedCA("unrelated-ca", subject: "/CN=unrelated test CA")
        try request("server", subject: "/CN=localhost")
        try sign("server", extensions: "server_ext")
        try request("otherhost", subject: "/CN=other.example")
        try sign("otherhost", extensions: "otherhost_ext")
        try request("client", subject: "/CN=test-device")
        try sign("client", extensions: "client_ext")
        // OpenSSL 3.0's x509 command has no -not_before/-not_after (3.4 has); `ca` sets both dates.
        for name in ["ca", "unrelated-ca", "server", "otherhost", "client"] {
            chmod(pki.path("\(name).key"), 0o600)
        }
        try pki.openssl("ca", "-config", "openssl.cnf", "-batch", "-notext", "-cert", "ca.crt", "-keyfile", "ca.key",
                        "-in", "client.csr", "-extfile", "openssl.cnf", "-extensions", "client_ext",
                        "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-out", "expired.crt")
        for (output, start, end) in [("server-expired.crt", "20200101000000Z", "20200102000000Z"),
                                     ("server-future.crt", "20990101000000Z", "20990102000000Z")] {
            try pki.openssl("ca", "-config", "openssl.cnf", "-batch", "-notext", "-cert", "ca.crt", "-keyfile", "ca.key",
                            "-in", "server.csr", "-extfile", "openssl.cnf", "-extensions", "server_ext",
                            "-startdate", start, "-enddate", end, "-out", output)
        }
        try pki.openssl("req", "-config", "openssl.cnf", "-x509", "-new", "-key", "server.key", "-subj", "/CN=localhost",
                        "-days", "2", "-extensions", "server_ext", "-out", "server-selfsigned.crt")
        return pki
    }

    /// Runs `openssl` in the PKI directory; a failure carries its stderr.
    private func openssl(_ arguments: String...) throws(Failure) {
        let result: (status: Int32, output: String)
        do {
            result = try ChildProcess.run("/usr/bin/env", ["openssl"] + arguments, directory: directory.path, stdout: .null)
        } catch {
            throw Failure(description: "cannot run openssl: \(error)")
        }
        guard result.status == 0 else {
            throw Failure(description: "openssl \(arguments.joined(separator: " ")) exited \(result.status):\n\(result.output)")
        }
    }
}
