import CNI
import NetTypes

/// The network config stored at `<prefix>/config`, with flannel's field names, defaults and
/// checks, so an existing flannel etcd config works unchanged and errors read like flannel's.
///
/// Defaults are resolved once at parse time (`subnetLen`, `subnetMin`, `subnetMax`): every
/// consumer sees the same, already-validated numbers.
package struct FlannelNetworkConfig: Sendable, Equatable {
    package var enableIPv4: Bool
    package var enableIPv6: Bool
    /// The cluster's IPv4 network (host bits cleared); nil only when IPv4 is disabled.
    package var network: IPPrefix?
    /// Prefix length of one node's subnet.
    package var subnetLen: Int
    /// Network address of the lowest and highest subnet the allocator may hand out.
    package var subnetMin: IPAddress?
    package var subnetMax: IPAddress?
    package var ipv6Network: IPPrefix?
    package var ipv6SubnetLen: Int
    package var ipv6SubnetMin: IPAddress?
    package var ipv6SubnetMax: IPAddress?
    package var backend: Backend

    /// The `Backend` object. Only the types this suite implements are accepted.
    package struct Backend: Sendable, Equatable {
        /// "vxlan", "host-gw" or "udp".
        package var type: String
        /// VXLAN network identifier (flannel default 1).
        package var vni: Int
        /// The UDP port of the tunnel: vxlan's destination port (flannel default 8472, the
        /// Linux kernel's), udp's listening port (flannel default 8285).
        package var port: Int
        /// vxlan: route directly (like host-gw) to peers that share the underlay subnet.
        package var directRouting: Bool
        /// Overrides the device MTU (vxlan default: underlay MTU − 50).
        package var mtu: Int?
        /// The whole object as written, for backend options this type does not model.
        package var raw: JSONValue
    }

    package static let supportedBackendTypes = ["vxlan", "host-gw", "udp"]

    /// Parses and validates the config text (`what` names its origin in error messages).
    package static func parse(_ bytes: [UInt8], what: String = "network config") throws(PluginError) -> FlannelNetworkConfig {
        try FlannelNetworkConfig(json: JSONValue.parse(bytes, what: what), what: what)
    }

    /// Field names match case-insensitively, as Go's encoding/json does for flannel.
    package init(json: JSONValue, what: String = "network config") throws(PluginError) {
        guard let object = json.objectValue else {
            throw PluginError(.invalidConfig, "\(what) must be a JSON object")
        }
        let fields = FlannelConfigFields(object, what: what)
        enableIPv4 = try fields.bool("EnableIPv4") ?? true
        enableIPv6 = try fields.bool("EnableIPv6") ?? false
        network = try fields.prefix("Network", family: .v4)?.network
        ipv6Network = try fields.prefix("IPv6Network", family: .v6)?.network
        subnetLen = try fields.int("SubnetLen") ?? 0
        ipv6SubnetLen = try fields.int("IPv6SubnetLen") ?? 0
        subnetMin = try fields.address("SubnetMin", family: .v4)
        subnetMax = try fields.address("SubnetMax", family: .v4)
        ipv6SubnetMin = try fields.address("IPv6SubnetMin", family: .v6)
        ipv6SubnetMax = try fields.address("IPv6SubnetMax", family: .v6)
        backend = try Backend(fields.value("Backend"), what: what)
        try resolveAndValidate(what: what)
    }
}

extension FlannelNetworkConfig.Backend {
    init(_ value: JSONValue?, what: String) throws(PluginError) {
        // flannel's defaults: no Backend, or no Type in it, means "udp".
        let value = value ?? .null
        guard let object = value == .null ? [:] : value.objectValue else {
            throw PluginError(.invalidConfig, "\(what): Backend must be a JSON object")
        }
        let fields = FlannelConfigFields(object, what: "\(what) Backend")
        let type = try fields.string("Type") ?? "udp"
        guard FlannelNetworkConfig.supportedBackendTypes.contains(type) else {
            throw PluginError(.invalidConfig,
                "\(what): unknown backend type \"\(type)\"; supported: "
                + FlannelNetworkConfig.supportedBackendTypes.joined(separator: ", "))
        }
        self.type = type
        vni = try fields.int("VNI") ?? 1
        port = try fields.int("Port") ?? 0
        if port == 0 { port = type == "udp" ? 8285 : 8472 }
        directRouting = try fields.bool("DirectRouting") ?? false
        mtu = try fields.int("MTU")
        raw = value
        guard (1...0xff_ffff).contains(vni) else {
            throw PluginError(.invalidConfig, "\(what): Backend.VNI \(vni) is out of range 1-16777215")
        }
        guard (1...65535).contains(port) else {
            throw PluginError(.invalidConfig, "\(what): Backend.Port \(port) is out of range 1-65535")
        }
        if let mtu, !(68...65535).contains(mtu) {
            throw PluginError(.invalidConfig, "\(what): Backend.MTU \(mtu) is out of range 68-65535")
        }
    }
}
