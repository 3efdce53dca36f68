import CNI
import NetTypes

/// One node's claim on a subnet, as flannel stores it: the key names the subnet(s), the value
/// says where the node is (`PublicIP`) and how to reach it (`BackendType`, `BackendData`).
public struct SubnetLease: Sendable, Equatable {
    /// The node's IPv4 subnet (network address and SubnetLen).
    public var subnet: IPPrefix
    /// The node's IPv6 subnet in dual stack; part of the key as flannel writes it.
    public var ipv6Subnet: IPPrefix?
    /// The node's underlay address: where peers send encapsulated or routed traffic.
    public var publicIP: IPAddress
    public var publicIPv6: IPAddress?
    /// "vxlan" or "host-gw".
    public var backendType: String
    /// vxlan: `{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}`; host-gw: nil.
    public var backendData: JSONValue?
    /// vxlan in dual stack: the IPv6 VTEP's data.
    public var backendV6Data: JSONValue?
    /// When the lease lapses, in seconds since the epoch; nil when the registry does not say
    /// (etcd removes expired keys itself, so every listed etcd lease is live).
    public var expiration: Double?

    public init(subnet: IPPrefix, ipv6Subnet: IPPrefix? = nil, publicIP: IPAddress, publicIPv6: IPAddress? = nil,
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
    public var key: String { LeaseKey.make(subnet: subnet, ipv6Subnet: ipv6Subnet) }

    /// vxlan's VTEP MAC from `BackendData`, if present and well-formed.
    public var vtepMAC: MACAddress? {
        backendData?["VtepMAC"]?.stringValue.flatMap { MACAddress($0) }
    }

    /// vxlan's VNI from `BackendData`.
    public var vni: Int? { backendData?["VNI"]?.intValue }

    /// The `BackendData` flannel's vxlan backend publishes.
    public static func vxlanBackendData(vni: Int, vtepMAC: MACAddress) -> JSONValue {
        .object(["VNI": .int(vni), "VtepMAC": .string(vtepMAC.description)])
    }

    /// Whether the lease has lapsed at `now` (seconds since the epoch).
    public func isExpired(at now: Double) -> Bool {
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
