import CNI
import SubnetRegistry
import Netlink

/// A backend that makes the kernel match the agent's peer list (VXLAN or host-gw).
///
/// Two paths: `reconcile` takes the complete desired list (start-up, resync ticks, and
/// whenever the registry cannot say what changed), reads the kernel's actual state, diffs
/// and applies only the difference, so entries deleted by hand come back. `apply` takes
/// only the peers whose leases changed and writes or removes their entries without reading
/// the kernel, so an event costs in proportion to what changed, not to the cluster's size.
///
/// Neither throws: unreachable peers and failed entries are in the report, so one bad peer
/// never stops the others and the agent can log and expose each of them.
package protocol Dataplane {
    mutating func reconcile(_ peers: [Peer]) -> ReconcileReport

    /// Relies on what the last `reconcile` learnt (device, directly connected networks);
    /// before any, or when that is stale, the report has failures and the caller should
    /// reconcile in full.
    mutating func apply(_ changes: [PeerChange]) -> ReconcileReport
}

extension RouteProtocol {
    /// rtm_protocol 0x5c (92) on every route the dataplane installs. Resync lists only
    /// routes carrying it, so routes added by people or other daemons are never changed or
    /// removed. 92 is not assigned in the kernel's RTPROT_* list nor in iproute2's
    /// rt_protos; `ip route show proto 92` lists our routes.
    package static let swiftCNI = RouteProtocol(rawValue: 0x5c)
}
