import CNI
import NetTypes

extension HostLocalConfig {
    /// Parses a whole network config (stdin of a plugin) and decodes it as below.
    package init(networkConfig json: [UInt8]) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(json, what: "network config")
        } catch {
            throw PluginError(.decode, "cannot decode network config JSON", details: error.details)
        }
        try self.init(networkConfig: value)
    }

    /// Decodes and validates the `ipam` part of a whole network config, already parsed (the
    /// plugins pass `NetworkConfig.raw`, so stdin is parsed once per run): top-level `name`,
    /// `ipam.{ranges, subnet, rangeStart, rangeEnd, gateway, routes, dataDir, resolvConf,
    /// syncReservations}` and
    /// `runtimeConfig.ipRanges`. Unknown fields are ignored.
    ///
    /// Like the reference, the legacy single range (`ipam.subnet`...) is put in front of
    /// `ipam.ranges`, and `runtimeConfig.ipRanges` in front of both: set order is
    /// runtime ranges, legacy range, `ipam.ranges`.
    package init(networkConfig json: JSONValue) throws {
        // Every field is read (and type-checked) before anything is validated, so a wrong
        // JSON type anywhere is a `.decode` error whatever else is wrong.
        let wire = try ConfigFields(json)
        let name = try wire.string("name")
        let runtimeSets = try wire.object("runtimeConfig")?.rangeSets("ipRanges") ?? []
        guard let ipam = try wire.object("ipam") else {
            throw PluginError(.invalidConfig, "network config has no \"ipam\" object")
        }
        let fields = try IPAMWire(ipam)
        guard let name else {
            throw PluginError(.invalidConfig, "network config has no \"name\"")
        }
        var wireSets = fields.ranges
        if let legacy = fields.legacyRange { wireSets.insert([legacy], at: 0) }
        wireSets = runtimeSets + wireSets
        let sets = try wireSets.enumerated().map { i, set in
            try withContext("invalid range set \(i)") {
                try RangeSet(set.enumerated().map { j, range in
                    try withContext("range \(j)") { try range.validated() }
                })
            }
        }
        let routes = try fields.routes.enumerated().map { i, route in
            try withContext("invalid route \(i)") { try route.validated() }
        }
        try self.init(
            networkName: name, rangeSets: sets, routes: routes,
            dataDir: fields.dataDir.flatMap { $0.isEmpty ? nil : $0 } ?? HostLocalConfig.defaultDataDir,
            resolvConf: fields.resolvConf.flatMap { $0.isEmpty ? nil : $0 },
            syncReservations: fields.syncReservations ?? false)
    }
}

/// The `ipam` object's fields, read but not validated.
private struct IPAMWire {
    var legacyRange: RangeWire?
    var ranges: [[RangeWire]]
    var routes: [RouteWire]
    var dataDir: String?
    var resolvConf: String?
    var syncReservations: Bool?

    init(_ ipam: ConfigFields) throws {
        legacyRange = try ipam.string("subnet").map { subnet in
            RangeWire(subnet: subnet, rangeStart: try ipam.string("rangeStart"),
                      rangeEnd: try ipam.string("rangeEnd"), gateway: try ipam.string("gateway"))
        }
        ranges = try ipam.rangeSets("ranges")
        routes = try (ipam.array("routes") ?? []).enumerated().map { i, item in
            let o = try ConfigFields(item, path: "ipam.routes[\(i)]")
            return RouteWire(dst: try o.string("dst"), gw: try o.string("gw"))
        }
        dataDir = try ipam.string("dataDir")
        resolvConf = try ipam.string("resolvConf")
        syncReservations = try ipam.bool("syncReservations")
    }
}

/// host-local's nested range sets, read with the suite's one field reader.
extension ConfigFields {
    /// `[[{subnet, rangeStart, rangeEnd, gateway}]]`; absent is no sets.
    fileprivate func rangeSets(_ key: String) throws(PluginError) -> [[RangeWire]] {
        var sets: [[RangeWire]] = []
        for (i, set) in (try array(key) ?? []).enumerated() {
            guard let ranges = set.arrayValue else {
                throw ConfigFields.mismatch(what: what, path: "\(child(key))[\(i)]", expected: "an array", got: set)
            }
            var wires: [RangeWire] = []
            for (j, item) in ranges.enumerated() {
                let o = try ConfigFields(item, path: "\(child(key))[\(i)][\(j)]", what: what)
                wires.append(RangeWire(subnet: try o.string("subnet"), rangeStart: try o.string("rangeStart"),
                                       rangeEnd: try o.string("rangeEnd"), gateway: try o.string("gateway")))
            }
            sets.append(wires)
        }
        return sets
    }
}

private struct RangeWire {
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

private struct RouteWire {
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
