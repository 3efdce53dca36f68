#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

/// A failed exchange with one endpoint as a `RegistryError`: the kind decides fail-over,
/// the message names the endpoint, the flag involved and the fix.
///
/// Whether the request could have reached etcd is known from the client (`requestSent`:
/// the request head was written): before that, a broken connection is `.unreachable`;
/// after it, `.io` or `.timeout`, which are never sent elsewhere again.
enum EtcdTransportFailure {
    static func classify(_ error: any Error, endpoint: EtcdEndpoint, requestSent: Bool,
                         settings: EtcdClientSettings) -> RegistryError {
        if let tls = tlsReason(error) {
            return tlsFailure(tls, endpoint: endpoint, settings: settings)
        }
        // A TLS listener drops a plain-HTTP client by a close or a reset, whichever the
        // timing gives: for http:// endpoints both read the same, so the agent's log says it
        // once instead of flipping between two texts on every retry.
        if !endpoint.isTLS && isDroppedConnection(error) {
            return RegistryError(requestSent ? .io : .unreachable,
                                 "etcd \(endpoint) dropped the connection without a reply" + plainHint(endpoint))
        }
        let connectionLost = requestSent
            ? RegistryError(.io, "etcd \(endpoint) closed the connection without a reply (\(error))" + plainHint(endpoint))
            : RegistryError(.unreachable, "etcd \(endpoint) unreachable: \(error)" + plainHint(endpoint))
        switch error {
        case let e as HTTPClientError:
            switch e {
            case .connectTimeout:
                return RegistryError(.unreachable, "etcd \(endpoint) unreachable: connect timed out")
            case .tlsHandshakeTimeout:
                return RegistryError(.tls, "etcd \(endpoint): the TLS handshake timed out; is it a TLS listener?")
            case .deadlineExceeded, .readTimeout, .cancelled:
                return requestSent ? RegistryError(.timeout, "etcd \(endpoint) did not answer in time")
                                   : RegistryError(.unreachable, "etcd \(endpoint) unreachable: no connection in time")
            case .remoteConnectionClosed, .uncleanShutdown:
                return connectionLost
            default:
                return requestSent ? RegistryError(.io, "etcd \(endpoint): \(e)") : RegistryError(.unreachable, "etcd \(endpoint): \(e)")
            }
        case let e as IOError:
            let reason = String(cString: strerror(e.errnoCode))
            return requestSent ? RegistryError(.io, "etcd \(endpoint): \(reason) after the request was sent")
                               : RegistryError(.unreachable, "etcd \(endpoint) unreachable: \(reason)"
                                               + (e.errnoCode == ECONNRESET ? plainHint(endpoint) : ""))
        case let e as NIOConnectionError:
            let reasons = e.connectionErrors.map { single -> String in
                if let io = single.error as? IOError { return String(cString: strerror(io.errnoCode)) }
                return "\(single.error)"
            }
            let reason = reasons.isEmpty ? "cannot resolve \(e.host)" : Array(Set(reasons)).sorted().joined(separator: ", ")
            return RegistryError(.unreachable, "etcd \(endpoint) unreachable: \(reason)")
        case ChannelError.connectTimeout:
            return RegistryError(.unreachable, "etcd \(endpoint) unreachable: connect timed out")
        default:
            return connectionLost
        }
    }

    /// The peer ended the connection: a close before the reply, an unclean shutdown, or a reset.
    static func isDroppedConnection(_ error: any Error) -> Bool {
        switch error {
        case let e as HTTPClientError: return e == .remoteConnectionClosed || e == .uncleanShutdown
        case let e as IOError: return e.errnoCode == ECONNRESET || e.errnoCode == EPIPE
        default: return false
        }
    }

    /// What went wrong in TLS, from swift-nio-ssl's error or BoringSSL's reason name.
    enum TLSReason: Equatable {
        /// Our verification of the server's certificate failed.
        case serverCertificateUntrusted
        /// The certificate is fine but not for this host name / IP address.
        case hostnameMismatch
        /// The server answered the ClientHello with something that is not TLS.
        case serverNotTLS
        /// The server sent an alert about our client certificate, or demanded one.
        case clientCertificateRejected(alert: String)
        /// The key does not belong to the certificate (found when the context is built).
        case keyMismatch
        /// Any other TLS failure, with its text.
        case other(String)
    }

    static func tlsReason(_ error: any Error) -> TLSReason? {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname { return .hostnameMismatch }
        guard error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError else { return nil }
        return tlsReason(text: "\(error)")
    }

    /// BoringSSL's reason names (`ERR_reason_error_string`) are stable across versions;
    /// they are what distinguishes the cases, as swift-nio-ssl exposes no codes.
    static func tlsReason(text: String) -> TLSReason {
        let upper = text.uppercased()
        if upper.contains("CERTIFICATE_VERIFY_FAILED") { return .serverCertificateUntrusted }
        if upper.contains("WRONG_VERSION_NUMBER") || upper.contains("HTTP_REQUEST") || upper.contains("UNKNOWN_PROTOCOL") {
            return .serverNotTLS
        }
        if upper.contains("KEY_VALUES_MISMATCH") { return .keyMismatch }
        for alert in ["BAD_CERTIFICATE", "UNKNOWN_CA", "CERTIFICATE_EXPIRED", "CERTIFICATE_REQUIRED",
                      "CERTIFICATE_REVOKED", "UNSUPPORTED_CERTIFICATE", "CERTIFICATE_UNKNOWN", "ALERT_HANDSHAKE_FAILURE",
                      "ALERT_ACCESS_DENIED", "ALERT_DECRYPT_ERROR"] where upper.contains(alert) {
            return .clientCertificateRejected(alert: alert.lowercased().replacingUnderscores())
        }
        return .other(text)
    }

    static func tlsFailure(_ reason: TLSReason, endpoint: EtcdEndpoint, settings: EtcdClientSettings) -> RegistryError {
        switch reason {
        case .serverCertificateUntrusted:
            if let caFile = settings.caFile {
                return RegistryError(.tls, "etcd \(endpoint): the server certificate is not signed by the CA in "
                                     + "--etcd-cafile \(caFile): give the CA that issued etcd's --cert-file")
            }
            return RegistryError(.tls, "etcd \(endpoint): the server certificate is not trusted by the system's CAs: "
                                 + "give the CA that issued it with --etcd-cafile")
        case .hostnameMismatch:
            return RegistryError(.tls, "etcd \(endpoint): the server certificate is not issued for \(endpoint.host) "
                                 + "(no matching DNS or IP subject alternative name): reissue it with that SAN or use the name it has")
        case .serverNotTLS:
            return RegistryError(.tls, "etcd \(endpoint) does not speak TLS: use http://\(endpoint.authority) in --etcd-endpoints")
        case .keyMismatch:
            return RegistryError(.config, "the key in --etcd-keyfile \(settings.keyFile ?? "-") does not match the "
                                 + "certificate in --etcd-certfile \(settings.certFile ?? "-")")
        case .clientCertificateRejected(let alert):
            guard let certFile = settings.certFile else {
                return RegistryError(.tls, "etcd \(endpoint) requires a client certificate (TLS alert: \(alert)): "
                                     + "give --etcd-certfile and --etcd-keyfile")
            }
            if let problem = EtcdTLSSetup.clientCertificateProblem(settings) {
                return RegistryError(.tls, "etcd \(endpoint) rejected our client certificate: \(problem)")
            }
            return RegistryError(.tls, "etcd \(endpoint) rejected the client certificate in --etcd-certfile \(certFile) "
                                 + "(TLS alert: \(alert)): it must be issued by a CA in etcd's --trusted-ca-file")
        case .other(let text):
            return RegistryError(.tls, "etcd \(endpoint): TLS failed: \(text)")
        }
    }

    /// The server's certificate verified badly because of its dates, not its issuer.
    static func serverCertificateOutOfDate(_ endpoint: EtcdEndpoint, problem: String) -> RegistryError {
        RegistryError(.tls, "etcd \(endpoint): the server certificate (etcd's --cert-file) \(problem)")
    }

    /// For `http://` endpoints that drop the connection: the usual cause is a TLS listener.
    private static func plainHint(_ endpoint: EtcdEndpoint) -> String {
        endpoint.isTLS ? "" : " (if etcd serves TLS there, use https://\(endpoint.authority) in --etcd-endpoints)"
    }

    /// Go's reply to plain HTTP on a TLS listener: "400 … Client sent an HTTP request to an HTTPS server."
    static func isPlainHTTPToTLS(status: Int, body: [UInt8]) -> Bool {
        status == 400 && String(decoding: body.prefix(200), as: UTF8.self).contains("HTTP request to an HTTPS server")
    }

    static func plainHTTPToTLS(_ endpoint: EtcdEndpoint) -> RegistryError {
        RegistryError(.tls, "etcd \(endpoint) speaks TLS: use https://\(endpoint.authority) in --etcd-endpoints "
                      + "(with --etcd-cafile, and --etcd-certfile/--etcd-keyfile if etcd wants client certificates)")
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
