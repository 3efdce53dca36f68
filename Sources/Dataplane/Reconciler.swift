import CNI
import SubnetRegistry
import Glibc
import Netlink

/// The read–diff–apply step both backends share, plus the memory of what was in place
/// last time (so a rewritten entry can be told apart as a repair).
struct Reconciler: Sendable {
    let socket: RouteSocket
    private(set) var knownKeys: Set<DataplaneEntry.Key> = []

    init(socket: RouteSocket) {
        self.socket = socket
    }

    /// Reads the actual entries, applies the plan in one batch (a few datagrams even for
    /// thousands of entries) and records every outcome in `report`.
    /// - Parameters:
    ///   - device: the VXLAN device whose neighbours and FDB entries are ours (nil: host-gw).
    ///   - ipv6: nil on an IPv4-only node; dual-stack, the v6 VXLAN device (or nil for host-gw)
    ///     whose entries are ours too, next to our main-table IPv6 routes.
    package mutating func apply(_ desired: [DesiredEntry], device: Int32?, ipv6: Int32?? = nil,
                                into report: inout ReconcileReport) {
        let state: ReconcileKernelState
        do {
            state = try ReconcileKernelState.read(socket, device: device, ipv6: ipv6)
        } catch {
            report.failures.append(EntryFailure(entry: "kernel state", peerID: nil, reason: "\(error)"))
            return
        }
        report.netlinkRoundTrips += state.roundTrips
        let plan = ReconcilePlan(desired: desired, actual: state.entries, known: knownKeys,
                                 foreignRoutes: state.foreignRoutes)
        report.count(unchanged: plan.unchanged)
        let failedPeers = record(conflicts: plan.conflicts, into: &report)
            .union(perform(removals: plan.removals, writes: plan.writes, into: &report))

        var inPlace = Set<DataplaneEntry.Key>()
        var peers = OrderedPeers()
        for wanted in desired where !failedPeers.contains(wanted.peerID) {
            inPlace.insert(wanted.entry.key)
            peers.append(wanted.peerID)
        }
        knownKeys = inPlace
        report.programmedPeers += peers.ids
    }

    /// The incremental step both backends share: the changed peers' old and new entries by
    /// `entries` (kept from the last full reconcile; nil before one, and then the report
    /// names `missing` as what is not known yet).
    mutating func applyChanges(_ changes: [PeerChange], using entries: (some PeerEntries)?, missing: String) -> ReconcileReport {
        ReconcileReport.measured { report in
            guard let entries else {
                report.failures.append(EntryFailure(entry: missing, peerID: nil, reason: "not read by a full reconcile yet"))
                return
            }
            let (old, new) = PeerChange.desiredEntries(changes, using: entries, into: &report)
            applyChanges(old: old, new: new, into: &report)
        }
    }

    /// For peers whose leases changed: removes what only the old peers had and writes what
    /// the new ones want, in one batch, without reading the kernel first. `new` holds the
    /// entries of every changed peer that is still programmable, so the peers it names and
    /// no others end up in `report.programmedPeers`.
    mutating func applyChanges(old: [DesiredEntry], new: [DesiredEntry], into report: inout ReconcileReport) {
        let plan = IncrementalPlan(old: old, new: new, known: knownKeys)
        report.count(unchanged: plan.unchanged)
        let failedPeers = record(conflicts: plan.conflicts, into: &report)
            .union(perform(removals: plan.removals, writes: plan.writes, into: &report))

        knownKeys.subtract(plan.removals.map(\.key))
        var peers = OrderedPeers()
        for wanted in new where !failedPeers.contains(wanted.peerID) {
            peers.append(wanted.peerID)
        }
        for wanted in new {
            if failedPeers.contains(wanted.peerID) {
                knownKeys.remove(wanted.entry.key)
            } else {
                knownKeys.insert(wanted.entry.key)
            }
        }
        report.programmedPeers += peers.ids
    }

    /// Conflicting desired entries as failures; returns their peers.
    private func record(conflicts: [(DesiredEntry, String)], into report: inout ReconcileReport) -> Set<String> {
        var failedPeers = Set<String>()
        for (wanted, reason) in conflicts {
            report.failures.append(EntryFailure(entry: "\(wanted.entry)", peerID: wanted.peerID, reason: reason))
            if wanted.entry.family == .v6 { report.ipv6.failures += 1 }
            failedPeers.insert(wanted.peerID)
        }
        return failedPeers
    }

    /// Sends the removals, then the writes, as one batch and counts every outcome; returns
    /// the peers with a write the kernel refused.
    private func perform(removals: [DataplaneEntry], writes: [ReconcilePlan.Write],
                         into report: inout ReconcileReport) -> Set<String> {
        let requests = removals.map(\.deleteRequest) + writes.map { $0.desired.entry.addRequest(replacing: $0.replacing) }
        // RouteSocket splits the batch into datagrams small enough for their acks.
        report.netlinkRoundTrips += RouteSocket.roundTrips(for: requests)
        let outcomes: [Result<Void, NetlinkError>]
        do {
            outcomes = try socket.performAckingLast(requests)
        } catch {
            // The socket itself failed: the outcomes are unknown; say so per entry.
            outcomes = requests.map { _ in .failure(error) }
        }
        for (removal, outcome) in zip(removals, outcomes) {
            let v6 = removal.family == .v6 ? 1 : 0
            switch outcome {
            case .success: report.removed += 1; report.ipv6.removed += v6
            // Already gone (removed concurrently, or overwritten by a replace in this batch).
            case .failure(let error) where [ENOENT, ESRCH, ENODEV].contains(error.errno):
                report.removed += 1; report.ipv6.removed += v6
            case .failure(let error):
                report.failures.append(EntryFailure(entry: "\(removal)", peerID: nil, reason: "\(error)"))
                report.ipv6.failures += v6
            }
        }
        var failedPeers = Set<String>()
        for (write, outcome) in zip(writes, outcomes.dropFirst(removals.count)) {
            let v6 = write.desired.entry.family == .v6 ? 1 : 0
            switch outcome {
            case .success:
                if write.isRepair { report.repaired += 1; report.ipv6.repaired += v6 } else { report.added += 1; report.ipv6.added += v6 }
            case .failure(let error):
                report.failures.append(EntryFailure(entry: "\(write.desired.entry)", peerID: write.desired.peerID,
                                                    reason: "\(error)"))
                report.ipv6.failures += v6
                failedPeers.insert(write.desired.peerID)
            }
        }
        return failedPeers
    }
}

/// Peer ids in first-seen order, each once: a dual-stack peer's entries come in two runs
/// (its v4 half, later its v6 half).
struct OrderedPeers {
    private(set) var ids: [String] = []
    private var seen = Set<String>()

    mutating func append(_ id: String) {
        if ids.last != id && seen.insert(id).inserted { ids.append(id) }
    }
}

extension ReconcileReport {
    mutating func count(unchanged entries: [DesiredEntry]) {
        unchanged += entries.count
        ipv6.unchanged += entries.filter { $0.entry.family == .v6 }.count
    }
}
