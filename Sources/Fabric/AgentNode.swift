import CNI
import Netlink
import NetTypes

/// This node once set up: its lease, its dataplane and what it last reported.
struct AgentNode {
    var lease: SubnetLease
    var dataplane: any Dataplane
    let ownSubnet: IPPrefix
    var renewAt: Double
    var lastUnreachable: [String] = []

    /// Config → lease → device → masquerade → first reconcile → subnet.env, in that order so
    /// that subnet.env (what lets containers start) appears only on a working node. Any
    /// failure leaves no subnet.env behind and is retried by the caller.
    static func setUp(context: AgentContext, options: AgentOptions, kind: BackendKind,
                      metrics: AgentMetrics) throws -> AgentNode {
        let config = try context.registry.networkConfig()
        guard config.backend.type == kind.rawValue else {
            throw AgentError("the network config in \(context.registry.location) asks for backend \"\(config.backend.type)\", "
                             + "but this is the \(kind.rawValue) agent")
        }
        guard let network = config.network else {
            throw AgentError("the network config has no IPv4 Network; IPv6-only networks are not supported yet")
        }
        let mac = kind == .vxlan ? try context.state.vtepMAC() : nil
        let allocator = SubnetAllocator(
            config: config, publicIP: context.underlay.publicIP, backendType: kind.rawValue,
            backendData: mac.map { SubnetLease.vxlanBackendData(vni: config.backend.vni, vtepMAC: $0) })
        let previous = context.state.previousSubnet(subnetFile: options.subnetFile)
        let lease = try allocator.acquire(from: context.registry, previous: previous, ttl: options.leaseTTL)
        try context.state.recordLease(lease.subnet)
        AgentLog.info("lease acquired", ["subnet": lease.subnet.description, "publicIP": lease.publicIP.description,
                                         "reused": previous == lease.subnet ? "true" : "false"])

        var dataplane: any Dataplane
        let mtu: Int
        switch kind {
        case .vxlan:
            let vxlan = VXLANDataplane(
                configuration: VXLANConfiguration(localSubnet: lease.subnet, mac: mac!, vni: UInt32(config.backend.vni),
                                                  port: UInt16(config.backend.port), directRouting: config.backend.directRouting,
                                                  mtu: config.backend.mtu),
                underlay: context.underlay, socket: context.socket)
            let device = try vxlan.ensureDevice()
            mtu = device.mtu
            dataplane = vxlan
        case .hostGW:
            dataplane = HostGWDataplane(underlay: context.underlay, localSubnet: lease.subnet, socket: context.socket)
            mtu = config.backend.mtu ?? context.underlay.mtu
        }
        if options.ipMasq {
            try NodeMasquerade().install(clusterNetwork: network, nodeSubnet: lease.subnet)
        } else {
            try NodeMasquerade().remove()
        }
        var node = AgentNode(lease: lease, dataplane: dataplane, ownSubnet: lease.subnet,
                             renewAt: registryNow() + Double(options.leaseTTL) / 2)
        metrics.update { $0.leaseExpiry = Int64(lease.expiration ?? 0) }
        try node.reconcile(registry: context.registry, metrics: metrics)
        try SubnetEnv(network: network, lease: lease.subnet, mtu: mtu, ipMasq: options.ipMasq).write(to: options.subnetFile)
        return node
    }

    /// Lists the registry and brings the dataplane in line with it; returns the peers that
    /// could not be programmed (for /readyz).
    @discardableResult
    mutating func reconcile(registry: any Registry, metrics: AgentMetrics) throws -> [String] {
        let own = ownSubnet
        let peers = try registry.leases()
            .filter { $0.subnet != own }
            .map { Peer(subnet: $0.subnet, publicIP: $0.publicIP, vtepMAC: $0.vtepMAC) }
        let report = dataplane.reconcile(peers)
        let seconds = Double(report.duration.components.seconds) + Double(report.duration.components.attoseconds) / 1e18
        let changed = report.added + report.removed + report.repaired
        metrics.recordReconcile(seconds: seconds, changed: changed)
        metrics.update {
            $0.peersProgrammed = report.programmedPeers.count
            $0.peersUnreachable = report.unreachablePeers.count
        }
        if changed > 0 {
            AgentLog.info("reconciled", ["peers": "\(report.programmedPeers.count)", "added": "\(report.added)",
                                         "removed": "\(report.removed)", "repaired": "\(report.repaired)",
                                         "ms": "\(Int(seconds * 1000))", "roundTrips": "\(report.netlinkRoundTrips)"])
        }
        let unreachable = report.unreachablePeers.map(\.description)
        if unreachable != lastUnreachable {
            for u in unreachable where !lastUnreachable.contains(u) { AgentLog.warn("peer not programmed", ["peer": u]) }
            lastUnreachable = unreachable
        }
        for failure in report.failures {
            metrics.recordError("dataplane")
            AgentLog.error("dataplane entry failed", ["entry": failure.description])
        }
        return unreachable
    }

    /// Renews the lease once half its TTL has passed (flannel renews an hour before expiry
    /// of 24 h; half the TTL also works for the short TTLs tests use).
    mutating func renewIfDue(registry: any Registry, ttl: Int, metrics: AgentMetrics) throws {
        guard registryNow() >= renewAt else { return }
        try registry.renewLease(lease, ttl: ttl)
        lease.expiration = registryNow() + Double(ttl)
        renewAt = registryNow() + Double(ttl) / 2
        let expiry = Int64(lease.expiration ?? 0)
        metrics.update { $0.leaseExpiry = expiry }
        AgentLog.debug("lease renewed", ["subnet": lease.subnet.description])
    }
}
