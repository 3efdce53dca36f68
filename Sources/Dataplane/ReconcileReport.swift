import NetTypes

/// What one reconcile did, for the agent's log line, `/readyz` and metrics.
///
/// Counts are kernel entries (neighbours, FDB entries, routes), not peers: a VXLAN peer is
/// three entries, a host-gw peer one.
package struct ReconcileReport: Sendable, CustomStringConvertible {
    /// Entries created for peers the dataplane had not programmed before.
    package var added = 0
    /// Entries deleted: peers gone, a peer's old VTEP MAC or address, leftovers.
    package var removed = 0
    /// Entries of known peers that were missing (deleted by hand) or wrong, and were rewritten.
    package var repaired = 0
    package var unchanged = 0
    /// Ids (`Peer.id`) of the peers whose entries are all in place.
    package var programmedPeers: [String] = []
    /// Peers deliberately not programmed, each with the reason.
    package var unreachablePeers: [UnreachablePeer] = []
    /// Entries the kernel refused (or that conflict with routes we do not own); the other
    /// entries were still applied.
    package var failures: [EntryFailure] = []
    package var duration: Duration = .zero
    /// Netlink round trips (dumps and batch datagrams) this reconcile cost.
    package var netlinkRoundTrips = 0

    /// The IPv6 entries among the counts above (dual-stack); the IPv4 ones are the rest
    /// (`ipv4`). All zero on an IPv4-only node.
    package var ipv6 = FamilyCounts()

    package init() {}

    /// The IPv4 entries among the counts: totals minus `ipv6`.
    package var ipv4: FamilyCounts {
        FamilyCounts(added: added - ipv6.added, removed: removed - ipv6.removed, repaired: repaired - ipv6.repaired,
                     unchanged: unchanged - ipv6.unchanged, failures: failures.count - ipv6.failures)
    }

    /// The counts of `family`, and the peers reported unreachable for it.
    package func counts(_ family: IPAddress.Family) -> FamilyCounts { family == .v6 ? ipv6 : ipv4 }
    package func unreachable(_ family: IPAddress.Family) -> [UnreachablePeer] { unreachablePeers.filter { $0.family == family } }

    /// Every desired entry is in place (unreachable peers aside: they are a verdict, not a failure).
    package var succeeded: Bool { failures.isEmpty }

    package var description: String {
        var text = "added=\(added) removed=\(removed) repaired=\(repaired) unchanged=\(unchanged)"
        text += " peers=\(programmedPeers.count) unreachable=\(unreachablePeers.count) failures=\(failures.count)"
        text += " round_trips=\(netlinkRoundTrips) duration=\(duration)"
        if ipv6 != FamilyCounts() || unreachablePeers.contains(where: { $0.family == .v6 }) {
            text += " ipv6=(\(ipv6) unreachable=\(unreachable(.v6).count))"
        }
        return text
    }
}

/// Entry counts of one family.
package struct FamilyCounts: Hashable, Sendable, CustomStringConvertible {
    package var added = 0
    package var removed = 0
    package var repaired = 0
    package var unchanged = 0
    package var failures = 0

    package init(added: Int = 0, removed: Int = 0, repaired: Int = 0, unchanged: Int = 0, failures: Int = 0) {
        (self.added, self.removed, self.repaired, self.unchanged, self.failures) = (added, removed, repaired, unchanged, failures)
    }

    package var description: String {
        "added=\(added) removed=\(removed) repaired=\(repaired) unchanged=\(unchanged) failures=\(failures)"
    }
}

/// A peer the dataplane refuses to program, and why (never a silent black hole).
package struct UnreachablePeer: Hashable, Sendable, CustomStringConvertible {
    package let peer: Peer
    package let reason: String
    /// The half of the peer left out: v4 (the whole peer) or only its v6 half.
    package let family: IPAddress.Family

    package init(peer: Peer, reason: String, family: IPAddress.Family = .v4) {
        self.peer = peer
        self.reason = reason
        self.family = family
    }

    package var description: String { "\(peer): \(reason)" }
}

/// One entry that could not be put in place (or removed).
package struct EntryFailure: Hashable, Sendable, CustomStringConvertible {
    /// The entry in words: "route 10.244.2.0/24 via 10.244.2.0 dev 5 onlink".
    package let entry: String
    /// The peer the entry is for; nil for the removal of a leftover entry.
    package let peerID: String?
    /// The kernel's refusal (with its extended-ack text) or the conflict.
    package let reason: String

    package init(entry: String, peerID: String?, reason: String) {
        self.entry = entry
        self.peerID = peerID
        self.reason = reason
    }

    package var description: String {
        "\(entry)" + (peerID.map { " (peer \($0))" } ?? "") + ": \(reason)"
    }
}

extension ReconcileReport {
    /// A report filled in by `body`, with the time `body` took as its duration.
    static func measured(_ body: (inout ReconcileReport) -> Void) -> ReconcileReport {
        let clock = ContinuousClock()
        let start = clock.now
        var report = ReconcileReport()
        body(&report)
        report.duration = clock.now - start
        return report
    }
}
