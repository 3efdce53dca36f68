import CNI

/// Requests with endpoint fail-over, authentication, and etcd's refusals as `RegistryError`s.
extension EtcdRegistry {
    /// POSTs `body` to the gateway path and returns the decoded reply. A rejected token is
    /// renewed and the request sent once more (etcd refused it before doing anything).
    func call(_ path: String, _ body: [String: JSONValue]) throws(RegistryError) -> JSONValue {
        let text = JSONValue.object(body).serialized()
        var reauthenticated = false
        while true {
            let sentToken = try currentToken()
            let (status, bytes, endpoint) = try exchange(path, json: text, token: sentToken)
            if status == 200, let json = try? JSONValue.parse(bytes, what: "etcd reply"), json["error"] == nil {
                return json
            }
            if !endpoint.isTLS, EtcdTransportFailure.isPlainHTTPToTLS(status: status, body: bytes) {
                throw EtcdTransportFailure.plainHTTPToTLS(endpoint)
            }
            let (code, message) = EtcdErrorReply.decode(status: status, body: bytes)
            let reply = EtcdErrorReply.classify(code: code, message: message)
            if EtcdAuthRetry.shouldAuthenticateAgain(reply, hasCredentials: settings.username != nil,
                                                      alreadyRetried: reauthenticated) {
                if token == sentToken { token = nil }
                reauthenticated = true
                continue
            }
            if status == 200 {
                throw RegistryError(.badReply, "etcd \(endpoint) \(path): unreadable reply: \(message)")
            }
            throw reply.registryError(endpoint: endpoint, path: path, username: settings.username, prefix: prefix)
        }
    }

    /// The token to send: nil without credentials; obtained from `/v3/auth/authenticate`
    /// when there is none yet.
    func currentToken() throws(RegistryError) -> String? {
        guard let name = settings.username, let password = settings.password else { return nil }
        if let token { return token }
        let path = "/v3/auth/authenticate"
        let body = JSONValue.object(["name": .string(name), "password": .string(password)]).serialized()
        let (status, bytes, endpoint) = try exchange(path, json: body, token: nil)
        if status == 200, let json = try? JSONValue.parse(bytes, what: "etcd reply"), let fresh = json["token"]?.stringValue {
            token = fresh
            return fresh
        }
        if !endpoint.isTLS, EtcdTransportFailure.isPlainHTTPToTLS(status: status, body: bytes) {
            throw EtcdTransportFailure.plainHTTPToTLS(endpoint)
        }
        let (code, message) = EtcdErrorReply.decode(status: status, body: bytes)
        let reply = EtcdErrorReply.classify(code: code, message: message)
        if reply == .authNotEnabled {
            token = ""  // nothing to send; etcd may turn auth on later, and then says so
            return token
        }
        throw reply.registryError(endpoint: endpoint, path: path, username: name, prefix: prefix)
    }

    /// Sends the request to the current endpoint, moving on to the next while the request
    /// could not have reached etcd; one error naming every endpoint's failure when none could.
    func exchange(_ path: String, json: String, token: String?) throws(RegistryError) -> (Int, [UInt8], EtcdEndpoint) {
        let client = try usableTransport()
        var failures: [RegistryError] = []
        for step in 0..<endpoints.count {
            let index = (current + step) % endpoints.count
            do throws(RegistryError) {
                let (status, bytes) = try exchangeOnce(client, endpoints[index], path, json: json, token: token)
                current = index
                return (status, bytes, endpoints[index])
            } catch where EtcdFailover.triesNextEndpoint(after: error.kind) {
                failures.append(error)
            }
        }
        let error = EtcdFailover.combined(failures)
        if error.kind == .tls { transport = nil }  // rebuilt from the files on the next call: they may get fixed
        throw error
    }

    private func exchangeOnce(_ client: EtcdTransport, _ endpoint: EtcdEndpoint, _ path: String, json: String,
                              token: String?) throws(RegistryError) -> (Int, [UInt8]) {
        let (task, body) = try client.post(endpoint, path, json: json, token: token, timeout: requestTimeout)
        // AHC ends the request at its deadline; the margin only guards against a lost callback.
        let reply = body.whole(deadline: monotonicNow() + requestTimeout + 1)
        if let failure = reply.failure {
            if EtcdTransportFailure.tlsReason(failure) == .serverCertificateUntrusted,
               let certificate = client.serverCertificate(endpoint),
               let problem = EtcdTLSSetup.validityProblem(certificate, now: registryNow()) {
                throw EtcdTransportFailure.serverCertificateOutOfDate(endpoint, problem: problem)
            }
            throw EtcdTransportFailure.classify(failure, endpoint: endpoint, requestSent: reply.requestSent, settings: settings)
        }
        guard reply.ended, let status = reply.status else {
            task.cancel()
            throw reply.requestSent ? RegistryError(.timeout, "etcd \(endpoint) \(path): no reply within \(Int(requestTimeout))s")
                                    : RegistryError(.unreachable, "etcd \(endpoint) unreachable: no connection in time")
        }
        return (status, reply.bytes)
    }

    /// The HTTP client, made now if needed: its TLS files are read (and checked) here, so a
    /// fixed file takes effect on the next call.
    func usableTransport() throws(RegistryError) -> EtcdTransport {
        if let transport { return transport }
        let tls = endpoints.contains(where: \.isTLS) ? try EtcdTLSSetup.configuration(settings) : nil
        let made = EtcdTransport(tls: tls, connectTimeout: connectTimeout)
        transport = made
        return made
    }
}

/// Which failures send a request on to the next endpoint: those that prove it never reached
/// etcd (no connection, or TLS refused before any request was read). Anything after that
/// (a timeout, a broken connection, any reply) may have changed etcd and stays final.
enum EtcdFailover {
    static func triesNextEndpoint(after kind: RegistryError.Kind) -> Bool {
        kind == .unreachable || kind == .tls
    }

    /// One error for all endpoints' failures: their messages, and the kind they share (TLS
    /// when every endpoint failed that way, the operator's fix being the same).
    static func combined(_ failures: [RegistryError]) -> RegistryError {
        guard let first = failures.first else { return RegistryError(.config, "no etcd endpoints given") }
        if failures.count == 1 { return first }
        let kind: RegistryError.Kind = failures.allSatisfy { $0.kind == first.kind } ? first.kind : .unreachable
        return RegistryError(kind, failures.map(\.message).joined(separator: "; "))
    }
}
