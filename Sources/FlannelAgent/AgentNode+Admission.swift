import SubnetRegistry

/// Every listing and every batch of events passes through the lease admission judge
/// (`AdmittedLeases`) before anything reaches the peer set or the dataplane: a rejected
/// lease is never programmed, never takes a valid peer's place and never touches readiness;
/// the own lease's standing comes from the judge too, so an alias of the node's subnet
/// cannot fake a conflict.
///
/// Rejections (and entries the registry could not read) are logged and counted once per
/// (stored key, reason) while they last: a rejection that persists across listings is not
/// reported again; one that went away and comes back is.
extension AgentNode {
    /// A full listing judged; the peer set and the own lease follow `admitted.verdict`.
    mutating func admit(listing: [SubnetLease], unreadable: [RejectedLease]) -> AdmittedLeaseChanges {
        let before = rejectedNow
        let changes = admitted.replace(listing, unreadable: unreadable)
        report(changes.newRejections, notIn: before)
        return changes
    }

    /// A batch of events judged: `peerEvents` are what the peer set applies.
    mutating func admit(events: [RegistryEvent], unreadable: [RejectedLease]) -> AdmittedLeaseChanges {
        let before = rejectedNow
        let changes = admitted.apply(events, unreadable: unreadable)
        report(changes.newRejections, notIn: before)
        return changes
    }

    /// (stored key, reason) of every rejection in the current verdict.
    private var rejectedNow: Set<String> { Set(admitted.verdict.rejected.map(Self.identity)) }

    private static func identity(_ r: RejectedLease) -> String { r.storedKey + "\u{0}" + r.reason.rawValue }

    /// The log line, then the metric (AgentStatus's order; readiness does not change).
    private func report(_ rejections: [RejectedLease], notIn before: Set<String>) {
        var seen = before
        let fresh = rejections.filter { seen.insert(Self.identity($0)).inserted }
        for r in fresh {
            logger.warning("lease rejected; not programmed", metadata: [
                "key": "\(r.storedKey)", "reason": "\(r.reason.rawValue)", "detail": "\(r.detail)",
                "publicIP": "\(r.lease?.publicIP.description ?? "")"])
        }
        for r in fresh { metrics.recordLeaseRejected(r.reason) }
    }
}
