import CNI
import NetTypes

/// Chooses and acquires this node's subnet (dual stack: its IPv4 and IPv6 subnets, one lease
/// keyed `v4&v6`), flannel's way; `SubnetAllocator+Choose` has the rules. Losing a creation
/// race (`createLease` false) excludes that lease's subnets and tries again, a bounded number
/// of times. IPv6-only configs (EnableIPv4 false) are refused: flannel's lease keys always
/// start with an IPv4 subnet, and its etcd subnet manager has no IPv6-only mode either.
package struct SubnetAllocator {
    package let config: FlannelNetworkConfig
    package let publicIP: IPAddress
    package let backendType: String
    package let backendData: JSONValue?
    /// Dual stack: the node's IPv6 underlay address (`PublicIPv6`) and the IPv6 VTEP's data
    /// (`BackendV6Data`). Published only in dual-stack leases, so IPv4-only leases stay
    /// byte-identical whatever the node has.
    package let publicIPv6: IPAddress?
    package let backendV6Data: JSONValue?
    /// How many lost races to tolerate before giving up.
    package var maxAttempts = 20
    /// How many free candidates to draw the random pick from (flannel: 100).
    package var candidatePool = 100

    package init(config: FlannelNetworkConfig, publicIP: IPAddress, backendType: String, backendData: JSONValue?,
                publicIPv6: IPAddress? = nil, backendV6Data: JSONValue? = nil) {
        self.config = config
        self.publicIP = publicIP
        self.backendType = backendType
        self.backendData = backendData
        self.publicIPv6 = publicIPv6
        self.backendV6Data = backendV6Data
    }

    /// What to do with the registry. `ipv6` is the IPv6 half of a dual-stack lease;
    /// `replacing` names keys of this node's other leases that share a subnet with the chosen
    /// one (an IPv4-only lease upgraded to dual stack, a changed IPv6 part): removed once the
    /// chosen lease is ours, so peers never see one subnet twice for long.
    package enum Choice: Equatable, Sendable {
        /// The lease is ours already: renew it.
        case renew(IPPrefix, ipv6: IPPrefix? = nil, replacing: [String] = [])
        /// Claim a new lease with an atomic create.
        case create(IPPrefix, ipv6: IPPrefix? = nil, replacing: [String] = [])
    }

    /// Lists, chooses, and creates or renews until this node holds a lease; returns it.
    /// `previousIPv6`: the IPv6 subnet of the last run (subnet.env's FLANNEL_IPV6_SUBNET).
    package func acquire(from registry: any Registry, previous: IPPrefix?, previousIPv6: IPPrefix? = nil,
                        ttl: Int) throws -> SubnetLease {
        var rng = SystemRandomNumberGenerator()
        return try acquire(from: registry, previous: previous, previousIPv6: previousIPv6, ttl: ttl, using: &rng)
    }

    package func acquire(from registry: any Registry, previous: IPPrefix?, previousIPv6: IPPrefix? = nil, ttl: Int,
                        using rng: inout some RandomNumberGenerator) throws -> SubnetLease {
        var excluded: Set<IPPrefix> = []
        for _ in 0..<maxAttempts {
            let choice = try choose(leases: registry.leases(), previous: previous, previousIPv6: previousIPv6,
                                    excluded: excluded, using: &rng)
            switch choice {
            case .renew(let subnet, let ipv6, let replacing):
                var lease = makeLease(subnet, ipv6Subnet: ipv6)
                try registry.renewLease(lease, ttl: ttl)
                try remove(replacing, from: registry)
                lease.expiration = registryNow() + Double(ttl)
                return lease
            case .create(let subnet, let ipv6, let replacing):
                var lease = makeLease(subnet, ipv6Subnet: ipv6)
                guard try registry.createLease(lease, ttl: ttl) else {
                    excluded.formUnion([subnet] + (ipv6.map { [$0] } ?? []))
                    continue
                }
                if let lost = try rivals(of: lease, in: registry) {
                    try registry.deleteLease(key: lease.key)
                    excluded.formUnion(lost)
                    continue
                }
                try remove(replacing, from: registry)
                lease.expiration = registryNow() + Double(ttl)
                return lease
            }
        }
        throw PluginError(.tryAgainLater,
            "could not acquire a subnet from \(registry.location): lost \(maxAttempts) races to other nodes "
            + "(lost: \(excluded.map(\.description).sorted().joined(separator: ", ")))")
    }

    /// The lease this node publishes for `subnet` (and `ipv6Subnet` in dual stack).
    package func makeLease(_ subnet: IPPrefix, ipv6Subnet: IPPrefix? = nil) -> SubnetLease {
        guard let ipv6Subnet else {
            return SubnetLease(subnet: subnet, publicIP: publicIP, backendType: backendType, backendData: backendData)
        }
        return SubnetLease(subnet: subnet, ipv6Subnet: ipv6Subnet, publicIP: publicIP, publicIPv6: publicIPv6,
                           backendType: backendType, backendData: backendData, backendV6Data: backendV6Data)
    }

    /// A dual-stack create is atomic per key only: another node may have created a key with
    /// the same IPv4 subnet and another IPv6 one (or the reverse) at the same time, which
    /// flannel does not notice. Right after our create we list again; the subnets we share
    /// with another node's lease are returned (we then withdraw ours and choose again). The
    /// later of two racing creators always sees the other, so a shared subnet never stays.
    private func rivals(of lease: SubnetLease, in registry: any Registry) throws -> Set<IPPrefix>? {
        guard let ipv6 = lease.ipv6Subnet else { return nil }
        var lost: Set<IPPrefix> = []
        for other in try registry.leases() where other.key != lease.key && other.publicIP != publicIP {
            if other.subnet.overlaps(lease.subnet) { lost.insert(lease.subnet) }
            if let theirs = other.ipv6Subnet, theirs.overlaps(ipv6) { lost.insert(ipv6) }
        }
        return lost.isEmpty ? nil : lost
    }

    private func remove(_ keys: [String], from registry: any Registry) throws {
        for key in keys { try registry.deleteLease(key: key) }
    }
}
