/// The registry as the agent last saw it, keyed by stored key, with `LeaseAdmission`'s
/// verdict on it kept current: a listing replaces the view, a batch of events changes it,
/// and either way the whole view is judged again (each lease's own rules only when the
/// lease changed), so the peers after a batch are exactly those a fresh listing would give:
/// a lease rejected for overlapping an older one becomes a peer when that one goes, and a
/// peer that becomes rejected is deleted.
package struct AdmittedLeases: Sendable {
    package let admission: LeaseAdmission
    private let ownKey: String
    private var view: [String: JudgedLease] = [:]
    private var unreadable: [String: RejectedLease] = [:]
    /// The verdict on the current view.
    package private(set) var verdict = LeaseVerdict(peers: [], own: .missing, ownLease: nil, rejected: [])
    /// `verdict.peers` by stored key.
    private var peersByKey: [String: JudgedLease] = [:]

    package init(admission: LeaseAdmission) {
        self.admission = admission
        ownKey = admission.own.key
    }

    /// Starts over from a full listing and the entries the registry could not read with it.
    package mutating func replace(_ listing: [SubnetLease], unreadable skipped: [RejectedLease] = []) -> AdmittedLeaseChanges {
        view = Dictionary(listing.map { lease in
            let judged = JudgedLease(lease, problem: admission.problem(lease))
            return (judged.key, judged)
        }, uniquingKeysWith: { _, last in last })
        unreadable = Dictionary(skipped.map { ($0.storedKey, $0) }, uniquingKeysWith: { _, last in last })
        for key in unreadable.keys { view[key] = nil }
        return rejudge(reportOwn: true)
    }

    /// Applies a batch of registry events (in order) and the entries found unreadable while
    /// reading it; returns what the peer set and the agent must hear about.
    package mutating func apply(_ events: [RegistryEvent], unreadable skipped: [RejectedLease] = []) -> AdmittedLeaseChanges {
        var touchedOwnKey = false
        for event in events {
            let key = event.storedKey
            switch event {
            case .put(let lease): view[key] = JudgedLease(lease, problem: admission.problem(lease))
            case .delete: view[key] = nil
            }
            unreadable[key] = nil
            if key == ownKey { touchedOwnKey = true }
        }
        for entry in skipped {
            view[entry.storedKey] = nil
            unreadable[entry.storedKey] = entry
            if entry.storedKey == ownKey { touchedOwnKey = true }
        }
        return rejudge(reportOwn: touchedOwnKey)
    }

    private mutating func rejudge(reportOwn: Bool) -> AdmittedLeaseChanges {
        let before = verdict
        let oldPeers = peersByKey
        let peers: [JudgedLease]
        (verdict, peers) = admission.decide(Array(view.values), unreadable: Array(unreadable.values))
        peersByKey = Dictionary(peers.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var events: [RegistryEvent] = oldPeers.keys.filter { peersByKey[$0] == nil }.sorted().map { .delete(storedKey: $0) }
        events += peers.filter { peer in oldPeers[peer.key].map { $0 !== peer && $0.lease != peer.lease } ?? true }
            .map { .put($0.lease) }
        let reported = Set(before.rejected.map(\.identity))
        return AdmittedLeaseChanges(peerEvents: events,
                                    own: reportOwn || verdict.own != before.own ? verdict.own : nil,
                                    newRejections: verdict.rejected.filter { !reported.contains($0.identity) })
    }
}

/// What one listing or batch changed, as `AdmittedLeases` reports it.
package struct AdmittedLeaseChanges: Sendable, Equatable {
    /// For the peer set, deletes first (by stored key), then puts (by subnet): admitted peers
    /// that are new or changed, and peers gone (deleted, expired, unreadable, now rejected).
    package var peerEvents: [RegistryEvent]
    /// The own lease's standing: after a listing always; after a batch when it changed or
    /// the batch was about the node's key (a renewal reads `held` again).
    package var own: OwnLeaseHolding?
    /// Rejections the previous verdict did not have (same key, reason and detail): log and
    /// count these once; a rejection that persists across listings is not reported again.
    package var newRejections: [RejectedLease]
}
