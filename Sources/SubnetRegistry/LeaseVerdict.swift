import NetTypes

/// Where this node's own lease stands in a registry listing, as `LeaseAdmission` sees it.
package enum OwnLeaseHolding: Sendable, Equatable {
    /// The node's key holds a lease with the node's PublicIP.
    case held
    /// No lease under the node's key, and no other node's claims the node's subnet.
    case missing
    /// Another node (this PublicIP) holds the node's key, or an older canonical lease of
    /// another node overlaps the node's subnet.
    case takenBy(IPAddress)
}

/// A whole listing judged: the peers to program, the own lease's standing, and every entry
/// that is neither (with the reason).
package struct LeaseVerdict: Sendable, Equatable {
    /// Admitted leases of other nodes, by subnet: no two overlap, none overlaps this node's.
    package var peers: [SubnetLease]
    package var own: OwnLeaseHolding
    /// The node's own lease as listed, when `own` is `held`.
    package var ownLease: SubnetLease?
    /// By stored key. Not here: the own lease, its leftovers (a lease with the node's
    /// PublicIP that overlaps its subnet under another key: its IPv4-only key during an
    /// upgrade to dual stack), and the lease `own` is `takenBy`.
    package var rejected: [RejectedLease]
}

extension LeaseAdmission {
    /// Judges a whole listing (unexpired leases, any order: the verdict does not depend on
    /// it). `unreadable` are entries the registry could not read (they go to `rejected`).
    ///
    /// Two leases that overlap (the same subnet under two keys, e.g. dual-stack keys sharing
    /// a half, or an IPv4-only key next to a dual-stack one): the older one is the peer, the
    /// other is rejected. Older: smaller `creationRank`; unknown ranks count as youngest;
    /// equal ranks: the smaller stored key. A canonical lease of another node overlapping
    /// this node's subnet takes it (`takenBy`) only when it is provably older than the
    /// node's own lease (both ranks known), or the node's lease is missing; otherwise it is
    /// rejected. An alias never gets that far: it is rejected for its key.
    package func judge(_ leases: [SubnetLease], unreadable: [RejectedLease] = []) -> LeaseVerdict {
        decide(leases.map { JudgedLease($0, problem: problem($0)) }, unreadable: unreadable).verdict
    }

    /// The verdict from leases whose own `problem` is already known (`AdmittedLeases` keeps
    /// them, so a batch re-judges only what changed), and the admitted peers with their keys.
    func decide(_ judged: [JudgedLease], unreadable: [RejectedLease]) -> (verdict: LeaseVerdict, peers: [JudgedLease]) {
        let ownKey = own.key
        var rejected = unreadable
        var ownLease: SubnetLease?
        var ownKeyHolder: SubnetLease?
        var candidates: [JudgedLease] = []
        candidates.reserveCapacity(judged.count)
        for entry in judged {
            let lease = entry.lease
            if entry.key == ownKey {
                if lease.publicIP == own.publicIP { ownLease = lease } else { ownKeyHolder = lease }
                continue
            }
            if entry.problem?.reason != .nonCanonicalKey, lease.publicIP == own.publicIP, overlap(lease, own) {
                continue  // this node's leftover key: neither a peer nor anything to report
            }
            if let problem = entry.problem {
                rejected.append(RejectedLease(storedKey: entry.key, reason: problem.reason, detail: problem.detail, lease: lease))
                continue
            }
            candidates.append(entry)
        }
        // Every candidate's subnets have exactly the configured lengths, so two overlap only
        // when equal. Only candidates that share a subnet with another or claim the node's
        // need the age order; the others are peers whatever it is (and never block one), so
        // only the few contested ones are sorted: a batch over 1,000 leases stays cheap.
        var uses: [IPPrefix: Int] = [:]
        for entry in candidates {
            uses[entry.lease.subnet, default: 0] += 1
            if isDualStack, let subnet = entry.lease.ipv6Subnet { uses[subnet, default: 0] += 1 }
        }
        var peers: [JudgedLease] = []
        var contested: [JudgedLease] = []
        for entry in candidates {
            let lease = entry.lease
            let shared = uses[lease.subnet] != 1 || (isDualStack && lease.ipv6Subnet.map { uses[$0] != 1 } == true)
            if shared || overlap(lease, self.own) { contested.append(entry) } else { peers.append(entry) }
        }
        contested.sort(by: Self.isOlder)

        var own: OwnLeaseHolding = ownKeyHolder.map { .takenBy($0.publicIP) } ?? (ownLease == nil ? .missing : .held)
        var claimedV4: [IPPrefix: String] = [:]
        var claimedV6: [IPPrefix: String] = [:]
        for entry in contested {
            let lease = entry.lease
            if overlap(lease, self.own) {
                if own == .missing || (own == .held && ownLease.map { Self.isProvablyOlder(lease, than: $0) } == true) {
                    own = .takenBy(lease.publicIP)
                } else {
                    rejected.append(RejectedLease(storedKey: entry.key, reason: .overlapsOwnSubnet,
                        detail: "it claims this node's subnet " + ownSubnetText + " and is not older than this node's lease",
                        lease: lease))
                }
                continue
            }
            let older = claimedV4[lease.subnet] ?? (isDualStack ? lease.ipv6Subnet.flatMap { claimedV6[$0] } : nil)
            if let older {
                rejected.append(RejectedLease(storedKey: entry.key, reason: .overlapsOlderLease,
                                              detail: "it overlaps the older lease \(older)", lease: lease))
                continue
            }
            claimedV4[lease.subnet] = entry.key
            if isDualStack, let subnet = lease.ipv6Subnet { claimedV6[subnet] = entry.key }
            peers.append(entry)
        }
        // By subnet; peers' IPv4 subnets are distinct, so the address alone orders them.
        var order = peers.indices.map { (Self.bits(peers[$0].lease.subnet.address), $0) }
        order.sort { $0.0 < $1.0 }
        peers = order.map { peers[$0.1] }
        rejected.sort { ($0.storedKey, $0.reason.rawValue) < ($1.storedKey, $1.reason.rawValue) }
        let verdict = LeaseVerdict(peers: peers.map(\.lease), own: own, ownLease: own == .held ? ownLease : nil,
                                   rejected: rejected)
        return (verdict, peers)
    }

    private var ownSubnetText: String {
        own.subnet.description + (isDualStack ? own.ipv6Subnet.map { " / \($0)" } ?? "" : "")
    }

    /// The order that decides between overlapping leases: known ranks first, smaller first,
    /// then the stored key. Total, so the winner never depends on listing order.
    static func isOlder(_ a: JudgedLease, _ b: JudgedLease) -> Bool {
        switch (a.lease.creationRank, b.lease.creationRank) {
        case let (x?, y?) where x != y: return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a.key < b.key
        }
    }

    private static func bits(_ address: IPAddress) -> UInt32 {
        if case .v4(let value) = address { return value }
        return 0
    }

    /// Only rank evidence can put another node before this one.
    static func isProvablyOlder(_ a: SubnetLease, than b: SubnetLease) -> Bool {
        guard let x = a.creationRank, let y = b.creationRank else { return false }
        return x < y
    }
}

/// A lease with its stored key (computed once: it is formatted from the subnets) and the
/// verdict of the rules that look at it alone. A class: a batch re-judges the whole view,
/// and moving a thousand references costs nothing next to copying a thousand leases.
final class JudgedLease: Sendable {
    let lease: SubnetLease
    let key: String
    let problem: (reason: LeaseRejection, detail: String)?

    init(_ lease: SubnetLease, problem: (reason: LeaseRejection, detail: String)?) {
        self.lease = lease
        key = lease.storedKey
        self.problem = problem
    }
}
