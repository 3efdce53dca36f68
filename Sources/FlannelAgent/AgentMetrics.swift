import Netlink
import NetTypes
import FlannelCNI
import SubnetRegistry
import Dataplane
import CNI
import Synchronization

/// The agent's Prometheus metrics. Written by the agent loop, read by the HTTP thread; one
/// mutex around plain values is all the coordination needed.
public final class AgentMetrics: Sendable {
    struct Values {
        var peersProgrammed = 0
        var peersUnreachable = 0
        var leaseExpiry: Int64 = 0
        var registryUp = false
        var ready = false
        var reconcileTotal = 0
        var reconcileSum = 0.0
        var reconcileBuckets = [Int](repeating: 0, count: AgentMetrics.bucketBounds.count)
        var lastReconcileSeconds = 0.0
        var entriesChanged = 0
        var errors: [String: Int] = [:]
    }

    static let bucketBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    let values = Mutex(Values())

    public init() {}

    func update(_ body: (inout Values) -> Void) { values.withLock { body(&$0) } }

    func recordReconcile(seconds: Double, changed: Int) {
        update { v in
            v.reconcileTotal += 1
            v.reconcileSum += seconds
            v.lastReconcileSeconds = seconds
            v.entriesChanged += changed
            for (i, bound) in Self.bucketBounds.enumerated() where seconds <= bound { v.reconcileBuckets[i] += 1 }
        }
    }

    func recordError(_ kind: String) { update { $0.errors[kind, default: 0] += 1 } }

    /// The Prometheus text exposition format (version 0.0.4).
    func render() -> String {
        let v = values.withLock { $0 }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        metric("swiftcni_peers", "gauge", "Peer nodes by dataplane state.",
               [("{state=\"programmed\"}", "\(v.peersProgrammed)"), ("{state=\"unreachable\"}", "\(v.peersUnreachable)")])
        metric("swiftcni_peers_unreachable", "gauge", "Peers not programmed because they are not on-link (host-gw).",
               [("", "\(v.peersUnreachable)")])
        metric("swiftcni_lease_expiry_seconds", "gauge", "Unix time at which this node's subnet lease expires.",
               [("", "\(v.leaseExpiry)")])
        metric("swiftcni_registry_up", "gauge", "1 when the last registry operation succeeded.", [("", v.registryUp ? "1" : "0")])
        metric("swiftcni_ready", "gauge", "1 when the node is ready (lease, device, subnet file).", [("", v.ready ? "1" : "0")])
        var buckets: [(String, String)] = []
        for (i, bound) in Self.bucketBounds.enumerated() {
            buckets.append(("_bucket{le=\"\(bound)\"}", "\(v.reconcileBuckets[i])"))
        }
        buckets.append(("_bucket{le=\"+Inf\"}", "\(v.reconcileTotal)"))
        buckets.append(("_sum", "\(v.reconcileSum)"))
        buckets.append(("_count", "\(v.reconcileTotal)"))
        metric("swiftcni_reconcile_duration_seconds", "histogram", "Time to bring the dataplane in line with the registry.", buckets)
        metric("swiftcni_reconcile_total", "counter", "Reconcile passes (registry events and resync ticks).",
               [("", "\(v.reconcileTotal)")])
        metric("swiftcni_reconcile_entries_changed_total", "counter", "Routes, neighbours and FDB entries added or removed.",
               [("", "\(v.entriesChanged)")])
        metric("swiftcni_errors_total", "counter", "Errors by kind.",
               v.errors.keys.sorted().map { ("{kind=\"\($0)\"}", "\(v.errors[$0]!)") })
        return out
    }
}
