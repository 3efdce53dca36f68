/// What to send for peers whose leases changed, from their old and new desired entries
/// alone: no kernel dump. Pure, so every case is unit-tested without a kernel.
///
/// It trusts that the old entries are in place (the last full reconcile or incremental
/// step put them there); whatever was changed behind the agent's back since is the periodic
/// resync's to repair. An entry key shared with an unchanged peer (two leases with one VTEP
/// MAC and address) is not detected here either; the resync reports it.
struct IncrementalPlan {
    /// Old entries no new entry replaces in place, in removal order: routes, FDB, neighbours.
    private(set) var removals: [DataplaneEntry] = []
    /// New entries to write, in addition order: neighbours, FDB, routes.
    private(set) var writes: [ReconcilePlan.Write] = []
    /// New entries identical to old ones that are known to be in place.
    private(set) var unchanged: [DesiredEntry] = []
    /// New entries whose key an earlier new entry already claims.
    private(set) var conflicts: [(DesiredEntry, String)] = []

    /// - Parameter known: keys in place after the previous step; a write to one of them is
    ///   an overwrite in place (NLM_F_REPLACE) and counts as a repair, as in a full reconcile.
    init(old: [DesiredEntry], new: [DesiredEntry], known: Set<DataplaneEntry.Key>) {
        let oldEntries = Set(old.map(\.entry))
        let oldKeys = Set(old.map(\.entry.key))
        let claimed = DesiredEntry.firstClaims(new)
        conflicts = claimed.conflicts
        let newKeys = Set(claimed.entries.map(\.entry.key))
        for wanted in claimed.entries {
            let key = wanted.entry.key
            if oldEntries.contains(wanted.entry) && known.contains(key) {
                unchanged.append(wanted)
            } else {
                let present = known.contains(key) || oldKeys.contains(key)
                writes.append(ReconcilePlan.Write(desired: wanted, replacing: present, isRepair: known.contains(key)))
            }
        }
        removals = old.map(\.entry).filter { !newKeys.contains($0.key) }
        removals.sort { $0.additionRank > $1.additionRank }
        writes.sort { $0.desired.entry.additionRank < $1.desired.entry.additionRank }
    }
}
