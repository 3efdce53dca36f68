import CNI

/// One line of etcd's streamed `/v3/watch` reply, decoded into lease changes. Pure, so the
/// decoding is unit-tested on etcd's own output without an etcd.
///
/// proto3 JSON: keys and values are base64, revisions decimal strings, and zero values are
/// left out, so a PUT event has no `type` at all and a DELETE's `kv` has no value.
enum EtcdWatchMessage: Equatable {
    /// The watch was set up (the first message of every stream).
    case created
    /// Lease changes in revision order, the highest revision among the events, and the
    /// entries among them that are not readable leases (also deleted in `events`).
    case events([RegistryEvent], revision: Int64, skipped: [RejectedLease] = [])
    /// etcd ended the watch: it fell behind compaction, or the server cancelled it.
    case canceled(reason: String)
    /// Nothing for us (progress notifications, blank lines).
    case other

    /// - Parameters:
    ///   - subnetsPrefix: `<prefix>/subnets/`; other keys are ignored.
    ///   - after: events at or below this revision are already reflected in what the agent
    ///     holds (a listing made after the watch started) and are dropped.
    static func decode(_ line: [UInt8], subnetsPrefix: String, after: Int64) throws(PluginError) -> EtcdWatchMessage {
        if let raw = EtcdWatchScan.events(in: line) {
            let fields = raw.map { event in
                EventFields(isDelete: event.isDelete, key: event.key.flatMap { EtcdJSON.decodeBase64(bytes: line[$0]) },
                            value: event.value.flatMap { EtcdJSON.decodeBase64(bytes: line[$0]) } ?? [],
                            modRevision: event.modRevision, createRevision: event.createRevision)
            }
            return judge(fields, subnetsPrefix: subnetsPrefix, after: after)
        }
        return try decodeInFull(line, subnetsPrefix: subnetsPrefix, after: after)
    }

    /// The general path: the whole message as a JSON tree.
    static func decodeInFull(_ line: [UInt8], subnetsPrefix: String, after: Int64) throws(PluginError) -> EtcdWatchMessage {
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { return .other }
        let message = try JSONValue.parse(line, what: "etcd watch message")
        if let error = message["error"] {
            throw PluginError(.failed, "etcd watch on \(subnetsPrefix): \(error["message"]?.stringValue ?? error.serialized())")
        }
        guard let result = message["result"] else { return .other }
        if result["canceled"]?.boolValue == true {
            let compacted = EtcdJSON.int64(result["compact_revision"])
            let reason = result["cancel_reason"]?.stringValue ?? ""
            return .canceled(reason: compacted > 0 ? "history compacted up to revision \(compacted)"
                                                   : reason.isEmpty ? "canceled by etcd" : reason)
        }
        if result["created"]?.boolValue == true { return .created }
        guard let entries = result["events"]?.arrayValue, !entries.isEmpty else { return .other }
        let fields = entries.map { entry in
            EventFields(isDelete: entry["type"]?.stringValue == "DELETE", key: EtcdJSON.decodeBase64(entry["kv"]?["key"]),
                        value: EtcdJSON.decodeBase64(entry["kv"]?["value"]) ?? [],
                        modRevision: EtcdJSON.int64(entry["kv"]?["mod_revision"]),
                        createRevision: EtcdJSON.int64(entry["kv"]?["create_revision"]))
        }
        return judge(fields, subnetsPrefix: subnetsPrefix, after: after)
    }

    /// One event's fields, however they were read: the key and value decoded from base64
    /// (key nil: missing or malformed, and the event is skipped).
    struct EventFields {
        let isDelete: Bool
        let key: [UInt8]?
        let value: [UInt8]
        let modRevision: Int64
        let createRevision: Int64
    }

    /// Events as lease changes: only keys under `subnetsPrefix`, only revisions after
    /// `after`. Every key under it is passed on under its stored name (relative to
    /// `subnetsPrefix`, whatever its spelling: `LeaseAdmission` judges it); a put whose key
    /// is not a lease key or whose value is not a lease means no lease, as in a listing, and
    /// is reported in `skipped`.
    static func judge(_ fields: [EventFields], subnetsPrefix: String, after: Int64) -> EtcdWatchMessage {
        let prefix = Array(subnetsPrefix.utf8)
        var events: [RegistryEvent] = []
        var skipped: [RejectedLease] = []
        var revision = after
        for event in fields {
            guard event.modRevision > after, let key = event.key, key.starts(with: prefix) else { continue }
            revision = max(revision, event.modRevision)
            let storedKey = String(decoding: key[prefix.count...], as: UTF8.self)
            if event.isDelete {
                events.append(.delete(storedKey: storedKey))
                continue
            }
            switch EtcdRegistry.lease(storedKey: storedKey, fullKey: String(decoding: key, as: UTF8.self), value: event.value,
                                      createRevision: event.createRevision) {
            case .lease(let lease): events.append(.put(lease))
            case .unreadable(let entry):
                skipped.append(entry)
                events.append(.delete(storedKey: storedKey))
            case .absent: events.append(.delete(storedKey: storedKey))
            }
        }
        return .events(events, revision: revision, skipped: skipped)
    }
}
