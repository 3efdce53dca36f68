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
    mutating func apply(_ desired: [DesiredEntry], device: Int32?, into report: inout ReconcileReport) {
        let state: ReconcileKernelState
        do {
            state = try ReconcileKernelState.read(socket, device: device)
        } catch {
            report.failures.append(EntryFailure(entry: "kernel state", peerID: nil, reason: "\(error)"))
            return
        }
        report.netlinkRoundTrips += state.roundTrips
        let plan = ReconcilePlan(desired: desired, actual: state.entries, known: knownKeys,
                                 foreignRoutes: state.foreignRoutes)
        var failedPeers = Set<String>()
        for (wanted, reason) in plan.conflicts {
            report.failures.append(EntryFailure(entry: "\(wanted.entry)", peerID: wanted.peerID, reason: reason))
            failedPeers.insert(wanted.peerID)
        }
        report.unchanged += plan.unchanged.count

        let requests = plan.removals.map(\.deleteRequest) + plan.writes.map { $0.desired.entry.addRequest(replacing: $0.replacing) }
        // RouteSocket splits the batch into datagrams small enough for their acks.
        report.netlinkRoundTrips += RouteSocket.roundTrips(for: requests)
        let outcomes: [Result<Void, NetlinkError>]
        do {
            outcomes = try socket.perform(requests)
        } catch {
            // The socket itself failed: the outcomes are unknown; say so per entry.
            outcomes = requests.map { _ in .failure(error) }
        }
        for (removal, outcome) in zip(plan.removals, outcomes) {
            switch outcome {
            case .success: report.removed += 1
            // Already gone (removed concurrently, or overwritten by a replace in this batch).
            case .failure(let error) where [ENOENT, ESRCH, ENODEV].contains(error.errno): report.removed += 1
            case .failure(let error):
                report.failures.append(EntryFailure(entry: "\(removal)", peerID: nil, reason: "\(error)"))
            }
        }
        for (write, outcome) in zip(plan.writes, outcomes.dropFirst(plan.removals.count)) {
            switch outcome {
            case .success:
                if write.isRepair { report.repaired += 1 } else { report.added += 1 }
            case .failure(let error):
                report.failures.append(EntryFailure(entry: "\(write.desired.entry)", peerID: write.desired.peerID,
                                                    reason: "\(error)"))
                failedPeers.insert(write.desired.peerID)
            }
        }

        var inPlace = Set<DataplaneEntry.Key>()
        var peers: [String] = []
        for wanted in desired where !failedPeers.contains(wanted.peerID) {
            inPlace.insert(wanted.entry.key)
            if peers.last != wanted.peerID { peers.append(wanted.peerID) }
        }
        knownKeys = inPlace
        report.programmedPeers += peers
    }
}
