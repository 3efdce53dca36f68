import NetTypes

/// Reading and writing results in every supported spec version. Results from 0.3.0 on share
/// one shape; 0.3.x/0.4.0 add `ips[].version`, 1.1.0 adds route attributes.
extension CNIResult {
    package func json(version: SpecVersion) -> JSONValue {
        var o: [String: JSONValue] = ["cniVersion": .string(version.rawValue)]
        if !interfaces.isEmpty {
            o["interfaces"] = .array(interfaces.map { i in
                var e: [String: JSONValue] = ["name": .string(i.name)]
                if let m = i.mac { e["mac"] = .string(m.description) }
                if let m = i.mtu, version >= .v1_1_0 { e["mtu"] = .int(Int(m)) }
                if let s = i.sandbox { e["sandbox"] = .string(s) }
                return .object(e)
            })
        }
        if !ips.isEmpty {
            o["ips"] = .array(ips.map { ip in
                var e: [String: JSONValue] = ["address": .string(ip.address.description)]
                if let g = ip.gateway { e["gateway"] = .string(g.description) }
                if let i = ip.interface { e["interface"] = .int(i) }
                if version.resultHasIPVersion { e["version"] = .string(ip.address.family == .v4 ? "4" : "6") }
                return .object(e)
            })
        }
        if !routes.isEmpty {
            o["routes"] = .array(routes.map { r in
                var e: [String: JSONValue] = ["dst": .string(r.destination.description)]
                if let g = r.gateway { e["gw"] = .string(g.description) }
                if version.resultHasRouteAttributes {
                    if let v = r.mtu { e["mtu"] = .int(Int(v)) }
                    if let v = r.advmss { e["advmss"] = .int(Int(v)) }
                    if let v = r.priority { e["priority"] = .int(Int(v)) }
                    if let v = r.table { e["table"] = .int(Int(v)) }
                    if let v = r.scope { e["scope"] = .int(Int(v)) }
                }
                return .object(e)
            })
        }
        if !dns.isEmpty {
            var e: [String: JSONValue] = [:]
            if !dns.nameservers.isEmpty { e["nameservers"] = .array(dns.nameservers.map(JSONValue.string)) }
            if let d = dns.domain { e["domain"] = .string(d) }
            if !dns.search.isEmpty { e["search"] = .array(dns.search.map(JSONValue.string)) }
            if !dns.options.isEmpty { e["options"] = .array(dns.options.map(JSONValue.string)) }
            o["dns"] = .object(e)
        } else {
            o["dns"] = .object([:])
        }
        return .object(o)
    }

    /// Reads a result of any supported version (a prevResult or a delegate's output). Its
    /// numbers are read as the types they are used as (a route's `mtu` is a netlink u32, its
    /// `scope` a u8), so a value out of range, or not written as an integer, is refused here
    /// as `.invalidConfig` naming the field ("host-local result: routes[0].mtu: ...") instead
    /// of trapping where it is used.
    package init(json: JSONValue, what: String) throws(PluginError) {
        func bad(_ why: String) -> PluginError { PluginError(.decode, "\(what): \(why)") }
        guard case .object(let o) = json else { throw bad("not a JSON object") }
        let top = ConfigFields(object: o, what: what)
        if let v = top.value("cniVersion")?.stringValue, SpecVersion(rawValue: v) == nil {
            throw PluginError(.incompatibleVersion, "\(what) has unsupported cniVersion \(v)")
        }
        /// The entries of array `key`, each as an object named by its index.
        func entries(_ key: String) throws(PluginError) -> [ConfigFields] {
            var out: [ConfigFields] = []
            for (n, e) in (try top.array(key) ?? []).enumerated() {
                out.append(try ConfigFields(e, path: "\(key)[\(n)]", what: what))
            }
            return out
        }
        var result = CNIResult()
        for i in try entries("interfaces") {
            guard let name = try i.string("name") else { throw bad("interface without name") }
            var iface = Interface(name: name, mtu: try i.integer("mtu", as: UInt32.self), sandbox: try i.string("sandbox"))
            if let m = try i.string("mac"), !m.isEmpty {
                guard let mac = MACAddress(m) else { throw bad("invalid mac \(m)") }
                iface.mac = mac
            }
            result.interfaces.append(iface)
        }
        for ip in try entries("ips") {
            guard let a = try ip.string("address"), let p = IPPrefix(a) else { throw bad("invalid ips[].address") }
            var cfg = IPConfig(address: p, interface: try ip.integer("interface", in: 0...Int.max))
            if let g = try ip.string("gateway"), !g.isEmpty {
                guard let gw = IPAddress(g) else { throw bad("invalid gateway \(g)") }
                cfg.gateway = gw
            }
            result.ips.append(cfg)
        }
        for r in try entries("routes") {
            guard let d = try r.string("dst"), let dst = IPPrefix(d) else { throw bad("invalid routes[].dst") }
            var route = Route(destination: dst, mtu: try r.integer("mtu", as: UInt32.self),
                              advmss: try r.integer("advmss", as: UInt32.self),
                              priority: try r.integer("priority", as: UInt32.self),
                              table: try r.integer("table", as: UInt32.self), scope: try r.integer("scope", as: UInt8.self))
            if let g = try r.string("gw"), !g.isEmpty {
                guard let gw = IPAddress(g) else { throw bad("invalid route gw \(g)") }
                route.gateway = gw
            }
            result.routes.append(route)
        }
        if let d = top.value("dns") { result.dns = DNS(json: d) }
        self = result
    }
}

extension CNIResult.DNS {
    /// Reads a `dns` object (from a result or a network config); missing fields stay empty.
    package init(json d: JSONValue) {
        self.init(nameservers: d["nameservers"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  domain: d["domain"]?.stringValue,
                  search: d["search"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  options: d["options"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}
