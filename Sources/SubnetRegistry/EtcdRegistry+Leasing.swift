import CNI

/// Lease creation and renewal with etcd transactions and etcd leases.
extension EtcdRegistry {
    package func createLease(_ lease: SubnetLease, ttl: Int) throws -> Bool {
        let key = leaseKey(lease.key)
        let etcdLease = try grant(ttl: ttl)
        let created = try putIf(key, value: LeaseJSON.encode(lease), lease: etcdLease,
                                compare: ["target": .string("VERSION"), "version": .string("0")])
        if !created { revoke(etcdLease) }
        return created
    }

    /// Keeps the etcd lease alive when the stored value is already ours; otherwise (attributes
    /// changed, the etcd lease lapsed, or the key is gone) writes the value with a fresh etcd
    /// lease in a transaction that fails if anyone changed the key since we read it.
    package func renewLease(_ lease: SubnetLease, ttl: Int) throws {
        let key = leaseKey(lease.key)
        let value = LeaseJSON.encode(lease)
        for _ in 0..<5 {
            let reply = try call("/v3/kv/range", ["key": .string(EtcdJSON.base64(key))])
            guard let kv = EtcdKeyValue(reply["kvs"]?.arrayValue?.first) else {
                if try createLease(lease, ttl: ttl) { return }
                continue  // someone created it meanwhile: look at who
            }
            if let current = try? LeaseJSON.decode(kv.value, key: key), current.publicIP != lease.publicIP {
                throw RegistryError(.conflict,
                    "cannot renew lease \(lease.subnet) for \(lease.publicIP): it is held by \(current.publicIP) (\(location))")
            }
            if kv.value == Array(value.utf8), kv.lease != 0, try keepAlive(kv.lease) == ttl { return }
            let fresh = try grant(ttl: ttl)
            if try putIf(key, value: value, lease: fresh,
                         compare: ["target": .string("MOD"), "mod_revision": .string(String(kv.modRevision))]) {
                if kv.lease != 0 { revoke(kv.lease) }  // the key no longer hangs on it
                return
            }
            revoke(fresh)
        }
        throw RegistryError(.conflict, "cannot renew lease \(lease.subnet): the key kept changing in \(location)")
    }

    /// A new etcd lease of `ttl` seconds; its ID.
    func grant(ttl: Int) throws(RegistryError) -> Int64 {
        let reply = try call("/v3/lease/grant", ["TTL": .string(String(ttl))])
        let id = EtcdJSON.int64(reply["ID"])
        guard id != 0 else { throw RegistryError(.badReply, "etcd lease grant in \(location) returned no lease ID") }
        return id
    }

    /// Refreshes an etcd lease; its TTL, 0 when it had already expired.
    func keepAlive(_ id: Int64) throws(RegistryError) -> Int {
        let reply = try call("/v3/lease/keepalive", ["ID": .string(String(id))])
        return Int(EtcdJSON.int64(reply["result"]?["TTL"] ?? reply["TTL"]))
    }

    /// Best effort: an unrevoked lease only lingers until its TTL.
    func revoke(_ id: Int64) {
        _ = try? call("/v3/lease/revoke", ["ID": .string(String(id))])
    }

    /// Puts `key` attached to `lease` if the comparison on the key holds.
    func putIf(_ key: String, value: String, lease: Int64, compare: [String: JSONValue]) throws(RegistryError) -> Bool {
        let encodedKey = JSONValue.string(EtcdJSON.base64(key))
        let condition = compare.merging(["key": encodedKey, "result": .string("EQUAL")]) { $1 }
        let put: JSONValue = .object(["request_put": .object([
            "key": encodedKey, "value": .string(EtcdJSON.base64(value)), "lease": .string(String(lease)),
        ])])
        let reply = try call("/v3/kv/txn", ["compare": .array([.object(condition)]), "success": .array([put])])
        return reply["succeeded"]?.boolValue ?? false
    }
}
