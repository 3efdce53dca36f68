import AsyncHTTPClient
import Glibc
import NIOCore
import Testing
@testable import SubnetRegistry

/// The etcd client's decisions without a server: how the watch body becomes messages, when
/// a request is re-authenticated or sent to another endpoint, and what an operator reads.
@Suite struct EtcdTransportTests {
    // MARK: watch stream line splitting

    @Test func watchLinesSurviveAnyChunking() {
        let messages = [#"{"result":{"created":true}}"#, #"{"result":{"events":[{"kv":{"key":"YQ=="}}]}}"#, "", "x"]
        let text = Array(messages.joined(separator: "\n").utf8) + [UInt8(ascii: "\n")]
        for size in [1, 2, 3, 7, 16, text.count] {
            var lines = EtcdWatchLines()
            var got: [String] = []
            var offset = 0
            while offset < text.count {
                lines.append(Array(text[offset..<min(offset + size, text.count)]))
                offset += size
                while let line = lines.next() { got.append(String(decoding: line, as: UTF8.self)) }
            }
            #expect(got == messages, "chunk size \(size)")
            #expect(lines.incompleteCount == 0)
        }
    }

    @Test func watchLinesHoldAnIncompleteMessage() {
        var lines = EtcdWatchLines()
        lines.append(Array("{\"a\":".utf8))
        #expect(lines.next() == nil)
        #expect(lines.next() == nil)  // asking again changes nothing
        lines.append(Array("1}\n{\"b\"".utf8))
        #expect(lines.next() == Array("{\"a\":1}".utf8))
        #expect(lines.next() == nil)
        #expect(lines.incompleteCount == 4)
    }

    // MARK: auth

    @Test func etcdRefusalsAreSorted() {
        #expect(EtcdErrorReply.classify(code: 16, message: "etcdserver: invalid auth token") == .tokenRejected)
        #expect(EtcdErrorReply.classify(code: nil, message: "etcdserver: auth token is expired") == .tokenRejected)
        #expect(EtcdErrorReply.classify(code: 9, message: "etcdserver: revision of auth store is old") == .tokenRejected)
        #expect(EtcdErrorReply.classify(code: 16, message: "something new") == .tokenRejected)
        #expect(EtcdErrorReply.classify(code: 3, message: "etcdserver: authentication failed, invalid user ID or password")
                == .credentialsRejected)
        #expect(EtcdErrorReply.classify(code: 3, message: "etcdserver: user name is empty") == .credentialsMissing)
        #expect(EtcdErrorReply.classify(code: 7, message: "etcdserver: permission denied") == .permissionDenied)
        #expect(EtcdErrorReply.classify(code: 9, message: "etcdserver: authentication is not enabled") == .authNotEnabled)
        #expect(EtcdErrorReply.classify(code: 14, message: "etcdserver: no leader") == .other("etcdserver: no leader"))
    }

    @Test func gatewayErrorBodyIsDecoded() {
        let body = Array(#"{"error":"etcdserver: permission denied","code":7,"message":"etcdserver: permission denied"}"#.utf8)
        let (code, message) = EtcdErrorReply.decode(status: 403, body: body)
        #expect(code == 7 && message == "etcdserver: permission denied")
        let stream = Array(#"{"error":{"grpc_code":16,"http_code":401,"message":"etcdserver: invalid auth token"}}"#.utf8)
        #expect(EtcdErrorReply.decode(status: 401, body: stream) == (16, "etcdserver: invalid auth token"))
        #expect(EtcdErrorReply.decode(status: 502, body: Array("bad gateway".utf8)).message == "bad gateway")
    }

    @Test func onlyARejectedTokenIsRetriedAndOnlyOnce() {
        #expect(EtcdAuthRetry.shouldAuthenticateAgain(.tokenRejected, hasCredentials: true, alreadyRetried: false))
        #expect(!EtcdAuthRetry.shouldAuthenticateAgain(.tokenRejected, hasCredentials: true, alreadyRetried: true))
        #expect(!EtcdAuthRetry.shouldAuthenticateAgain(.tokenRejected, hasCredentials: false, alreadyRetried: false))
        for reply in [EtcdErrorReply.credentialsRejected, .credentialsMissing, .permissionDenied, .other("x")] {
            #expect(!EtcdAuthRetry.shouldAuthenticateAgain(reply, hasCredentials: true, alreadyRetried: false))
        }
        // A watch reports a stale token as denied: it is reopened once with a fresh one.
        #expect(EtcdAuthRetry.shouldReopenWatch(.permissionDenied, hasCredentials: true, alreadyRetried: false))
        #expect(!EtcdAuthRetry.shouldReopenWatch(.permissionDenied, hasCredentials: true, alreadyRetried: true))
        #expect(!EtcdAuthRetry.shouldReopenWatch(.credentialsRejected, hasCredentials: true, alreadyRetried: false))
    }

    @Test func authMessagesSayWhatToFix() {
        let e = EtcdEndpoint(url: "https://10.0.0.250:2379")!
        let denied = EtcdErrorReply.permissionDenied.registryError(endpoint: e, path: "/v3/kv/range", username: "flannel",
                                                                   prefix: "/coreos.com/network")
        #expect(denied.kind == .permissionDenied)
        #expect(denied.message.contains("grant user flannel's role read/write on /coreos.com/network/"))
        let wrong = EtcdErrorReply.credentialsRejected.registryError(endpoint: e, path: "/v3/auth/authenticate",
                                                                      username: "flannel", prefix: "/p")
        #expect(wrong.kind == .authentication && wrong.message.contains("--etcd-password"))
        let none = EtcdErrorReply.credentialsMissing.registryError(endpoint: e, path: "/v3/kv/range", username: nil, prefix: "/p")
        #expect(none.kind == .authentication && none.message.contains("authentication enabled"))
    }

    // MARK: fail-over

    @Test func failOverOnlyWhenTheRequestCannotHaveReachedEtcd() {
        for kind in RegistryError.Kind.allCases {
            #expect(EtcdFailover.triesNextEndpoint(after: kind) == (kind == .unreachable || kind == .tls), "\(kind)")
        }
    }

    @Test func transportErrorsAreKindedBySentOrNot() {
        let e = EtcdEndpoint(url: "http://10.0.0.1:2379")!
        let settings = EtcdClientSettings(endpoints: [e.description])
        let refused = IOError(errnoCode: ECONNREFUSED, reason: "connect")
        #expect(EtcdTransportFailure.classify(refused, endpoint: e, requestSent: false, settings: settings).kind == .unreachable)
        let reset = IOError(errnoCode: ECONNRESET, reason: "read")
        #expect(EtcdTransportFailure.classify(reset, endpoint: e, requestSent: true, settings: settings).kind == .io)
        #expect(EtcdTransportFailure.classify(HTTPClientError.connectTimeout, endpoint: e, requestSent: false,
                                              settings: settings).kind == .unreachable)
        #expect(EtcdTransportFailure.classify(HTTPClientError.deadlineExceeded, endpoint: e, requestSent: true,
                                              settings: settings).kind == .timeout)
        #expect(EtcdTransportFailure.classify(HTTPClientError.remoteConnectionClosed, endpoint: e, requestSent: true,
                                              settings: settings).kind == .io)
        let closed = EtcdTransportFailure.classify(HTTPClientError.remoteConnectionClosed, endpoint: e, requestSent: false,
                                                   settings: settings)
        #expect(closed.kind == .unreachable && closed.message.contains("use https://10.0.0.1:2379"))
    }

    @Test func combinedFailureKeepsASharedKind() {
        let a = RegistryError(.tls, "a"), b = RegistryError(.tls, "b"), c = RegistryError(.unreachable, "c")
        #expect(EtcdFailover.combined([a, b]) == RegistryError(.tls, "a; b"))
        #expect(EtcdFailover.combined([a, c]).kind == .unreachable)
        #expect(EtcdFailover.combined([c]) == c)
    }

    // MARK: TLS messages

    @Test func tlsReasonsFromBoringSSL() {
        typealias R = EtcdTransportFailure.TLSReason
        #expect(EtcdTransportFailure.tlsReason(text: "handshakeFailed(sslError([Error: 268435581 error:1000007d:SSL routines:"
                                               + "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED]))") == R.serverCertificateUntrusted)
        #expect(EtcdTransportFailure.tlsReason(text: "error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER")
                == R.serverNotTLS)
        #expect(EtcdTransportFailure.tlsReason(text: "error:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE")
                == R.clientCertificateRejected(alert: "bad certificate"))
        #expect(EtcdTransportFailure.tlsReason(text: "OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED")
                == R.clientCertificateRejected(alert: "certificate required"))
    }

    @Test func tlsMessagesNameFlagAndFile() {
        let e = EtcdEndpoint(url: "https://10.0.0.250:2379")!
        let withCA = EtcdClientSettings(endpoints: [e.description], caFile: "/etc/ca.pem")
        let unknownCA = EtcdTransportFailure.tlsFailure(.serverCertificateUntrusted, endpoint: e, settings: withCA)
        #expect(unknownCA.kind == .tls
                && unknownCA.message.contains("the server certificate is not signed by the CA in --etcd-cafile /etc/ca.pem"))
        let plain = EtcdTransportFailure.tlsFailure(.serverNotTLS, endpoint: e, settings: withCA)
        #expect(plain.message.contains("use http://10.0.0.250:2379"))
        let noCert = EtcdTransportFailure.tlsFailure(.clientCertificateRejected(alert: "certificate required"), endpoint: e,
                                                     settings: withCA)
        #expect(noCert.message.contains("requires a client certificate") && noCert.message.contains("--etcd-certfile"))
        let toTLS = Array("Client sent an HTTP request to an HTTPS server.\n".utf8)
        #expect(EtcdTransportFailure.isPlainHTTPToTLS(status: 400, body: toTLS))
        #expect(!EtcdTransportFailure.isPlainHTTPToTLS(status: 400, body: Array("{}".utf8)))
    }

    @Test func tlsFilesAreCheckedBeforeConnecting() {
        func setupError(_ s: EtcdClientSettings) -> RegistryError? {
            do throws(RegistryError) { _ = try EtcdTLSSetup.configuration(s); return nil } catch { return error }
        }
        let missingCA = setupError(EtcdClientSettings(endpoints: [], caFile: "/nonexistent/ca.pem"))
        #expect(missingCA?.kind == .config && missingCA?.message.contains("--etcd-cafile /nonexistent/ca.pem") == true)
        let half = setupError(EtcdClientSettings(endpoints: [], certFile: "/x/c.pem"))
        #expect(half?.kind == .config && half?.message.contains("--etcd-keyfile") == true)
        #expect(setupError(EtcdClientSettings(endpoints: [])) == nil)  // system roots, no client certificate
    }

    // MARK: encodings

    @Test func base64EncoderMatchesTheDecoder() {
        #expect(EtcdJSON.base64("") == "")
        #expect(EtcdJSON.base64("f") == "Zg==")
        #expect(EtcdJSON.base64("fo") == "Zm8=")
        #expect(EtcdJSON.base64("foo") == "Zm9v")
        #expect(EtcdJSON.base64([0xff, 0xfe, 0x00, 0x3e, 0x3f]) == "//4APj8=")
        var bytes: [UInt8] = []
        for n in 0..<300 {
            let text = EtcdJSON.base64(bytes)
            #expect(EtcdJSON.decodeBase64(bytes: Array(text.utf8)[...]) == bytes, "\(n) bytes")
            bytes.append(UInt8(truncatingIfNeeded: n &* 37 &+ 11))
        }
    }

    @Test func registrySettingsAreChecked() {
        #expect(throws: RegistryError(.config, "--etcd-username needs --etcd-password")) {
            _ = try EtcdRegistry(settings: EtcdClientSettings(endpoints: ["https://10.0.0.1"], username: "u"))
        }
        #expect(throws: RegistryError.self) { _ = try EtcdRegistry(endpoints: ["etcd:2379"]) }
    }
}
