import CoreMetrics
import NetTypes
import Prometheus
import Synchronization
import UDPTunnel

/// The udp backend's counters in /metrics: per peer packets and bytes in and out, drops by
/// reason, ICMP unreachables sent.
///
/// The tunnel counts on its forwarding threads without locks (per-worker counters); this
/// reads a snapshot when /metrics is scraped and adds what grew since the last one to the
/// registry's counters, so a scrape costs one pass over the workers and nothing is counted
/// on the packet path twice. A re-opened tunnel (device deleted by hand) starts from zero;
/// the exported counters keep growing.
final class UDPTunnelMetrics: Sendable {
    private struct Followed {
        var tunnel: UDPTunnel?
        var last = UDPTunnelStatistics()
        var peerCounters: [IPPrefix: [CoreMetrics.Counter]] = [:]
    }

    private let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let followed = Mutex(Followed())
    private let drops: [UDPDropReason: CoreMetrics.Counter]
    private let unreachablesSent: CoreMetrics.Counter

    init(registry: PrometheusCollectorRegistry, factory: PrometheusMetricsFactory) {
        self.registry = registry
        self.factory = factory
        let dropName = AgentMetrics.name("udp_drops", unit: "total", help: "udp backend: packets not forwarded, by reason.")
        drops = Dictionary(uniqueKeysWithValues: UDPDropReason.allCases.map { reason in
            let labels = [("reason", Self.label(reason))]
            return (reason, CoreMetrics.Counter(label: dropName.name, dimensions: labels,
                                                handler: registry.makeCounter(descriptor: dropName, labels: labels), factory: factory))
        })
        let unreachable = AgentMetrics.name("udp_unreachables_sent", unit: "total",
                                            help: "udp backend: ICMP net unreachable written back for destinations no node owns.")
        unreachablesSent = CoreMetrics.Counter(label: unreachable.name, dimensions: [],
                                               handler: registry.makeCounter(descriptor: unreachable, labels: []), factory: factory)
    }

    /// Counts `tunnel` from now on (a no-op when it is the one already followed).
    func follow(_ tunnel: UDPTunnel) {
        followed.withLock { state in
            guard state.tunnel !== tunnel else { return }
            state.tunnel = tunnel
            state.last = UDPTunnelStatistics()
        }
    }

    /// Brings the exported counters up to the tunnel's; called before each exposition.
    func refresh() {
        followed.withLock { state in
            guard let tunnel = state.tunnel else { return }
            let now = tunnel.statistics()
            for (reason, count) in now.drops {
                drops[reason]?.increment(by: Self.growth(count, since: state.last.drops[reason] ?? 0))
            }
            unreachablesSent.increment(by: Self.growth(now.unreachablesSent, since: state.last.unreachablesSent))
            for (subnet, traffic) in now.peers {
                let before = state.last.peers[subnet] ?? UDPPeerTraffic()
                let counters = state.peerCounters[subnet] ?? makePeerCounters(subnet)
                state.peerCounters[subnet] = counters
                let deltas = [Self.growth(traffic.packetsIn, since: before.packetsIn), Self.growth(traffic.bytesIn, since: before.bytesIn),
                              Self.growth(traffic.packetsOut, since: before.packetsOut),
                              Self.growth(traffic.bytesOut, since: before.bytesOut)]
                for (counter, delta) in zip(counters, deltas) where delta > 0 { counter.increment(by: delta) }
            }
            state.last = now
        }
    }

    /// What a tunnel counter grew by since `before`, as the registry's counters take it: a
    /// counter lower than before started again (counted from zero), and no difference
    /// traps on the way to `Int`.
    static func growth(_ now: UInt64, since before: UInt64) -> Int {
        Int(clamping: now >= before ? now - before : now)
    }

    /// packets in, bytes in, packets out, bytes out.
    private func makePeerCounters(_ subnet: IPPrefix) -> [CoreMetrics.Counter] {
        let packets = AgentMetrics.name("udp_packets", unit: "total", help: "udp backend: inner IP packets by peer and direction.")
        let bytes = AgentMetrics.name("udp_bytes", unit: "total", help: "udp backend: inner IP bytes by peer and direction.")
        return [(packets, "in"), (bytes, "in"), (packets, "out"), (bytes, "out")].map { name, direction in
            let labels = [("peer", subnet.description), ("direction", direction)]
            return CoreMetrics.Counter(label: name.name, dimensions: labels,
                                       handler: registry.makeCounter(descriptor: name, labels: labels), factory: factory)
        }
    }

    /// The label value of a drop reason: Prometheus style, snake case.
    static func label(_ reason: UDPDropReason) -> String {
        switch reason {
        case .unknownSender: return "unknown_sender"
        case .foreignInnerSource: return "foreign_inner_source"
        case .foreignInnerDestination: return "foreign_inner_destination"
        case .truncated: return "truncated"
        case .lengthMismatch: return "length_mismatch"
        case .oversized: return "oversized"
        case .notIPv4: return "not_ipv4"
        case .noRoute: return "no_route"
        case .ownSubnetDestination: return "own_subnet_destination"
        case .outsideNetwork: return "outside_network"
        case .malformedOffload: return "malformed_offload"
        case .sendFailed: return "send_failed"
        case .tunWriteFailed: return "tun_write_failed"
        }
    }
}
