import CNI
import NetTypes

/// The registry in etcd (v3 API through its JSON gateway, plain HTTP), with flannel's keys:
/// `<prefix>/config` and `<prefix>/subnets/<a.b.c.d>-<len>`, each lease key attached to an
/// etcd lease with the TTL so etcd itself deletes lapsed ones.
///
/// Several endpoints may be given; a request goes to the last one that answered and moves
/// on to the next only when a connection cannot be made (a request that may have reached
/// etcd is never sent twice). Connect and request timeouts bound every call.
public final class EtcdRegistry: Registry {
    public let endpoints: [HTTPEndpoint]
    public let prefix: String
    public var connectTimeout: Double = 2
    public var requestTimeout: Double = 10
    /// The endpoint that answered last.
    var current = 0
    /// The revision the caller's view of the leases is at: the last listing's, moved on by
    /// every batch of watch events handed out. Nil: list first. A new watch starts right after it.
    var revision: Int64?
    /// The watch kept open across `waitForChanges` calls.
    var watch: EtcdWatchStream?

    /// `endpoints`: `http://host:port` URLs (port 2379 when omitted).
    public convenience init(settings: EtcdClientSettings, prefix: String = RegistryDefaults.prefix) throws(PluginError) {
        try self.init(endpoints: settings.endpoints, prefix: prefix)
    }

    public init(endpoints: [String], prefix: String = RegistryDefaults.prefix) throws(PluginError) {
        guard !endpoints.isEmpty else {
            throw PluginError(.invalidConfig, "no etcd endpoints given")
        }
        var parsed: [HTTPEndpoint] = []
        for url in endpoints {
            guard let e = HTTPEndpoint(url: url, defaultPort: 2379) else {
                throw PluginError(.invalidConfig, "etcd endpoint \"\(url)\" is not http://host:port (https is not supported)")
            }
            parsed.append(e)
        }
        self.endpoints = parsed
        var p = prefix.hasPrefix("/") ? prefix : "/" + prefix
        while p.hasSuffix("/") && p.count > 1 { p.removeLast() }
        self.prefix = p
    }

    public var location: String { "etcd " + endpoints.map(\.description).joined(separator: ",") }

    var configKey: String { prefix + "/config" }
    var subnetsPrefix: String { prefix + "/subnets/" }
    func leaseKey(_ name: String) -> String { subnetsPrefix + name }

    public func networkConfig() throws -> FlannelNetworkConfig {
        let reply = try call("/v3/kv/range", ["key": .string(EtcdJSON.base64(configKey))])
        guard let kv = EtcdKeyValue(reply["kvs"]?.arrayValue?.first) else {
            throw PluginError(.invalidConfig,
                "network config \(configKey) not found in \(location); store it with the v3 API, e.g. "
                + "ETCDCTL_API=3 etcdctl put \(configKey) '{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}'")
        }
        return try FlannelNetworkConfig.parse(kv.value, what: "network config \(configKey) in etcd")
    }

    public func storeNetworkConfig(_ json: String) throws {
        _ = try call("/v3/kv/put", ["key": .string(EtcdJSON.base64(configKey)), "value": .string(EtcdJSON.base64(json))])
    }

    public func leases() throws -> [SubnetLease] {
        let reply = try call("/v3/kv/range", EtcdJSON.prefixRange(subnetsPrefix))
        revision = EtcdJSON.int64(reply["header"]?["revision"])
        var result: [SubnetLease] = []
        for entry in reply["kvs"]?.arrayValue ?? [] {
            guard let kv = EtcdKeyValue(entry), let lease = try? LeaseJSON.decode(kv.value, key: kv.key) else { continue }
            result.append(lease)
        }
        return result.sorted { $0.subnet.address < $1.subnet.address }
    }

    public func deleteLease(subnet: IPPrefix) throws {
        let reply = try call("/v3/kv/range", EtcdJSON.prefixRange(subnetsPrefix).merging(["keys_only": .bool(true)]) { $1 })
        for entry in reply["kvs"]?.arrayValue ?? [] {
            guard let kv = EtcdKeyValue(entry), LeaseKey.parse(kv.key)?.subnet == subnet.network else { continue }
            _ = try call("/v3/kv/deleterange", ["key": .string(EtcdJSON.base64(kv.key))])
        }
    }
}
