import Netlink

/// A backend that makes the kernel match the agent's peer list (VXLAN or host-gw).
///
/// The agent calls `reconcile` on every registry event and on every resync tick with the
/// complete desired list; the backend reads the kernel's actual state, diffs and applies
/// only the difference, so repeated calls are cheap and entries deleted by hand come back.
public protocol Dataplane {
    /// Never throws: unreachable peers and failed entries are in the report, so one bad
    /// peer never stops the others and the agent can log and expose each of them.
    mutating func reconcile(_ peers: [Peer]) -> ReconcileReport
}

extension RouteProtocol {
    /// rtm_protocol 0x5c (92) on every route the dataplane installs. Resync lists only
    /// routes carrying it, so routes added by people or other daemons are never changed or
    /// removed. 92 is not assigned in the kernel's RTPROT_* list nor in iproute2's
    /// rt_protos; `ip route show proto 92` lists our routes.
    public static let swiftCNI = RouteProtocol(rawValue: 0x5c)
}
