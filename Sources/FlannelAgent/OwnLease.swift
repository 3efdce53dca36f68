import CNI
import NetTypes
import SubnetRegistry

/// Where this node's own lease stands in the registry, as the lease admission judge says
/// after every listing and every batch of lease events (AgentNode+Admission): a lease
/// deleted behind the node's back (an operator's mistake, an etcd restore, expiry after a
/// suspended VM: flannel#29, #520) is noticed at once instead of leaving the node's
/// containers cut off from the cluster, and an alias of the node's key cannot fake a
/// conflict (the judge rejects it for its key).
typealias OwnLeaseStatus = OwnLeaseHolding

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
