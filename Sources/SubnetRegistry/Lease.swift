import CNI
import NetTypes

/// One node's claim on a subnet, as flannel stores it: the key names the subnet(s), the value
/// says where the node is (`PublicIP`) and how to reach it (`BackendType`, `BackendData`).
///
/// Equality covers what the registry stores (key, value, expiry), not `creationRank`: that
/// is the registry's bookkeeping about when the key was made, and a renewal or a relisting
/// of the same lease must still compare equal.
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
    /// When the registry made the key, as an order: smaller is older (etcd's
    /// `create_revision`; the directory registry's file birth time in ns). Nil: unknown.
    /// What decides between two leases that claim the same subnet (`LeaseAdmission`).
    package var creationRank: Int64?
    /// The name exactly as stored below `<prefix>/subnets/` when it is not the canonical
    /// `key` (an alias such as "10.244.1.0-024" or "evil/10.244.1.0-24"); nil: it is `key`.
    private var aliasKey: String?

    package init(subnet: IPPrefix, ipv6Subnet: IPPrefix? = nil, publicIP: IPAddress, publicIPv6: IPAddress? = nil,
                backendType: String, backendData: JSONValue? = nil, backendV6Data: JSONValue? = nil,
                expiration: Double? = nil, storedKey: String? = nil, creationRank: Int64? = nil) {
        self.subnet = subnet.network
        self.ipv6Subnet = ipv6Subnet?.network
        self.publicIP = publicIP
        self.publicIPv6 = publicIPv6
        self.backendType = backendType
        self.backendData = backendData
        self.backendV6Data = backendV6Data
        self.expiration = expiration
        self.creationRank = creationRank
        self.aliasKey = nil
        if let storedKey { self.storedKey = storedKey }
    }

    /// The registry key below `<prefix>/subnets/` that the subnets give (what this node writes).
    package var key: String { LeaseKey.make(subnet: subnet, ipv6Subnet: ipv6Subnet) }

    /// The name the lease is stored under, relative to `<prefix>/subnets/`: `key` unless the
    /// registry holds it under another spelling (which `LeaseAdmission` rejects).
    package var storedKey: String {
        get { aliasKey ?? key }
        set { aliasKey = newValue == key ? nil : newValue }
    }

    package static func == (a: SubnetLease, b: SubnetLease) -> Bool {
        a.subnet == b.subnet && a.ipv6Subnet == b.ipv6Subnet && a.publicIP == b.publicIP && a.publicIPv6 == b.publicIPv6
            && a.backendType == b.backendType && a.backendData == b.backendData && a.backendV6Data == b.backendV6Data
            && a.expiration == b.expiration && (a.aliasKey == b.aliasKey || a.storedKey == b.storedKey)
    }

    /// vxlan's VTEP MAC from `BackendData`, if present and well-formed.
    package var vtepMAC: MACAddress? {
        backendData?["VtepMAC"]?.stringValue.flatMap { MACAddress($0) }
    }

    /// The v6 VTEP's MAC from `BackendV6Data` (vxlan in dual stack).
    package var vtepMACv6: MACAddress? {
        backendV6Data?["VtepMAC"]?.stringValue.flatMap { MACAddress($0) }
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
