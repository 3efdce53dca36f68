import CNI
import NetTypes

/// The lease value exactly as flannel's Go `LeaseAttrs` marshals it: fields in declaration
/// order (`PublicIP`, `PublicIPv6`, `BackendType`, `BackendData`, `BackendV6Data`),
/// `PublicIPv6` always present (null when unset), the others omitted when empty. Byte
/// equality with flannel matters: mixed clusters and operators diff these values.
enum LeaseJSON {
    static func encode(_ lease: SubnetLease) -> String {
        var out = "{\"PublicIP\":\"\(lease.publicIP)\""
        out += ",\"PublicIPv6\":" + (lease.publicIPv6.map { "\"\($0)\"" } ?? "null")
        if !lease.backendType.isEmpty {
            out += ",\"BackendType\":" + JSONValue.string(lease.backendType).serialized()
        }
        if let data = lease.backendData, data != .null {
            out += ",\"BackendData\":" + data.serialized()
        }
        if let data = lease.backendV6Data, data != .null {
            out += ",\"BackendV6Data\":" + data.serialized()
        }
        return out + "}"
    }

    /// Decodes a value stored under `key` (named in errors). Field names match in any case.
    static func decode(_ bytes: [UInt8], key: String) throws(PluginError) -> SubnetLease {
        guard let subnets = LeaseKey.parse(key) else {
            throw PluginError(.decode, "lease key \(key) is not a subnet key like 10.244.1.0-24")
        }
        return try decode(bytes, key: key, subnets: subnets)
    }

    /// The same for a caller that has parsed the key already (`subnets`).
    static func decode(_ bytes: [UInt8], key: String,
                       subnets: (subnet: IPPrefix, ipv6Subnet: IPPrefix?)) throws(PluginError) -> SubnetLease {
        let json = try JSONValue.parse(bytes, what: "lease \(key)")
        guard let object = json.objectValue else {
            throw PluginError(.decode, "lease \(key) is not a JSON object")
        }
        let fields = FlannelConfigFields(object, what: "lease \(key)")
        guard let publicIP = (try? fields.address("PublicIP", family: .v4)) ?? nil else {
            throw PluginError(.decode, "lease \(key) has no valid IPv4 PublicIP")
        }
        let publicIPv6 = (try? fields.address("PublicIPv6", family: .v6)) ?? nil
        let backendType = (try? fields.string("BackendType")) ?? nil
        return SubnetLease(subnet: subnets.subnet, ipv6Subnet: subnets.ipv6Subnet,
                           publicIP: publicIP, publicIPv6: publicIPv6,
                           backendType: backendType ?? "",
                           backendData: fields.value("BackendData"),
                           backendV6Data: fields.value("BackendV6Data"))
    }
}
