import CNI
import NetTypes
import SubnetRegistry

/// Where this node's own lease stands in the registry: what the agent compares after every
/// listing and every batch of lease events, so that a lease deleted behind its back (an
/// operator's mistake, an etcd restore, expiry after a suspended VM: flannel#29, #520) is
/// noticed at once instead of leaving the node's containers cut off from the cluster.
enum OwnLeaseStatus: Equatable {
    /// The key holds a lease with this node's PublicIP.
    case held
    /// No unexpired lease for the node's subnet: deleted or expired.
    case missing
    /// Another node (this PublicIP) holds the node's subnet now.
    case takenBy(IPAddress)

    /// The status a full listing shows (unexpired leases only, as `Registry.leases()` gives).
    init(listing: [SubnetLease], own: SubnetLease) {
        self = .missing
        for lease in listing where lease.subnet == own.subnet {
            self = Self(holder: lease, own: own)
            if self == .held { return }  // a duplicate key of ours counts as ours
        }
    }

    /// The status after a batch of events, from the last event about the node's subnet;
    /// nil when the batch does not mention it.
    init?(events: [RegistryEvent], own: SubnetLease) {
        var status: OwnLeaseStatus?
        for event in events {
            switch event {
            case .put(let lease) where lease.subnet == own.subnet: status = Self(holder: lease, own: own)
            case .delete(let key) where key == own.key:
                status = .missing
            default: continue
            }
        }
        guard let status else { return nil }
        self = status
    }

    private init(holder: SubnetLease, own: SubnetLease) {
        self = holder.publicIP == own.publicIP ? .held : .takenBy(holder.publicIP)
    }
}

/// What the agent does about its own lease's status, given the conflict it is in (the other
/// node's PublicIP) if any. Pure, so every transition is unit-tested.
enum OwnLeaseAction: Equatable {
    /// Nothing changed.
    case none
    /// The lease is gone: create the same key with the same value again (an atomic create,
    /// so a node that takes the subnet at the same moment wins or loses cleanly).
    case reacquire
    /// Another node holds the subnet: report it, withdraw the peer entries, never take it
    /// back while that node holds it. `isNew` is false while the same conflict goes on.
    case conflict(with: IPAddress, isNew: Bool)
    /// The conflict is over and the lease is this node's again: program the peers again.
    case resolved

    static func decide(_ status: OwnLeaseStatus, conflictWith current: IPAddress?) -> OwnLeaseAction {
        switch status {
        case .held: return current == nil ? .none : .resolved
        case .missing: return .reacquire
        case .takenBy(let other): return .conflict(with: other, isNew: other != current)
        }
    }
}
