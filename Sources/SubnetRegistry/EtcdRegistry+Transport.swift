import CNI

/// Requests with endpoint fail-over and etcd's error replies turned into messages.
extension EtcdRegistry {
    /// POSTs `body` to the gateway path and returns the decoded reply.
    func call(_ path: String, _ body: [String: JSONValue]) throws(PluginError) -> JSONValue {
        let text = JSONValue.object(body).serialized()
        return try withEndpoint { (client: HTTP1Client) throws(PluginError) -> JSONValue in
            let response: HTTPResponse
            do throws(HTTPError) {
                response = try client.post(path, json: text)
            } catch {
                throw EndpointFailure.http(error)
            }
            return try decodeReply(response, path: path, endpoint: client.endpoint)
        }
    }

    /// Runs `body` against the current endpoint, moving on to the next one while connections
    /// fail; throws one error listing every endpoint's failure when none could be reached.
    func withEndpoint<T>(_ body: (HTTP1Client) throws(PluginError) -> T) throws(PluginError) -> T {
        var failures: [String] = []
        for step in 0..<endpoints.count {
            let index = (current + step) % endpoints.count
            let client = HTTP1Client(endpoint: endpoints[index], connectTimeout: connectTimeout,
                                     requestTimeout: requestTimeout)
            do {
                let result = try body(client)
                current = index
                return result
            } catch let error where EndpointFailure.isUnreachable(error) {
                failures.append("etcd \(error.message)")
            }
        }
        throw PluginError(.io, failures.joined(separator: "; "))
    }

    func decodeReply(_ response: HTTPResponse, path: String, endpoint: HTTPEndpoint) throws(PluginError) -> JSONValue {
        let json = try? JSONValue.parse(response.body, what: "etcd reply")
        guard response.status == 200, let json, json["error"] == nil else {
            let reason = json?["message"]?.stringValue ?? json?["error"]?.stringValue
                ?? String(response.text.prefix(200))
            throw PluginError(.failed, "etcd \(endpoint) \(path): \(reason) (HTTP \(response.status))")
        }
        return json
    }
}

/// How an HTTP failure travels through `withEndpoint`: connection failures are marked so the
/// next endpoint is tried; everything else (timeouts after sending, bad replies) is final.
enum EndpointFailure {
    static let unreachableMarker = " unreachable: "

    static func http(_ error: HTTPError) -> PluginError {
        PluginError(error.kind == .unreachable ? .io : .failed,
                    error.kind == .unreachable ? error.description : "etcd \(error.description)")
    }

    static func isUnreachable(_ error: PluginError) -> Bool {
        error.kind == .io && error.message.contains(unreachableMarker)
    }
}
