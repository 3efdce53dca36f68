import CNI

/// Change notification through etcd's streaming `/v3/watch`, started at the revision after
/// the last listing so nothing that happened in between is missed.
extension EtcdRegistry {
    public func waitForChange(timeout: Double) throws -> Bool {
        guard let listed = listedRevision else { return true }  // never listed: list now
        let deadline = monotonicNow() + max(timeout, 0)
        var request = EtcdJSON.prefixRange(subnetsPrefix)
        request["start_revision"] = .string(String(listed + 1))
        let body = JSONValue.object(["create_request": .object(request)]).serialized()
        return try withEndpoint { (client: HTTP1Client) throws(PluginError) -> Bool in
            let stream: HTTPStream
            do throws(HTTPError) {
                stream = try client.openStream("/v3/watch", json: body, headerTimeout: max(timeout, 0.001))
            } catch {
                if error.kind == .timeout { return false }
                throw EndpointFailure.http(error)
            }
            defer { stream.close() }
            guard stream.status == 200 else {
                throw PluginError(.failed, "etcd \(client.endpoint) /v3/watch: HTTP \(stream.status)")
            }
            return try readUntilChange(stream, endpoint: client.endpoint, deadline: deadline)
        }
    }

    /// Reads newline-separated watch messages until one carries events (true) or the
    /// deadline passes (false).
    private func readUntilChange(_ stream: HTTPStream, endpoint: HTTPEndpoint, deadline: Double) throws(PluginError) -> Bool {
        var pending: [UInt8] = []
        while true {
            let piece: [UInt8]?
            do throws(HTTPError) {
                piece = try stream.nextBytes(deadline: deadline)
            } catch {
                if error.kind == .timeout { return false }
                throw EndpointFailure.http(error)
            }
            guard let piece else {
                throw PluginError(.io, "etcd \(endpoint) closed the watch on \(subnetsPrefix)")
            }
            pending += piece
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if try isChange(line, endpoint: endpoint) { return true }
            }
        }
    }

    /// One watch message: events or a cancelled (compacted) watch mean "list again".
    private func isChange(_ line: [UInt8], endpoint: HTTPEndpoint) throws(PluginError) -> Bool {
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { return false }
        let message = try JSONValue.parse(line, what: "etcd watch message")
        if let error = message["error"] {
            throw PluginError(.failed, "etcd \(endpoint) watch: \(error["message"]?.stringValue ?? error.serialized())")
        }
        guard let result = message["result"] else { return false }
        if result["canceled"]?.boolValue == true {
            listedRevision = nil  // fell behind compaction: the next listing starts afresh
            return true
        }
        guard let events = result["events"]?.arrayValue, !events.isEmpty else { return false }
        listedRevision = EtcdJSON.int64(result["header"]?["revision"])
        return true
    }
}
