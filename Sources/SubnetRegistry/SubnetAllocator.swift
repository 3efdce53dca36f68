import CNI
import NetTypes

/// Chooses and acquires this node's subnet, flannel's way:
/// (a) the previous subnet (from the state dir or subnet.env) when it is free or already
///     leased to this node's PublicIP — a restart keeps its containers' addresses;
/// (b) otherwise a lease already held by this PublicIP;
/// (c) otherwise a random free subnet in [SubnetMin, SubnetMax], picked among the first
///     100 free ones so agents starting together rarely collide.
/// Losing a creation race (`createLease` false) excludes that subnet and tries again, a
/// bounded number of times. IPv4 only for now: the allocator refuses IPv6 configs.
package struct SubnetAllocator {
    package let config: FlannelNetworkConfig
    package let publicIP: IPAddress
    package let backendType: String
    package let backendData: JSONValue?
    /// How many lost races to tolerate before giving up.
    package var maxAttempts = 20
    /// How many free candidates to draw the random pick from (flannel: 100).
    package var candidatePool = 100

    package init(config: FlannelNetworkConfig, publicIP: IPAddress, backendType: String, backendData: JSONValue?) {
        self.config = config
        self.publicIP = publicIP
        self.backendType = backendType
        self.backendData = backendData
    }

    /// What to do with the registry.
    package enum Choice: Equatable, Sendable {
        /// The subnet is ours already (or our previous one, now free): renew it.
        case renew(IPPrefix)
        /// Claim a new subnet with an atomic create.
        case create(IPPrefix)
    }

    /// Pure decision from a listing (`excluded`: subnets we lost a race for).
    package func choose(leases: [SubnetLease], previous: IPPrefix?, excluded: Set<IPPrefix> = [],
                       using rng: inout some RandomNumberGenerator) throws(PluginError) -> Choice {
        let (network, min, max) = try ipv4Range()
        let held = Dictionary(leases.map { ($0.subnet, $0) }, uniquingKeysWith: { a, _ in a })
        if let previous = previous?.network, previous.length == config.subnetLen, network.contains(previous.address),
           !excluded.contains(previous) {
            if let owner = held[previous] {
                if owner.publicIP == publicIP { return .renew(previous) }
            } else if isFree(previous, leases: leases) {
                return .create(previous)
            }
        }
        if let mine = leases.first(where: { $0.publicIP == publicIP && network.contains($0.subnet.address)
                                            && $0.subnet.length == config.subnetLen && !excluded.contains($0.subnet) }) {
            return .renew(mine.subnet)
        }
        var free: [IPPrefix] = []
        var cursor: IPAddress? = min
        while let address = cursor, address <= max, free.count < candidatePool {
            let candidate = IPPrefix(address: address, length: config.subnetLen)!
            if !excluded.contains(candidate) && held[candidate] == nil && isFree(candidate, leases: leases) {
                free.append(candidate)
            }
            cursor = SubnetMath.next(address, length: config.subnetLen)
        }
        guard let pick = free.randomElement(using: &rng) else {
            throw PluginError(.failed,
                "no free subnet in \(network) between \(min) and \(max) (/\(config.subnetLen)): "
                + "\(leases.count) leases held" + (excluded.isEmpty ? "" : ", \(excluded.count) lost to other nodes"))
        }
        return .create(pick)
    }

    /// Lists, chooses, and creates or renews until this node holds a lease; returns it.
    package func acquire(from registry: any Registry, previous: IPPrefix?, ttl: Int) throws -> SubnetLease {
        var rng = SystemRandomNumberGenerator()
        return try acquire(from: registry, previous: previous, ttl: ttl, using: &rng)
    }

    package func acquire(from registry: any Registry, previous: IPPrefix?, ttl: Int,
                        using rng: inout some RandomNumberGenerator) throws -> SubnetLease {
        var excluded: Set<IPPrefix> = []
        for _ in 0..<maxAttempts {
            let choice = try choose(leases: registry.leases(), previous: previous, excluded: excluded, using: &rng)
            switch choice {
            case .renew(let subnet):
                var lease = makeLease(subnet)
                try registry.renewLease(lease, ttl: ttl)
                lease.expiration = registryNow() + Double(ttl)
                return lease
            case .create(let subnet):
                var lease = makeLease(subnet)
                if try registry.createLease(lease, ttl: ttl) {
                    lease.expiration = registryNow() + Double(ttl)
                    return lease
                }
                excluded.insert(subnet)
            }
        }
        throw PluginError(.tryAgainLater,
            "could not acquire a subnet from \(registry.location): lost \(maxAttempts) races to other nodes "
            + "(lost: \(excluded.map(\.description).sorted().joined(separator: ", ")))")
    }

    /// The lease this node publishes for `subnet`.
    package func makeLease(_ subnet: IPPrefix) -> SubnetLease {
        SubnetLease(subnet: subnet, publicIP: publicIP, backendType: backendType, backendData: backendData)
    }

    private func ipv4Range() throws(PluginError) -> (IPPrefix, IPAddress, IPAddress) {
        guard config.enableIPv4, !config.enableIPv6, let network = config.network,
              let min = config.subnetMin, let max = config.subnetMax else {
            throw PluginError(.unsupportedField,
                "IPv6 subnets (EnableIPv6) are not supported yet; use an IPv4-only network config")
        }
        return (network, min, max)
    }

    /// Free unless an unexpired lease of another length overlaps it (SubnetLen changed).
    private func isFree(_ candidate: IPPrefix, leases: [SubnetLease]) -> Bool {
        !leases.contains { $0.subnet.length != candidate.length && $0.subnet.overlaps(candidate) }
    }
}
