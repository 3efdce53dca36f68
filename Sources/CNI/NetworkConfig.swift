import NetTypes

/// The fields every plugin's network config shares, read once from stdin. Plugin-specific
/// fields are decoded by each plugin from `raw`.
package struct NetworkConfig: Sendable {
    package let raw: JSONValue
    package let bytes: [UInt8]
    package let version: SpecVersion
    package let name: String
    package let type: String
    /// The `ipam` object as given (its `type` names the IPAM plugin), or nil.
    package let ipam: JSONValue?
    package let prevResult: CNIResult?
    /// `cni.dev/valid-attachments` of a GC request.
    package let validAttachments: [Attachment]

    package init(bytes: [UInt8]) throws(PluginError) {
        self.bytes = bytes
        raw = try JSONValue.parse(bytes, what: "network configuration")
        guard case .object = raw else {
            throw PluginError(.decode, "network configuration is not a JSON object")
        }
        version = try SpecVersion.requested(by: raw)
        guard let n = raw["name"]?.stringValue, !n.isEmpty else {
            throw PluginError(.invalidConfig, "network configuration has no \"name\"")
        }
        guard Environment.isSpecName(n) else {
            throw PluginError(.invalidConfig, "invalid network name \"\(n)\": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")
        }
        name = n
        type = raw["type"]?.stringValue ?? ""
        if let i = raw["ipam"], case .object = i { ipam = i } else { ipam = nil }
        if let p = raw["prevResult"], p != .null {
            prevResult = try CNIResult(json: p, what: "prevResult")
        } else {
            prevResult = nil
        }
        validAttachments = try (raw["cni.dev/valid-attachments"]?.arrayValue ?? []).map { v throws(PluginError) in
            guard let c = v["containerID"]?.stringValue, let i = v["ifname"]?.stringValue else {
                throw PluginError(.decode, "cni.dev/valid-attachments entries need containerID and ifname")
            }
            return Attachment(containerID: c, ifname: i)
        }
    }

    /// Specific IPs asked for: `runtimeConfig.ips`, `args.cni.ips`, then `CNI_ARGS` `IP=`
    /// (comma-separated), as the reference host-local merges them. Entries may carry a
    /// prefix length; only the address counts.
    package func requestedIPs(args: CNIArgs) throws(PluginError) -> [IPAddress] {
        var texts: [String] = []
        texts += raw["runtimeConfig"]?["ips"]?.arrayValue?.compactMap(\.stringValue) ?? []
        texts += raw["args"]?["cni"]?["ips"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let ip = args["IP"] { texts += ip.split(separator: ",").map(String.init) }
        var out: [IPAddress] = []
        for t in texts {
            let addrText = t.split(separator: "/").first.map(String.init) ?? t
            guard let a = IPAddress(addrText) else {
                throw PluginError(.invalidConfig, "requested IP \"\(t)\" is not an IP address")
            }
            if !out.contains(a) { out.append(a) }
        }
        return out
    }

    /// A requested MAC for the container interface: `runtimeConfig.mac`, `args.cni.mac`, or
    /// `CNI_ARGS` `MAC=`.
    package func requestedMAC(args: CNIArgs) throws(PluginError) -> MACAddress? {
        let text = raw["runtimeConfig"]?["mac"]?.stringValue ?? raw["args"]?["cni"]?["mac"]?.stringValue ?? args["MAC"]
        guard let t = text, !t.isEmpty else { return nil }
        guard let mac = MACAddress(t) else { throw PluginError(.invalidConfig, "requested MAC \"\(t)\" is invalid") }
        return mac
    }
}

/// One container attachment: what GC's valid list and IPAM reservations are keyed by.
package struct Attachment: Hashable, Sendable {
    package let containerID: String
    package let ifname: String

    package init(containerID: String, ifname: String) {
        self.containerID = containerID
        self.ifname = ifname
    }
}
