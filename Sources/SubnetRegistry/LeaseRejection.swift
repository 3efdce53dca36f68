/// Why a registry entry is not a peer. The raw value is the `reason` label of
/// `swiftcni_leases_rejected_total`, so it never changes once released.
package enum LeaseRejection: String, CaseIterable, Sendable, Hashable {
    /// The stored name is not the one spelling of its subnets directly under subnets/
    /// ("10.244.1.0-024", "evil/dir/10.244.1.0-24", "../../10.244.1.0-24").
    case nonCanonicalKey = "non_canonical_key"
    /// The subnet (or its IPv6 half) does not lie inside `Network` (`IPv6Network`).
    case outsideNetwork = "outside_network"
    /// The subnet's length is not `SubnetLen` (`IPv6SubnetLen`).
    case wrongSubnetLength = "wrong_subnet_length"
    /// Another node's lease, younger than this node's, overlapping this node's subnet.
    case overlapsOwnSubnet = "overlaps_own_subnet"
    /// Overlaps a peer's lease that is older (the older one is the peer).
    case overlapsOlderLease = "overlaps_older_lease"
    /// PublicIP / PublicIPv6 missing, of the wrong family, or not a unicast address.
    case badPublicIP = "bad_public_ip"
    /// PublicIP / PublicIPv6 is this node's own, under a key that is not this node's.
    case ownPublicIP = "own_public_ip"
    /// vxlan: the VtepMAC (or the v6 one) missing, multicast/broadcast, or all zeros.
    case badVtepMAC = "bad_vtep_mac"
    /// The lease's BackendType is not this node's.
    case backendMismatch = "backend_mismatch"
    /// The registry could not read the entry as a lease: not a regular file, too big, not
    /// JSON, no valid PublicIP, or a name that is not a lease key at all.
    case unreadable = "unreadable"
}

/// One registry entry that does not become a peer, for the log line and the metric.
package struct RejectedLease: Sendable, Equatable, CustomStringConvertible {
    /// The name as stored below `<prefix>/subnets/`.
    package var storedKey: String
    package var reason: LeaseRejection
    /// What exactly is wrong, in a few words ("PublicIP 127.0.0.1 is a loopback address").
    package var detail: String
    /// The lease as read; nil when it could not be read (`unreadable`).
    package var lease: SubnetLease?

    package init(storedKey: String, reason: LeaseRejection, detail: String, lease: SubnetLease? = nil) {
        self.storedKey = storedKey
        self.reason = reason
        self.detail = detail
        self.lease = lease
    }

    package var description: String { "lease \(storedKey) rejected (\(reason.rawValue)): \(detail)" }

    /// What makes two rejections "the same" for log-once: the entry, the reason and its words.
    var identity: String { storedKey + "\u{0}" + reason.rawValue + "\u{0}" + detail }
}
