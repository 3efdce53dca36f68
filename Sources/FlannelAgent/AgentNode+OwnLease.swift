import CNI
import Dataplane
import NetTypes
import SubnetRegistry

/// Keeping this node's own lease: re-acquiring it when it vanished, reporting a conflict
/// when another node took the subnet meanwhile (see `OwnLeaseAction`).
///
/// In a conflict the node withdraws every peer route, neighbour and FDB entry and keeps them
/// withdrawn until the conflict ends. The other node now owns the subnet: the cluster routes
/// it there, so replies to this node's containers would reach the other node's containers
/// (same addresses) instead; sending into the cluster from here would only inject traffic
/// with the other node's addresses. What stays: the device, masquerade (outside traffic of
/// the containers keeps working), subnet.env and the local bridge (containers on this node
/// still reach each other). Nothing here points at the other node's subnet, so the other
/// node is never black-holed by this one. The node is not ready until the conflict ends.
extension AgentNode {
    /// Acts on `status`; true when a full listing must follow (the peers have to be
    /// programmed again, or the lease's state is still unclear). Registry errors propagate:
    /// the loop retries with backoff.
    mutating func keepOwnLease(_ status: OwnLeaseStatus, registry: any Registry) throws -> Bool {
        switch OwnLeaseAction.decide(status, conflictWith: conflict) {
        case .none:
            return false
        case .reacquire:
            return try reacquire(registry: registry)
        case .conflict(let other, let isNew):
            if isNew { enterConflict(with: other) }
            return false
        case .resolved:
            endConflict(how: "the lease with this node's PublicIP is back")
            return true
        }
    }

    /// Creates the same key with the same value (same subnet, same VTEP MAC): containers keep
    /// their addresses, subnet.env stays as it is, peers program the node again from the event.
    private mutating func reacquire(registry: any Registry) throws -> Bool {
        var fresh = lease
        fresh.expiration = nil
        if try registry.createLease(fresh, ttl: ttl) {
            let expiry = registryNow() + Double(ttl)
            lease.expiration = expiry
            renewAt = Self.renewalTime(expiry: expiry, ttl: ttl, margin: renewMargin)
            let wasInConflict = conflict != nil
            if wasInConflict { endConflict(how: "the other node released the subnet") }
            logger.warning("own lease vanished from the registry; re-acquired the same subnet",
                           metadata: ["subnet": "\(lease.subnet.description)", "key": "\(lease.key)"])
            metrics.recordLeaseExpiry(expiry)
            metrics.recordLeaseReacquired()
            return wasInConflict
        }
        // Someone created the key between our look and our create: who?
        // (Judged apart from the node's view: the peers follow at the next full listing.)
        let status = admitted.admission.judge(try registry.leases(), unreadable: registry.takeSkippedEntries()).own
        if case .missing = status { return true }  // gone again (expired): the next listing retries
        return try keepOwnLease(status, registry: registry)
    }

    /// Readiness first (503 with the reason), the error line, the withdrawal, then the
    /// metric: whoever sees `swiftcni_lease_conflict 1` finds all the rest already true.
    private mutating func enterConflict(with other: IPAddress) {
        conflict = other
        status.notReady(conflictReason!, kind: nil, registryUp: true)
        logger.error("own subnet is leased to another node; not taking it back, peer routes withdrawn until it is released",
                     metadata: ["subnet": "\(lease.subnet.description)", "otherNode": "\(other.description)",
                                "publicIP": "\(lease.publicIP.description)"])
        withdrawPeers()
        metrics.recordLeaseConflict(true)
    }

    /// Still not ready (the peers are programmed again by the full listing that follows;
    /// the loop then reports ready), the log line, then the metric back to 0.
    private mutating func endConflict(how: String) {
        let other = conflict
        conflict = nil
        status.notReady(quietly: "the subnet conflict is over; programming the peers again")
        logger.warning("subnet conflict over", metadata: ["subnet": "\(lease.subnet.description)",
                                                          "otherNode": "\(other?.description ?? "")", "how": "\(how)"])
        metrics.recordLeaseConflict(false)
    }

    /// Every peer entry removed (a reconcile towards no peers, which also reads the kernel).
    mutating func withdrawPeers() {
        _ = peers.replace(with: [])
        let report = dataplane.reconcile([])
        programmed = []
        unreachable = []
        record(report, via: "conflict")
    }

    /// The /readyz reason while another node holds this node's subnet.
    var conflictReason: String? {
        conflict.map {
            "subnet \(lease.subnet) is leased to another node (PublicIP \($0)); this node (\(lease.publicIP)) "
                + "withdrew its peer routes and waits for the subnet to be released"
        }
    }
}
