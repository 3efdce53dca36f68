import CNI

/// Lease changes through etcd's streamed `/v3/watch`: one stream stays open across calls,
/// and the events it carries (key, value, revision) are handed out as they are, so a change
/// costs neither a new connection nor a listing.
extension EtcdRegistry {
    package func waitForChanges(timeout: Double) throws -> RegistryChanges {
        guard revision != nil else { return .relistNeeded(reason: "no listing to follow on from") }
        let deadline = monotonicNow() + max(timeout, 0)
        // A stream that worked before and then broke (etcd restarted, a proxy timed it out)
        // is reopened once from the last revision seen; a fresh one that fails is an error,
        // unless it never reached etcd (then the next endpoint is tried) or etcd refused it
        // for auth (then once more with a fresh token).
        var reopened = watch == nil
        var reauthenticated = false
        var endpointsTried = 0
        while true {
            let stream = try openWatchIfNeeded()
            do throws(EtcdWatchStream.Failure) {
                return try readChanges(stream, deadline: deadline)
            } catch {
                closeWatch()
                switch error {
                case .broken(let failure):
                    if !stream.answered, EtcdFailover.triesNextEndpoint(after: failure.kind),
                       endpointsTried + 1 < endpoints.count {
                        endpointsTried += 1
                        current = (current + 1) % endpoints.count
                        continue
                    }
                    if failure.kind == .tls { transport = nil }
                    if reopened || !stream.answered { throw failure }
                    reopened = true
                case .refused(let code, let message):
                    let reply = EtcdErrorReply.classify(code: code, message: message)
                    if EtcdAuthRetry.shouldReopenWatch(reply, hasCredentials: settings.username != nil,
                                                        alreadyRetried: reauthenticated) {
                        token = nil
                        reauthenticated = true
                        continue
                    }
                    throw reply.registryError(endpoint: stream.endpoint, path: "/v3/watch", username: settings.username,
                                              prefix: prefix)
                }
            }
        }
    }

    /// Reads messages until one carries events, then takes every message that has already
    /// arrived (a 1,000-put transaction, or puts in quick succession, become one batch).
    private func readChanges(_ stream: EtcdWatchStream, deadline: Double) throws(EtcdWatchStream.Failure) -> RegistryChanges {
        var events: [RegistryEvent] = []
        var waitUntil = deadline
        while let line = try stream.nextLine(deadline: waitUntil) {
            let message: EtcdWatchMessage
            do throws(PluginError) {
                message = try EtcdWatchMessage.decode(line, subnetsPrefix: subnetsPrefix, after: revision ?? 0)
            } catch {
                // etcd's in-stream errors ("error": {…}) are refusals like a non-200 reply.
                throw .refused(code: nil, message: error.message)
            }
            switch message {
            case .canceled(let reason):
                if EtcdErrorReply.classify(code: nil, message: reason).concernsAuth {
                    throw .refused(code: nil, message: reason)
                }
                closeWatch()
                revision = nil
                return .relistNeeded(reason: "etcd \(stream.endpoint) ended the watch: \(reason)")
            case .events(let batch, let seen, let skipped):
                revision = seen
                events += batch
                skippedEntries += skipped
                if !events.isEmpty { waitUntil = 0 }  // from now on, only what is already here
            case .created, .other:
                continue
            }
        }
        return events.isEmpty ? .timeout : .events(events)
    }

    /// The open watch, or a new one starting right after `revision` on the current endpoint.
    /// Only the request is sent here; its answer (or failure) is read by `readChanges`.
    private func openWatchIfNeeded() throws(RegistryError) -> EtcdWatchStream {
        if let watch { return watch }
        var request = EtcdJSON.prefixRange(subnetsPrefix)
        request["start_revision"] = .string(String((revision ?? 0) + 1))
        let body = JSONValue.object(["create_request": .object(request)]).serialized()
        let sentToken = try currentToken()
        let endpoint = endpoints[current]
        let (task, response) = try usableTransport().post(endpoint, "/v3/watch", json: body, token: sentToken, timeout: nil)
        let opened = EtcdWatchStream(task: task, body: response, endpoint: endpoint, settings: settings)
        watch = opened
        return opened
    }

    func closeWatch() {
        watch = nil  // deinit cancels the request
    }
}
