import CoreMetrics
import Metrics
import Prometheus
import SubnetRegistry
import NetTypes
import Synchronization

/// The agent's metrics, recorded through swift-metrics and exposed by swift-prometheus's
/// registry. Each agent owns its registry (no `MetricsSystem.bootstrap`, which may run once
/// per process), so /metrics shows exactly these families, with the names, types, labels,
/// help texts and histogram buckets dashboards already use.
///
/// Written by the agent thread, read by the HTTP event loop: the registry and the metric
/// objects are thread-safe, so the only lock of ours is the one around the error kinds.
final class AgentMetrics: Sendable {
    /// Reconcile duration buckets: 1 ms to 5 s.
    static let reconcileBuckets: [Duration] = [
        .microseconds(1000), .microseconds(2500), .microseconds(5000), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5),
    ]
    /// Error kinds the agent records, listed up front so `swiftcni_errors_total` shows them
    /// at 0 before the first error (a rate needs a starting point).
    static let errorKinds = ["setup", "registry", "dataplane", "forward_rules", "lease_conflict"]

    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let peersProgrammed: Meter
    let peersUnreachableByState: Meter
    let peersUnreachable: Meter
    /// Programmed / unreachable peers per address family: [family: (programmed, unreachable)].
    let peersByFamily: [IPAddress.Family: (programmed: Meter, unreachable: Meter)]
    let leaseExpiry: Meter
    let registryUp: Meter
    let ready: Meter
    let leaseConflict: Meter
    let leaseReacquired: CoreMetrics.Counter
    let networkConfigChanged: Meter
    let leasesRejected: [LeaseRejection: CoreMetrics.Counter]
    let reconcileDuration: CoreMetrics.Timer
    let reconcileTotal: CoreMetrics.Counter
    let entriesChanged: CoreMetrics.Counter
    let errors = Mutex([String: CoreMetrics.Counter]())
    /// The udp backend's forwarding counters (zero families until a udp node follows a tunnel).
    let udp: UDPTunnelMetrics
    let observer: MetricObserver?

    init(observer: MetricObserver? = nil) {
        self.observer = observer
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        self.factory = factory
        udp = UDPTunnelMetrics(registry: registry, factory: factory)
        func meter(_ name: MetricNameDescriptor, _ labels: [(String, String)] = []) -> Meter {
            let gauge: any MeterHandler = registry.makeGauge(descriptor: name, labels: labels)
            let handler = observer.map { ObservedMeterHandler(gauge, tap: MetricTap(name: Self.fullName(name), labels: labels, observer: $0)) } ?? gauge
            return Meter(label: name.name, dimensions: labels, handler: handler, factory: factory)
        }
        func counter(_ name: MetricNameDescriptor) -> CoreMetrics.Counter {
            Self.counter(name, labels: [], registry: registry, factory: factory, observer: observer)
        }
        let peers = Self.name("peers", help: "Peer nodes by dataplane state.")
        peersProgrammed = meter(peers, [("state", "programmed")])
        peersUnreachableByState = meter(peers, [("state", "unreachable")])
        let byFamily = Self.name("peers_by_family", help: "Peer nodes by address family and dataplane state (dual stack: a peer's IPv6 half counts under ipv6).")
        peersByFamily = Dictionary(uniqueKeysWithValues: [(IPAddress.Family.v4, "ipv4"), (.v6, "ipv6")].map { family, label in
            (family, (programmed: meter(byFamily, [("family", label), ("state", "programmed")]),
                      unreachable: meter(byFamily, [("family", label), ("state", "unreachable")])))
        })
        peersUnreachable = meter(Self.name("peers_unreachable", help: "Peers not programmed because they are not on-link (host-gw)."))
        leaseExpiry = meter(Self.name("lease_expiry", unit: "seconds", help: "Unix time at which this node's subnet lease expires."))
        registryUp = meter(Self.name("registry_up", help: "1 when the last registry operation succeeded."))
        ready = meter(Self.name("ready", help: "1 when the node is ready (lease, device, subnet file)."))
        leaseConflict = meter(Self.name("lease_conflict", help: "1 while another node holds this node's subnet."))
        networkConfigChanged = meter(Self.name("network_config_changed",
            help: "1 while the registry's network config differs from the one this node started with (a restart applies it)."))
        let rejected = Self.name("leases_rejected", unit: "total", help: "Registry entries not programmed, by reason "
            + "(lease admission): each (stored key, reason) counts once when first seen, not at every resync; one that "
            + "goes away and comes back counts again.")
        leasesRejected = Dictionary(uniqueKeysWithValues: LeaseRejection.allCases.map { reason in
            (reason, Self.counter(rejected, labels: [("reason", reason.rawValue)], registry: registry, factory: factory,
                                  observer: observer))
        })
        let duration = Self.name("reconcile_duration", unit: "seconds", help: "Time to bring the dataplane in line with the registry.")
        reconcileDuration = CoreMetrics.Timer(
            label: duration.name, dimensions: [],
            handler: registry.makeDurationHistogram(descriptor: duration, buckets: Self.reconcileBuckets), factory: factory)
        reconcileTotal = counter(Self.name("reconcile", unit: "total", help: "Reconcile passes (registry events and resync ticks)."))
        entriesChanged = counter(Self.name("reconcile_entries_changed", unit: "total",
                                           help: "Routes, neighbours and FDB entries added or removed."))
        leaseReacquired = counter(Self.name("lease_reacquired", unit: "total",
                                            help: "Times this node's lease vanished from the registry and was re-acquired."))
        for m in [peersProgrammed, peersUnreachableByState, peersUnreachable, leaseExpiry, registryUp, ready, leaseConflict, networkConfigChanged] { m.set(0) }
        for (programmed, unreachable) in peersByFamily.values { programmed.set(0); unreachable.set(0) }
        for kind in Self.errorKinds { _ = errorCounter(kind) }
    }

    /// A counter in `registry`, observed when there is an observer.
    static func counter(_ name: MetricNameDescriptor, labels: [(String, String)], registry: PrometheusCollectorRegistry,
                        factory: PrometheusMetricsFactory, observer: MetricObserver?) -> CoreMetrics.Counter {
        let counter: any CounterHandler = registry.makeCounter(descriptor: name, labels: labels)
        let handler = observer.map { ObservedCounterHandler(counter, tap: MetricTap(name: fullName(name), labels: labels, observer: $0)) } ?? counter
        return CoreMetrics.Counter(label: name.name, dimensions: labels, handler: handler, factory: factory)
    }

    /// The name as exposed (`swiftcni_lease_conflict`, `swiftcni_errors_total`).
    static func fullName(_ name: MetricNameDescriptor) -> String {
        ([name.namespace, name.subsystem, name.metricName, name.unitName] as [String?]).compactMap { $0 }.filter { !$0.isEmpty }
            .joined(separator: "_")
    }

    /// `swiftcni_<name>[_<unit>]`.
    static func name(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "swiftcni", metricName: name, unitName: unit, helpText: help)
    }

    func recordReconcile(duration: Duration, changed: Int) {
        reconcileDuration.record(duration: duration)
        reconcileTotal.increment()
        entriesChanged.increment(by: changed)
    }

    func recordPeers(programmed: Int, unreachable: Int) {
        peersProgrammed.set(programmed)
        peersUnreachableByState.set(unreachable)
        peersUnreachable.set(unreachable)
    }

    func recordPeers(family: IPAddress.Family, programmed: Int, unreachable: Int) {
        peersByFamily[family]?.programmed.set(programmed)
        peersByFamily[family]?.unreachable.set(unreachable)
    }

    /// Whole seconds, as before (the lease's expiry is a Unix time).
    func recordLeaseExpiry(_ unixSeconds: Double) { leaseExpiry.set(unixSeconds.rounded(.down)) }

    func recordReady(_ isReady: Bool) { ready.set(isReady ? 1 : 0) }

    func recordRegistryUp(_ up: Bool) { registryUp.set(up ? 1 : 0) }

    func recordError(_ kind: String) { errorCounter(kind).increment() }

    func recordLeaseReacquired() { leaseReacquired.increment() }

    func recordLeaseRejected(_ reason: LeaseRejection) { leasesRejected[reason]?.increment() }

    func recordNetworkConfigChanged(_ changed: Bool) { networkConfigChanged.set(changed ? 1 : 0) }

    /// The gauge follows the conflict; each conflict that begins counts one `lease_conflict` error.
    func recordLeaseConflict(_ inConflict: Bool) {
        leaseConflict.set(inConflict ? 1 : 0)
        if inConflict { recordError("lease_conflict") }
    }

    private func errorCounter(_ kind: String) -> CoreMetrics.Counter {
        errors.withLock { counters in
            if let c = counters[kind] { return c }
            let c = Self.counter(Self.name("errors", unit: "total", help: "Errors by kind."), labels: [("kind", kind)],
                                 registry: registry, factory: factory, observer: observer)
            counters[kind] = c
            return c
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    func exposition() -> [UInt8] {
        udp.refresh()
        return registry.emitToBuffer()
    }
}
