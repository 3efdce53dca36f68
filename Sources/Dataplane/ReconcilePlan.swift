import CNI
import SubnetRegistry
import NetTypes

/// A desired entry and the peer it is for.
struct DesiredEntry: Hashable, Sendable {
    let entry: DataplaneEntry
    let peerID: String
}

/// The difference between desired and actual entries: pure, so every case is unit-tested
/// without a kernel.
struct ReconcilePlan {
    /// A desired entry to write: missing, or present with wrong values (`replacing`).
    struct Write: Hashable {
        let desired: DesiredEntry
        /// A wrong entry with the same key is overwritten in place (NLM_F_REPLACE).
        let replacing: Bool
        /// The entry was known (present last time) or present but wrong: counts as repaired.
        let isRepair: Bool
    }

    /// Actual entries to delete, in removal order: routes, then FDB, then neighbours.
    private(set) var removals: [DataplaneEntry] = []
    /// Entries to write, in addition order: neighbours, then FDB, then routes.
    private(set) var writes: [Write] = []
    private(set) var unchanged: [DesiredEntry] = []
    /// Desired entries left alone, with the reason (a route someone else owns, a duplicate).
    private(set) var conflicts: [(DesiredEntry, String)] = []

    /// - Parameters:
    ///   - known: keys that were in place after the previous reconcile; a missing one was
    ///     deleted behind our back and its rewrite counts as a repair, not an addition.
    ///   - foreignRoutes: destinations of main-table routes we do not own; ours would
    ///     collide with them, and they are not ours to replace.
    init(desired: [DesiredEntry], actual: [DataplaneEntry], known: Set<DataplaneEntry.Key>,
         foreignRoutes: Set<IPPrefix>) {
        var actualByKey: [DataplaneEntry.Key: [DataplaneEntry]] = [:]
        for entry in actual { actualByKey[entry.key, default: []].append(entry) }

        let claimed = DesiredEntry.firstClaims(desired)
        conflicts = claimed.conflicts
        let desiredKeys = Set(claimed.entries.map(\.entry.key))
        for wanted in claimed.entries {
            let key = wanted.entry.key
            let present = actualByKey[key] ?? []
            if present.contains(wanted.entry) {
                unchanged.append(wanted)
                removals += present.filter { $0 != wanted.entry }
            } else if present.isEmpty {
                if case .route(let route) = wanted.entry, foreignRoutes.contains(route.destination) {
                    conflicts.append((wanted, "a route to \(route.destination) exists that swift-cni did not install; left alone"))
                    continue
                }
                writes.append(Write(desired: wanted, replacing: false, isRepair: known.contains(key)))
            } else {
                let overwritten = present.firstIndex { Self.isOverwritten($0, by: wanted.entry) }
                removals += present.indices.filter { $0 != overwritten }.map { present[$0] }
                writes.append(Write(desired: wanted, replacing: overwritten != nil, isRepair: true))
            }
        }
        for (key, entries) in actualByKey where !desiredKeys.contains(key) {
            removals += entries
        }
        removals.sort { $0.additionRank > $1.additionRank }
        writes.sort { $0.desired.entry.additionRank < $1.desired.entry.additionRank }
    }

    /// Whether writing `desired` with NLM_F_REPLACE lands on `existing`: a route replace
    /// hits the route with the same metric; neighbour and FDB keys identify the entry.
    private static func isOverwritten(_ existing: DataplaneEntry, by desired: DataplaneEntry) -> Bool {
        if case .route(let old) = existing, case .route(let new) = desired { return old.priority == new.priority }
        return true
    }
}

extension DesiredEntry {
    /// The entries whose key no earlier entry claims, in order, and the others as conflicts:
    /// two peers cannot both own one neighbour, FDB entry or route.
    static func firstClaims(_ desired: [DesiredEntry]) -> (entries: [DesiredEntry], conflicts: [(DesiredEntry, String)]) {
        var keys = Set<DataplaneEntry.Key>()
        var entries: [DesiredEntry] = []
        var conflicts: [(DesiredEntry, String)] = []
        for wanted in desired {
            if keys.insert(wanted.entry.key).inserted {
                entries.append(wanted)
            } else {
                conflicts.append((wanted, "another peer already claims \(wanted.entry.key.text)"))
            }
        }
        return (entries, conflicts)
    }
}

extension DataplaneEntry.Key {
    var text: String {
        switch self {
        case .neighbour(let address): return "neighbour \(address)"
        case .fdb(let mac, let destination): return "fdb \(mac) dst \(destination)"
        case .route(let destination): return "route \(destination)"
        }
    }
}
