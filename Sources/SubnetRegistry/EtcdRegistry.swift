import CNI
import NetTypes

/// The registry in etcd (v3 API through its JSON gateway, over HTTP or TLS), with flannel's
/// keys: `<prefix>/config` and `<prefix>/subnets/<a.b.c.d>-<len>`, each lease key attached
/// to an etcd lease with the TTL so etcd itself deletes lapsed ones.
///
/// Several endpoints may be given; a request goes to the last one that answered and moves
/// on to the next only when it could not have reached etcd (no connection, TLS set-up
/// failed): a request that may have reached etcd is never sent twice. Connect and request
/// timeouts bound every call. With `--etcd-username` the client authenticates and sends
/// the token with every request, authenticating again when etcd forgets it.
///
/// Errors are `RegistryError`s (configuration parse errors stay `PluginError`s).
package final class EtcdRegistry: Registry {
    package let endpoints: [EtcdEndpoint]
    package let prefix: String
    let settings: EtcdClientSettings
    package var connectTimeout: Double = 2
    package var requestTimeout: Double = 10
    /// The endpoint that answered last.
    var current = 0
    /// The HTTP client, made on first use; nil again while its TLS files cannot be used
    /// (each call tries again, so fixed files are picked up without a restart).
    var transport: EtcdTransport?
    /// etcd's auth token; nil: none yet (or it was rejected); "": etcd has auth off.
    var token: String?
    /// The revision the caller's view of the leases is at: the last listing's, moved on by
    /// every batch of watch events handed out. Nil: list first. A new watch starts right after it.
    var revision: Int64?
    /// The watch kept open across `waitForChanges` calls.
    var watch: EtcdWatchStream?
    /// Entries the last listing and the batches since could not read (`takeSkippedEntries`).
    var skippedEntries: [RejectedLease] = []

    /// `settings.endpoints`: `http://host:port` or `https://host:port` URLs (port 2379 when omitted).
    package init(settings: EtcdClientSettings, prefix: String = RegistryDefaults.prefix) throws(RegistryError) {
        guard !settings.endpoints.isEmpty else { throw RegistryError(.config, "no etcd endpoints given (--etcd-endpoints)") }
        var parsed: [EtcdEndpoint] = []
        for url in settings.endpoints {
            guard let e = EtcdEndpoint(url: url) else {
                throw RegistryError(.config, "etcd endpoint \"\(url)\" in --etcd-endpoints is not http://host:port or https://host:port")
            }
            parsed.append(e)
        }
        if (settings.username == nil) != (settings.password == nil) {
            throw RegistryError(.config, settings.username == nil ? "--etcd-password needs --etcd-username"
                                                                  : "--etcd-username needs --etcd-password")
        }
        self.endpoints = parsed
        self.settings = settings
        var p = prefix.hasPrefix("/") ? prefix : "/" + prefix
        while p.hasSuffix("/") && p.count > 1 { p.removeLast() }
        self.prefix = p
    }

    package convenience init(endpoints: [String], prefix: String = RegistryDefaults.prefix) throws(RegistryError) {
        try self.init(settings: EtcdClientSettings(endpoints: endpoints), prefix: prefix)
    }

    package var location: String { "etcd " + endpoints.map(\.description).joined(separator: ",") }

    var configKey: String { prefix + "/config" }
    var subnetsPrefix: String { prefix + "/subnets/" }
    func leaseKey(_ name: String) -> String { subnetsPrefix + name }

    package func networkConfig() throws -> FlannelNetworkConfig {
        let reply = try call("/v3/kv/range", ["key": .string(EtcdJSON.base64(configKey))])
        guard let kv = EtcdKeyValue(reply["kvs"]?.arrayValue?.first) else {
            throw RegistryError(.notFound,
                "network config \(configKey) not found in \(location); store it with the v3 API, e.g. "
                + "ETCDCTL_API=3 etcdctl put \(configKey) '{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}'")
        }
        return try FlannelNetworkConfig.parse(kv.value, what: "network config \(configKey) in etcd")
    }

    package func storeNetworkConfig(_ json: String) throws {
        _ = try call("/v3/kv/put", ["key": .string(EtcdJSON.base64(configKey)), "value": .string(EtcdJSON.base64(json))])
    }

    package func leases() throws -> [SubnetLease] {
        let reply = try call("/v3/kv/range", EtcdJSON.prefixRange(subnetsPrefix))
        revision = EtcdJSON.int64(reply["header"]?["revision"])
        var result: [SubnetLease] = []
        skippedEntries = []
        for entry in reply["kvs"]?.arrayValue ?? [] {
            guard let kv = EtcdKeyValue(entry), kv.key.hasPrefix(subnetsPrefix) else { continue }
            switch Self.lease(storedKey: String(kv.key.dropFirst(subnetsPrefix.count)), fullKey: kv.key, value: kv.value,
                              createRevision: kv.createRevision) {
            case .lease(let lease): result.append(lease)
            case .unreadable(let skipped): skippedEntries.append(skipped)
            case .absent: continue
            }
        }
        return result.sorted { $0.subnet.address < $1.subnet.address }
    }

    package func takeSkippedEntries() -> [RejectedLease] {
        defer { skippedEntries = [] }
        return skippedEntries
    }

    /// The lease a key-value under `<prefix>/subnets/` holds, named by its key relative to
    /// that (etcd keys are literal strings: "evil/dir/10.244.1.0-24" and "../x" are stored
    /// as such and judged by `LeaseAdmission`), or why it is not one.
    static func lease(storedKey: String, fullKey: String, value: [UInt8],
                      createRevision: Int64) -> RegistryEntry {
        guard let subnets = LeaseKey.parse(storedKey) else {
            return .unreadable(RejectedLease(storedKey: storedKey, reason: .unreadable,
                                             detail: "\(fullKey) is not a lease key like 10.244.1.0-24"))
        }
        do throws(PluginError) {
            var lease = try LeaseJSON.decode(value, key: fullKey, subnets: subnets)
            lease.storedKey = storedKey
            lease.creationRank = createRevision > 0 ? createRevision : nil
            return .lease(lease)
        } catch {
            return .unreadable(RejectedLease(storedKey: storedKey, reason: .unreadable, detail: error.message))
        }
    }

    package func deleteLease(subnet: IPPrefix) throws {
        let reply = try call("/v3/kv/range", EtcdJSON.prefixRange(subnetsPrefix).merging(["keys_only": .bool(true)]) { $1 })
        for entry in reply["kvs"]?.arrayValue ?? [] {
            guard let kv = EtcdKeyValue(entry), LeaseKey.parse(kv.key)?.subnet == subnet.network else { continue }
            _ = try call("/v3/kv/deleterange", ["key": .string(EtcdJSON.base64(kv.key))])
        }
    }

    package func deleteLease(key: String) throws {
        guard LeaseKey.parse(key) != nil, !key.contains("/") else {
            throw PluginError(.invalidConfig, "\(key) is not a lease key like 10.244.1.0-24")
        }
        _ = try call("/v3/kv/deleterange", ["key": .string(EtcdJSON.base64(leaseKey(key)))])
    }
}
