import CNI
import SubnetRegistry
import NetTypes

/// One peer whose lease changed, as the dataplane's incremental path takes it: what was
/// programmed for it comes from `old`, what is wanted now from `new`.
package struct PeerChange: Hashable, Sendable {
    /// The peer before the change; nil when it is new.
    package let old: Peer?
    /// The peer after the change; nil when its lease is gone.
    package let new: Peer?

    package init(old: Peer?, new: Peer?) {
        self.old = old
        self.new = new
    }

    /// The old and new desired entries of `changes`. Only the new peers' verdicts reach
    /// `report`: the old ones were reported when they were new.
    static func desiredEntries(_ changes: [PeerChange], using entries: some PeerEntries,
                               into report: inout ReconcileReport) -> (old: [DesiredEntry], new: [DesiredEntry]) {
        var scratch = ReconcileReport()
        return (entries.desired(changes.compactMap(\.old), into: &scratch), entries.desired(changes.compactMap(\.new), into: &report))
    }
}
