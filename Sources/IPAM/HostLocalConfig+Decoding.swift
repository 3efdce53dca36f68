import CNI
import FoundationEssentials
import NetTypes

extension HostLocalConfig {
    /// Decodes and validates the `ipam` part of a whole network config (stdin of a plugin):
    /// top-level `name`, `ipam.{ranges, subnet, rangeStart, rangeEnd, gateway, routes,
    /// dataDir, resolvConf}` and `runtimeConfig.ipRanges`. Unknown fields are ignored.
    ///
    /// Like the reference, the legacy single range (`ipam.subnet`...) is put in front of
    /// `ipam.ranges`, and `runtimeConfig.ipRanges` in front of both: set order is
    /// runtime ranges, legacy range, `ipam.ranges`.
    public init(networkConfig json: [UInt8]) throws {
        let wire: NetworkConfigWire
        do {
            wire = try JSONDecoder().decode(NetworkConfigWire.self, from: Data(json))
        } catch {
            throw PluginError(.decode, "cannot decode network config JSON", details: "\(error)")
        }
        guard let name = wire.name else {
            throw PluginError(.invalidConfig, "network config has no \"name\"")
        }
        guard let ipam = wire.ipam else {
            throw PluginError(.invalidConfig, "network config has no \"ipam\" object")
        }
        var wireSets = ipam.ranges ?? []
        if let subnet = ipam.subnet {
            let legacy = RangeWire(subnet: subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway)
            wireSets.insert([legacy], at: 0)
        }
        wireSets = (wire.runtimeConfig?.ipRanges ?? []) + wireSets
        let sets = try wireSets.enumerated().map { i, set in
            try withContext("invalid range set \(i)") {
                try RangeSet(set.enumerated().map { j, range in
                    try withContext("range \(j)") { try range.validated() }
                })
            }
        }
        let routes = try (ipam.routes ?? []).enumerated().map { i, route in
            try withContext("invalid route \(i)") { try route.validated() }
        }
        try self.init(
            networkName: name, rangeSets: sets, routes: routes,
            dataDir: ipam.dataDir.flatMap { $0.isEmpty ? nil : $0 } ?? HostLocalConfig.defaultDataDir,
            resolvConf: ipam.resolvConf.flatMap { $0.isEmpty ? nil : $0 })
    }
}

/// The JSON shapes, kept as strings so that a bad address is an `.invalidConfig` that names
/// the field, while a wrong JSON type stays a `.decode` error.
private struct NetworkConfigWire: Decodable {
    var name: String?
    var ipam: IPAMWire?
    var runtimeConfig: RuntimeConfigWire?
}

private struct RuntimeConfigWire: Decodable {
    var ipRanges: [[RangeWire]]?
}

private struct IPAMWire: Decodable {
    var subnet: String?
    var rangeStart: String?
    var rangeEnd: String?
    var gateway: String?
    var ranges: [[RangeWire]]?
    var routes: [RouteWire]?
    var dataDir: String?
    var resolvConf: String?
}

private struct RangeWire: Decodable {
    var subnet: String?
    var rangeStart: String?
    var rangeEnd: String?
    var gateway: String?

    func validated() throws -> AddressRange {
        guard let text = subnet else { throw PluginError(.invalidConfig, "missing subnet") }
        guard let prefix = IPPrefix(text) else {
            throw PluginError(.invalidConfig, "subnet \"\(text)\" is not a CIDR")
        }
        return try AddressRange(
            subnet: prefix, rangeStart: try address(rangeStart, "rangeStart"),
            rangeEnd: try address(rangeEnd, "rangeEnd"), gateway: try address(gateway, "gateway"))
    }
}

private struct RouteWire: Decodable {
    var dst: String?
    var gw: String?

    func validated() throws -> CNIResult.Route {
        guard let text = dst else { throw PluginError(.invalidConfig, "missing dst") }
        guard let prefix = IPPrefix(text) else {
            throw PluginError(.invalidConfig, "dst \"\(text)\" is not a CIDR")
        }
        return CNIResult.Route(destination: prefix, gateway: try address(gw, "gw"))
    }
}

/// An optional address field; "" means absent, as Go's net.IP decodes it.
private func address(_ text: String?, _ field: String) throws -> IPAddress? {
    guard let text, !text.isEmpty else { return nil }
    guard let value = IPAddress(text) else {
        throw PluginError(.invalidConfig, "\(field) \"\(text)\" is not an IP address")
    }
    return value
}
