import CNI
import NetTypes

/// The one rule set that decides which registry leases become peers, for every registry
/// and every backend: anyone who can write to the registry can write any lease, and a
/// lease becomes kernel routes, neighbours and FDB entries on every node. Pure, so every
/// rule is unit-tested; `judge` takes a whole listing (`LeaseVerdict`), `problem` one lease.
///
/// Rules for one lease (the first that fails is the reason):
/// - the stored key is canonical and directly under subnets/ (`LeaseKey.isCanonical`);
/// - BackendType is the node's (flannel's vxlan and route backends skip such a lease with a
///   warning too, but at every event; here it is rejected, counted and logged once);
/// - the subnet lies inside Network with exactly SubnetLen; in dual stack the IPv6 half
///   inside IPv6Network with IPv6SubnetLen (flannel checks neither);
/// - PublicIP is IPv4 unicast: not 0.0.0.0/8, loopback, multicast, 240.0.0.0/4 (reserved,
///   and the limited broadcast); in dual stack a lease with an IPv6 half has a PublicIPv6
///   that is not ::, ::1, multicast or IPv4-mapped; neither is this node's own (flannel
///   checks none of these);
/// - vxlan: VtepMAC (and in dual stack the v6 one) present, unicast and not all zeros
///   (flannel programs whatever it decodes).
///
/// On a node that is not dual stack a lease's IPv6 half is not judged at all: the node
/// programs no IPv6 entries, so the half is inert, and the IPv4 half decides (flannel, too,
/// only looks at the IPv6 half when IPv6 is enabled).
package struct LeaseAdmission: Sendable {
    package let network: IPPrefix
    package let subnetLength: Int
    /// Dual stack: the IPv6 network and subnet length; nil: the node is IPv4 only.
    package let ipv6: (network: IPPrefix, subnetLength: Int)?
    package let backendType: String
    /// This node's lease (subnets, PublicIP, PublicIPv6, key): never a peer.
    package let own: SubnetLease

    package init(network: IPPrefix, subnetLength: Int, ipv6Network: IPPrefix? = nil, ipv6SubnetLength: Int? = nil,
                 backendType: String, own: SubnetLease) {
        self.network = network.network
        self.subnetLength = subnetLength
        if let ipv6Network, let ipv6SubnetLength, own.ipv6Subnet != nil {
            ipv6 = (ipv6Network.network, ipv6SubnetLength)
        } else {
            ipv6 = nil
        }
        self.backendType = backendType
        self.own = own
    }

    /// The node's context from its network config: dual stack when the config has an IPv6
    /// network and the node's lease an IPv6 subnet. Nil when the config has no IPv4 network.
    package init?(config: FlannelNetworkConfig, own: SubnetLease) {
        guard let network = config.network else { return nil }
        self.init(network: network, subnetLength: config.subnetLen, ipv6Network: config.ipv6Network,
                  ipv6SubnetLength: config.ipv6SubnetLen, backendType: config.backend.type, own: own)
    }

    package var isDualStack: Bool { ipv6 != nil }

    /// Why `lease` cannot be a peer on its own merits (nil: it can), before any comparison
    /// with other leases or with this node's subnet. The dataplane's backends rely on this.
    package func problem(_ lease: SubnetLease) -> (reason: LeaseRejection, detail: String)? {
        let key = lease.storedKey
        guard LeaseKey.isCanonical(key), key == lease.key else {
            return (.nonCanonicalKey, key.utf8.contains(UInt8(ascii: "/"))
                ? "the key is not directly under subnets/" : "the key is not flannel's spelling \(lease.key)")
        }
        guard lease.backendType == backendType else {
            return (.backendMismatch, "BackendType \"\(lease.backendType)\" is not this node's \"\(backendType)\"")
        }
        if let problem = Self.subnetProblem(lease.subnet, network: network, length: subnetLength) { return problem }
        if let problem = Self.addressProblem(lease.publicIP, field: "PublicIP", family: .v4) { return problem }
        if lease.publicIP == own.publicIP { return (.ownPublicIP, "PublicIP \(lease.publicIP) is this node's") }
        let vxlan = backendType == "vxlan"
        if vxlan, let problem = Self.macProblem(lease.vtepMAC, raw: lease.backendData, field: "VtepMAC") { return problem }
        guard let ipv6, let ipv6Subnet = lease.ipv6Subnet else { return nil }
        if let problem = Self.subnetProblem(ipv6Subnet, network: ipv6.network, length: ipv6.subnetLength) { return problem }
        guard let publicIPv6 = lease.publicIPv6 else {
            return (.badPublicIP, "the lease has IPv6 subnet \(ipv6Subnet) but no PublicIPv6")
        }
        if let problem = Self.addressProblem(publicIPv6, field: "PublicIPv6", family: .v6) { return problem }
        if publicIPv6 == own.publicIPv6 { return (.ownPublicIP, "PublicIPv6 \(publicIPv6) is this node's") }
        if vxlan, let problem = Self.macProblem(lease.vtepMACv6, raw: lease.backendV6Data, field: "BackendV6Data VtepMAC") {
            return problem
        }
        return nil
    }

    /// Whether the two leases claim a common address in a family this node programs.
    func overlap(_ a: SubnetLease, _ b: SubnetLease) -> Bool {
        if a.subnet.overlaps(b.subnet) { return true }
        guard isDualStack, let a6 = a.ipv6Subnet, let b6 = b.ipv6Subnet else { return false }
        return a6.overlaps(b6)
    }

    private static func subnetProblem(_ subnet: IPPrefix, network: IPPrefix,
                                      length: Int) -> (reason: LeaseRejection, detail: String)? {
        guard subnet.family == network.family, subnet.length >= network.length, network.contains(subnet.address) else {
            return (.outsideNetwork, "subnet \(subnet) is outside the network \(network)")
        }
        guard subnet.length == length else {
            return (.wrongSubnetLength, "subnet \(subnet) is not a /\(length)")
        }
        return nil
    }

    /// Unicast of its family: what a tunnel endpoint or a next hop can be.
    private static func addressProblem(_ address: IPAddress, field: String,
                                       family: IPAddress.Family) -> (reason: LeaseRejection, detail: String)? {
        let kind: String?
        switch address {
        case .v4 where family != .v4, .v6 where family != .v6:
            kind = "not an IPv\(family == .v4 ? 4 : 6) address"
        case .v4(let v):
            switch v >> 24 {
            case 0: kind = v == 0 ? "the unspecified address" : "in 0.0.0.0/8 (this network)"
            case 127: kind = "a loopback address"
            case 224...239: kind = "a multicast address"
            case 240...255: kind = v == .max ? "the broadcast address" : "a reserved address (240.0.0.0/4)"
            default: kind = nil
            }
        case .v6(let hi, let lo):
            if hi == 0 && lo == 0 {
                kind = "the unspecified address"
            } else if hi == 0 && lo == 1 {
                kind = "the loopback address"
            } else if hi >> 56 == 0xff {
                kind = "a multicast address"
            } else if hi == 0 && lo >> 32 == 0xffff {
                kind = "an IPv4-mapped address"
            } else {
                kind = nil
            }
        }
        return kind.map { (.badPublicIP, "\(field) \(address) is \($0)") }
    }

    private static func macProblem(_ mac: MACAddress?, raw: JSONValue?,
                                   field: String) -> (reason: LeaseRejection, detail: String)? {
        guard let mac else {
            let text = raw?["VtepMAC"].map { $0.serialized() }
            return (.badVtepMAC, text.map { "\(field) \($0) is not a MAC address" } ?? "the lease has no \(field)")
        }
        if mac.bytes.allSatisfy({ $0 == 0 }) { return (.badVtepMAC, "\(field) \(mac) is all zeros") }
        if mac.bytes[0] & 1 != 0 {
            return (.badVtepMAC, "\(field) \(mac) is a " + (mac.bytes.allSatisfy { $0 == 0xff } ? "broadcast" : "multicast")
                    + " address")
        }
        return nil
    }
}
