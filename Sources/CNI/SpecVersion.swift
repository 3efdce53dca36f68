/// The CNI spec versions we speak. Results are printed in the version the config asks for.
package enum SpecVersion: String, Sendable, CaseIterable, Comparable {
    case v0_3_0 = "0.3.0"
    case v0_3_1 = "0.3.1"
    case v0_4_0 = "0.4.0"
    case v1_0_0 = "1.0.0"
    case v1_1_0 = "1.1.0"

    package static let latest = SpecVersion.v1_1_0

    package static func < (a: SpecVersion, b: SpecVersion) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// 0.3.x and 0.4.0 results carry `ips[].version`; 1.0.0 dropped it.
    var resultHasIPVersion: Bool { self < .v1_0_0 }
    /// CHECK arrived in 0.4.0.
    package var supportsCheck: Bool { self >= .v0_4_0 }
    /// GC and STATUS arrived in 1.1.0.
    package var supportsGCAndStatus: Bool { self >= .v1_1_0 }
    /// Route attributes beyond dst/gw (mtu, advmss, priority, table, scope) arrived in 1.1.0.
    var resultHasRouteAttributes: Bool { self >= .v1_1_0 }

    /// Parses a version string; anything we do not implement is error code 1.
    package static func parse(_ text: String) throws(PluginError) -> SpecVersion {
        guard let v = SpecVersion(rawValue: text) else {
            throw PluginError(.incompatibleVersion, "incompatible CNI versions: config is \"\(text)\", plugin supports \(allCases.map(\.rawValue))")
        }
        return v
    }

    /// The version a config asks for: `cniVersion`, or failing that the highest entry of
    /// `cniVersions` that we support (a config list may offer several).
    package static func requested(by config: JSONValue) throws(PluginError) -> SpecVersion {
        if let v = config["cniVersion"]?.stringValue {
            return try parse(v)
        }
        if let offered = config["cniVersions"]?.arrayValue?.compactMap(\.stringValue), !offered.isEmpty {
            guard let best = offered.compactMap(SpecVersion.init(rawValue:)).max() else {
                throw PluginError(.incompatibleVersion, "incompatible CNI versions: config offers \(offered), plugin supports \(allCases.map(\.rawValue))")
            }
            return best
        }
        // The spec makes cniVersion required; the reference treats a missing one as 0.1.0.
        throw PluginError(.incompatibleVersion, "config has no cniVersion; plugin supports \(allCases.map(\.rawValue))")
    }
}
