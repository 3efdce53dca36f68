import CNI
import NetTypes

/// The `bridge` plugin's options, field-compatible with the reference plugin's config.
package struct BridgeConfig: Sendable {
    package struct TrunkRange: Sendable, Equatable {
        package let minID: Int
        package let maxID: Int
    }

    package var bridge = "cni0"
    package var isGateway = false
    package var isDefaultGateway = false
    package var forceAddress = false
    package var ipMasq = false
    package var mtu: Int?
    package var hairpinMode = false
    package var promiscMode = false
    package var vlan = 0
    package var vlanTrunk: [TrunkRange] = []
    package var preserveDefaultVlan = true
    package var enableDAD = false
    package var macSpoofCheck = false
    package var disableContainerInterface = false
    package var portIsolation = false
    /// The `ipam.type`, or nil when the config has no IPAM (L2-only attachment).
    package var ipamType: String?

    package init(_ config: NetworkConfig) throws(PluginError) {
        let fields = ConfigFields(object: config.raw.objectValue ?? [:])
        func bool(_ key: String, _ fallback: Bool) throws(PluginError) -> Bool {
            try fields.bool(key, default: fallback)
        }
        if let name = try fields.string("bridge") {
            if !name.isEmpty {
                do { try Environment.validate(ifname: name) } catch {
                    throw PluginError(.invalidConfig, "invalid bridge name \"\(name)\": 1-15 bytes, no '/', ':' or spaces")
                }
                bridge = name
            }
        }
        isDefaultGateway = try bool("isDefaultGateway", false)
        // The reference turns isGateway on whenever isDefaultGateway is set.
        isGateway = try bool("isGateway", false) || isDefaultGateway
        forceAddress = try bool("forceAddress", false)
        ipMasq = try bool("ipMasq", false)
        hairpinMode = try bool("hairpinMode", false)
        promiscMode = try bool("promiscMode", false)
        preserveDefaultVlan = try bool("preserveDefaultVlan", true)
        enableDAD = try bool("enabledad", false)
        macSpoofCheck = try bool("macspoofchk", false)
        disableContainerInterface = try bool("disableContainerInterface", false)
        portIsolation = try bool("portIsolation", false)
        if let m = try fields.int("mtu"), m != 0 {
            guard (68...65535).contains(m) else { throw PluginError(.invalidConfig, "mtu \(m) out of range 68-65535") }
            mtu = m
        }
        vlan = try fields.int("vlan") ?? 0
        guard (0...4094).contains(vlan) else { throw PluginError(.invalidConfig, "invalid VLAN ID \(vlan) (must be between 0 and 4094)") }
        vlanTrunk = try Self.parseTrunk(fields)
        if vlan != 0 && !vlanTrunk.isEmpty {
            throw PluginError(.invalidConfig, "cannot set vlan and vlanTrunk at the same time")
        }
        if let ipam = config.ipam {
            guard let t = ipam["type"]?.stringValue, !t.isEmpty else {
                throw PluginError(.invalidConfig, "\"ipam\" needs a \"type\"")
            }
            ipamType = t
        }
        if isGateway && ipamType == nil {
            throw PluginError(.invalidConfig, "isGateway needs an ipam section to know the gateway address")
        }
    }

    /// Whether the bridge needs VLAN filtering turned on.
    package var usesVLANs: Bool { vlan != 0 || !vlanTrunk.isEmpty }

    static func parseTrunk(_ fields: ConfigFields) throws(PluginError) -> [TrunkRange] {
        var out: [TrunkRange] = []
        for (n, entry) in (try fields.array("vlanTrunk") ?? []).enumerated() {
            let item = try ConfigFields(entry, path: "vlanTrunk[\(n)]", what: fields.what)
            if let id = try item.int("id") {
                guard (1...4094).contains(id) else { throw PluginError(.invalidConfig, "invalid vlanTrunk id \(id) (must be between 1 and 4094)") }
                out.append(TrunkRange(minID: id, maxID: id))
            } else if let lo = try item.int("minID"), let hi = try item.int("maxID") {
                guard (1...4094).contains(lo), (1...4094).contains(hi), lo <= hi else {
                    throw PluginError(.invalidConfig, "invalid vlanTrunk range \(lo)-\(hi) (1-4094, minID <= maxID)")
                }
                out.append(TrunkRange(minID: lo, maxID: hi))
            } else {
                throw PluginError(.invalidConfig, "each vlanTrunk entry needs \"id\" or \"minID\" and \"maxID\"")
            }
        }
        return out
    }
}
