#if canImport(Glibc)
import Glibc
#endif
import NIOSSL

/// The TLS client configuration from `--etcd-cafile`, `--etcd-certfile` and `--etcd-keyfile`,
/// checked here so that the mistakes an operator can see without a server (unreadable file,
/// expired client certificate, a key that belongs to another certificate) are named as
/// such instead of surfacing as a handshake failure.
enum EtcdTLSSetup {
    /// Verification is always on, host name / IP SAN included; roots are the CA file's
    /// certificates or the system's trust store.
    static func configuration(_ settings: EtcdClientSettings) throws(RegistryError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let caFile = settings.caFile {
            let roots = try load("the CA bundle in --etcd-cafile \(caFile)") { try NIOSSLCertificate.fromPEMFile(caFile) }
            guard !roots.isEmpty else { throw RegistryError(.config, "--etcd-cafile \(caFile) holds no PEM certificate") }
            tls.trustRoots = .certificates(roots)
        }
        switch (settings.certFile, settings.keyFile) {
        case (nil, nil):
            break
        case (let certFile?, let keyFile?):
            let chain = try load("the client certificate in --etcd-certfile \(certFile)") {
                try NIOSSLCertificate.fromPEMFile(certFile)
            }
            guard let leaf = chain.first else {
                throw RegistryError(.config, "--etcd-certfile \(certFile) holds no PEM certificate")
            }
            if let problem = validityProblem(leaf, now: registryNow()) {
                throw RegistryError(.tls, "the client certificate in --etcd-certfile \(certFile) \(problem)")
            }
            let key = try load("the private key in --etcd-keyfile \(keyFile)") { try NIOSSLPrivateKey(file: keyFile, format: .pem) }
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
            do {
                _ = try NIOSSLContext(configuration: tls)  // BoringSSL checks that the key fits the certificate
            } catch {
                throw RegistryError(.config, "the key in --etcd-keyfile \(keyFile) does not match the certificate in "
                                    + "--etcd-certfile \(certFile): give the key the certificate was issued for")
            }
        case (nil, _?):
            throw RegistryError(.config, "--etcd-keyfile needs --etcd-certfile (the client certificate it belongs to)")
        case (_?, nil):
            throw RegistryError(.config, "--etcd-certfile needs --etcd-keyfile (the certificate's private key)")
        }
        return tls
    }

    /// "expired on …" / "is not valid before …", nil while `now` is inside the validity period.
    static func validityProblem(_ certificate: NIOSSLCertificate, now: Double) -> String? {
        if Double(certificate.notValidAfter) < now {
            return "expired on \(utcText(certificate.notValidAfter)): issue a new one"
        }
        if Double(certificate.notValidBefore) > now {
            return "is not valid before \(utcText(certificate.notValidBefore)): check this node's clock or the certificate"
        }
        return nil
    }

    /// The client certificate's validity problem right now, for explaining a rejection by the
    /// server (the certificate may have expired while the agent ran).
    static func clientCertificateProblem(_ settings: EtcdClientSettings) -> String? {
        guard let certFile = settings.certFile, let leaf = try? NIOSSLCertificate.fromPEMFile(certFile).first,
              let problem = validityProblem(leaf, now: registryNow()) else { return nil }
        return "the client certificate in --etcd-certfile \(certFile) \(problem)"
    }

    private static func load<T>(_ what: String, _ body: () throws -> T) throws(RegistryError) -> T {
        do {
            return try body()
        } catch {
            let reason = access(whatPath(what), R_OK) == 0 ? "not valid PEM (\(error))" : String(cString: strerror(errno))
            throw RegistryError(.config, "cannot read \(what): \(reason)")
        }
    }

    /// The path at the end of a "the … in --flag PATH" phrase.
    private static func whatPath(_ what: String) -> String {
        String(what.split(separator: " ").last ?? "")
    }

    /// "2026-01-31 12:00:00 UTC".
    static func utcText(_ time: time_t) -> String {
        var t = time
        var parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S UTC", &parts)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
