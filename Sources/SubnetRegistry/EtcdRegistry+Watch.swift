import CNI

/// Lease changes through etcd's streamed `/v3/watch`: one stream stays open across calls,
/// and the events it carries (key, value, revision) are handed out as they are, so a change
/// costs neither a new connection nor a listing.
extension EtcdRegistry {
    public func waitForChanges(timeout: Double) throws -> RegistryChanges {
        guard revision != nil else { return .relistNeeded(reason: "no listing to follow on from") }
        let deadline = monotonicNow() + max(timeout, 0)
        // A stream that worked before and then broke (etcd restarted, a proxy timed it out)
        // is reopened once from the last revision seen; a fresh one that fails is an error.
        var reopened = watch == nil
        while true {
            guard let stream = try openWatchIfNeeded(timeout: max(deadline - monotonicNow(), 0.001)) else {
                return .timeout
            }
            do throws(PluginError) {
                return try readChanges(stream, deadline: deadline)
            } catch {
                closeWatch()
                if reopened { throw error }
                reopened = true
            }
        }
    }

    /// Reads messages until one carries events, then takes every message that has already
    /// arrived (a 1,000-put transaction, or puts in quick succession, become one batch).
    private func readChanges(_ stream: EtcdWatchStream, deadline: Double) throws(PluginError) -> RegistryChanges {
        var events: [RegistryEvent] = []
        var waitUntil = deadline
        while let line = try stream.nextLine(deadline: waitUntil) {
            switch try EtcdWatchMessage.decode(line, subnetsPrefix: subnetsPrefix, after: revision ?? 0) {
            case .canceled(let reason):
                closeWatch()
                revision = nil
                return .relistNeeded(reason: "etcd \(stream.endpoint) ended the watch: \(reason)")
            case .events(let batch, let seen):
                revision = seen
                events += batch
                if !events.isEmpty { waitUntil = 0 }  // from now on, only what is already here
            case .created, .other:
                continue
            }
        }
        return events.isEmpty ? .timeout : .events(events)
    }

    /// The open watch, or a new one starting right after `revision`; nil when etcd did not
    /// answer within `timeout` (the caller reports a quiet period and tries again).
    private func openWatchIfNeeded(timeout: Double) throws(PluginError) -> EtcdWatchStream? {
        if let watch { return watch }
        var request = EtcdJSON.prefixRange(subnetsPrefix)
        request["start_revision"] = .string(String((revision ?? 0) + 1))
        let body = JSONValue.object(["create_request": .object(request)]).serialized()
        let opened = try withEndpoint { (client: HTTP1Client) throws(PluginError) -> EtcdWatchStream? in
            let stream: HTTPStream
            do throws(HTTPError) {
                stream = try client.openStream("/v3/watch", json: body, headerTimeout: timeout)
            } catch {
                if error.kind == .timeout { return nil }
                throw EndpointFailure.http(error)
            }
            guard stream.status == 200 else {
                stream.close()
                throw PluginError(.failed, "etcd \(client.endpoint) /v3/watch: HTTP \(stream.status)")
            }
            return EtcdWatchStream(stream: stream, endpoint: client.endpoint)
        }
        watch = opened
        return opened
    }

    func closeWatch() {
        watch = nil  // deinit closes the connection
    }
}
