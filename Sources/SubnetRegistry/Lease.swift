import CNI
import NetTypes

/// One node's claim on a subnet, as flannel stores it: the key names the subnet(s), the value
/// says where the node is (`PublicIP`) and how to reach it (`BackendType`, `BackendData`).
package struct SubnetLease: Sendable, Equatable {
    /// The node's IPv4 subnet (network address and SubnetLen).
    package var subnet: IPPrefix
    /// The node's IPv6 subnet in dual stack; part of the key as flannel writes it.
    package var ipv6Subnet: IPPrefix?
    /// The node's underlay address: where peers send encapsulated or routed traffic.
    package var publicIP: IPAddress
    package var publicIPv6: IPAddress?
    /// "vxlan" or "host-gw".
    package var backendType: String
    /// vxlan: `{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}`; host-gw: nil.
    package var backendData: JSONValue?
    /// vxlan in dual stack: the IPv6 VTEP's data.
    package var backendV6Data: JSONValue?
    /// When the lease lapses, in seconds since the epoch; nil when the registry does not say
    /// (etcd removes expired keys itself, so every listed etcd lease is live).
    package var expiration: Double?

    package init(subnet: IPPrefix, ipv6Subnet: IPPrefix? = nil, publicIP: IPAddress, publicIPv6: IPAddress? = nil,
                backendType: String, backendData: JSONValue? = nil, backendV6Data: JSONValue? = nil,
                expiration: Double? = nil) {
        self.subnet = subnet.network
        self.ipv6Subnet = ipv6Subnet?.network
        self.publicIP = publicIP
        self.publicIPv6 = publicIPv6
        self.backendType = backendType
        self.backendData = backendData
        self.backendV6Data = backendV6Data
        self.expiration = expiration
    }

    /// The registry key below `<prefix>/subnets/`.
    package var key: String { LeaseKey.make(subnet: subnet, ipv6Subnet: ipv6Subnet) }

    /// vxlan's VTEP MAC from `BackendData`, if present and well-formed.
    package var vtepMAC: MACAddress? {
        backendData?["VtepMAC"]?.stringValue.flatMap { MACAddress($0) }
    }

    /// vxlan's VNI from `BackendData`.
    package var vni: Int? { backendData?["VNI"]?.intValue }

    /// The `BackendData` flannel's vxlan backend publishes.
    package static func vxlanBackendData(vni: Int, vtepMAC: MACAddress) -> JSONValue {
        .object(["VNI": .int(vni), "VtepMAC": .string(vtepMAC.description)])
    }

    /// Whether the lease has lapsed at `now` (seconds since the epoch).
    package func isExpired(at now: Double) -> Bool {
        expiration.map { $0 <= now } ?? false
    }

    /// Same subnet, same attributes: what renewal compares to decide whether to rewrite.
    func hasSameAttributes(as other: SubnetLease) -> Bool {
        var a = self, b = other
        a.expiration = nil
        b.expiration = nil
        return a == b
    }
}
