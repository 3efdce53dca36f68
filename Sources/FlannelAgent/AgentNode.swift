import CNI
import Logging
import Dataplane
import FlannelCNI
import SubnetRegistry
import Netlink
import NetTypes
import UDPTunnel

/// This node once set up: its lease, its dataplane, the peers it knows and what it last
/// reported.
struct AgentNode {
    var lease: SubnetLease
    let kind: BackendKind
    var dataplane: any Dataplane
    let ownSubnet: IPPrefix
    /// The node runs the IPv6 side too (a dual-stack lease).
    var dualStack: Bool { lease.ipv6Subnet != nil }
    var renewAt: Double
    var peers: PeerSet
    /// The registry's leases as the admission judge last saw them (AgentNode+Admission).
    var admitted: AdmittedLeases
    /// Ids of the peers whose entries are all in place.
    var programmed: Set<String> = []
    /// Peers not programmed, with the reason, in subnet order (for /readyz and the log).
    var unreachable: [UnreachablePeer] = []
    var lastUnreachable: [String] = []
    /// Where the node publishes what changes: readiness, then the log, then the metrics.
    let status: AgentStatus
    var logger: Logger { status.logger }
    var metrics: AgentMetrics { status.metrics }
    /// `--lease-ttl` and `--subnet-lease-renew-margin`, for renewing and re-acquiring.
    let ttl: Int
    let renewMargin: Int
    /// The other node's PublicIP while it holds this node's subnet (AgentNode+OwnLease).
    var conflict: IPAddress?
    /// `--iptables-forward-rules`: checked at set-up and every `--iptables-resync` seconds.
    var forwardRules: ForwardRulesKeeper?
    /// The network config the node was set up with (nil: not followed), how the registry's
    /// differs now (nil: it matches), and why that leaves the node not ready
    /// (NetworkConfigDrift).
    var startConfig: FlannelNetworkConfig?
    var configDrift: String?
    var configProblem: String?

    /// Config → lease → device → masquerade → first reconcile → subnet.env, in that order so
    /// that subnet.env (what lets containers start) appears only on a working node. Any
    /// failure leaves no subnet.env behind and is retried by the caller.
    static func setUp(context: AgentContext, options: AgentOptions, status: AgentStatus) throws -> AgentNode {
        let (logger, metrics) = (status.logger, status.metrics)
        let config = try context.registry.networkConfig()
        guard let kind = BackendKind(rawValue: config.backend.type) else {
            throw AgentError("the network config in \(context.registry.location) asks for backend \"\(config.backend.type)\"; "
                             + "this swift-flanneld runs \(BackendKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let network = config.network else {
            throw AgentError("the network config has no IPv4 Network; IPv6-only networks are not supported (flannel's "
                             + "registry leases always carry an IPv4 subnet)")
        }
        // Dual stack: the IPv6 side is checked before anything is leased or programmed, so a
        // node without an IPv6 underlay address stays not ready instead of half-working.
        let ipv6Network = config.enableIPv6 ? config.ipv6Network : nil
        var underlay = context.underlay
        if ipv6Network != nil {
            guard kind != .udp else {
                throw AgentError("the network config enables IPv6, but the udp backend carries IPv4 only (as flannel's); "
                                 + "use vxlan or host-gw for dual stack")
            }
            underlay = try underlay.withIPv6(publicIPv6: options.publicIPv6, socket: context.socket)
            if let problem = underlay.ipv6Problem { throw AgentError("dual stack (EnableIPv6): \(problem)") }
        }
        let mac = kind == .vxlan ? try context.state.vtepMAC() : nil
        let macV6 = kind == .vxlan && ipv6Network != nil ? try context.state.vtepMACv6() : nil
        let allocator = SubnetAllocator(
            config: config, publicIP: underlay.publicIP, backendType: kind.rawValue,
            backendData: mac.map { SubnetLease.vxlanBackendData(vni: config.backend.vni, vtepMAC: $0) },
            publicIPv6: ipv6Network != nil ? underlay.publicIPv6 : nil,
            backendV6Data: macV6.map { SubnetLease.vxlanBackendData(vni: config.backend.vni, vtepMAC: $0) })
        let previous = context.state.previousSubnet(subnetFile: options.subnetFile)
        let previousIPv6 = context.state.previousIPv6Subnet(subnetFile: options.subnetFile)
        let lease = try allocator.acquire(from: context.registry, previous: previous, previousIPv6: previousIPv6, ttl: options.leaseTTL)
        try context.state.recordLease(lease.subnet, ipv6: lease.ipv6Subnet)
        logger.info("lease acquired", metadata: ["subnet": "\(lease.subnet.description)", "publicIP": "\(lease.publicIP.description)",
                                                "ipv6Subnet": "\(lease.ipv6Subnet?.description ?? "none")",
                                                "publicIPv6": "\(lease.publicIPv6?.description ?? "none")",
                                                "reused": "\(previous == lease.subnet)"])

        let (vni, port) = try tunnelNumbers(config.backend, registry: context.registry.location)
        var dataplane: any Dataplane
        let mtu: Int
        switch kind {
        case .vxlan:
            let vxlan = VXLANDataplane(
                configuration: VXLANConfiguration(localSubnet: lease.subnet, mac: mac!, vni: vni,
                                                  port: port, directRouting: config.backend.directRouting,
                                                  mtu: config.backend.mtu, localIPv6Subnet: lease.ipv6Subnet, macV6: macV6),
                underlay: underlay, socket: context.socket)
            let device = try vxlan.ensureDevice()
            // Containers get one MTU for both families: the smaller device's (the IPv6 one,
            // 20 bytes more of outer header), so IPv6 never needs a too-big round trip.
            mtu = lease.ipv6Subnet == nil ? device.mtu : min(device.mtu, vxlan.configuration.ipv6DeviceMTU(underlay: underlay))
            dataplane = vxlan
        case .hostGW:
            dataplane = HostGWDataplane(underlay: underlay, localSubnet: lease.subnet, localIPv6Subnet: lease.ipv6Subnet,
                                        socket: context.socket)
            mtu = config.backend.mtu ?? underlay.mtu
        case .udp:
            // Bound to the interface's address: behind NAT (--public-ip) peers send to the
            // public one and the NAT delivers here.
            var udp = try UDPDataplane(
                configuration: UDPTunnelConfiguration(publicAddress: context.underlay.localAddress, port: port,
                                                      network: network, ownSubnet: lease.subnet, path: options.udpPath),
                underlay: context.underlay, mtu: config.backend.mtu, socket: context.socket)
            mtu = try udp.ensureDevice().mtu
            logger.info("udp tunnel", metadata: ["device": "\(udp.configuration.deviceName)", "port": "\(config.backend.port)",
                                                 "path": "\(udp.tunnel.pathDescription)"])
            metrics.udp.follow(udp.tunnel)
            dataplane = udp
        }
        if options.ipMasq {
            try NodeMasquerade().install(clusterNetwork: network, nodeSubnet: lease.subnet)
            if let ipv6Network, let ipv6Subnet = lease.ipv6Subnet {
                try NodeMasquerade().install(clusterNetwork: ipv6Network, nodeSubnet: ipv6Subnet)
            } else {
                try NodeMasquerade().remove(family: .v6)  // a node back to IPv4 only
            }
        } else {
            try NodeMasquerade().remove()
        }
        guard let admission = LeaseAdmission(config: config, own: lease) else {
            throw AgentError("the network config in \(context.registry.location) has no IPv4 Network")
        }
        var node = AgentNode(lease: lease, kind: kind, dataplane: dataplane, ownSubnet: lease.subnet,
                             renewAt: Self.renewalTime(expiry: registryNow() + Double(options.leaseTTL), ttl: options.leaseTTL, margin: options.renewMargin), peers: PeerSet(ownSubnet: lease.subnet),
                             admitted: AdmittedLeases(admission: admission),
                             status: status, ttl: options.leaseTTL, renewMargin: options.renewMargin)
        let clusterNetworks = [network] + (lease.ipv6Subnet == nil ? [] : ipv6Network.map { [$0] } ?? [])
        node.startConfig = config
        node.forwardRules = ForwardRulesKeeper(clusterNetworks: clusterNetworks, enabled: options.forwardRules,
                                               interval: options.forwardRulesResync)
        node.keepForwardRules()
        metrics.recordLeaseExpiry(lease.expiration ?? 0)
        try node.reconcile(registry: context.registry)
        try SubnetEnv(network: network, lease: lease.subnet, ipv6Network: lease.ipv6Subnet == nil ? nil : ipv6Network,
                      ipv6Lease: lease.ipv6Subnet, mtu: mtu, ipMasq: options.ipMasq).write(to: options.subnetFile)
        return node
    }

    /// The backend's VNI and port as the dataplane takes them, checked: the config comes from
    /// the registry (the parser checks the ranges too, but a number out of range here must be
    /// an error naming the field, never a trap).
    static func tunnelNumbers(_ backend: FlannelNetworkConfig.Backend, registry: String) throws -> (vni: UInt32, port: UInt16) {
        guard let vni = UInt32(exactly: backend.vni), (1...0xff_ffff).contains(vni) else {
            throw AgentError("the network config in \(registry): Backend.VNI \(backend.vni) is out of range 1-16777215")
        }
        guard let port = UInt16(exactly: backend.port), port != 0 else {
            throw AgentError("the network config in \(registry): Backend.Port \(backend.port) is out of range 1-65535")
        }
        return (vni, port)
    }

    /// Lists the registry and brings the dataplane in line with it (reading the kernel's
    /// state, so anything changed behind the agent's back is repaired). The listing also
    /// shows whether this node still holds its own lease (AgentNode+OwnLease): at the latest
    /// here, every `--resync-interval`, a lost lease is noticed.
    mutating func reconcile(registry: any Registry) throws {
        let changes = admit(listing: try registry.leases(), unreadable: registry.takeSkippedEntries())
        _ = try keepOwnLease(changes.own ?? admitted.verdict.own, registry: registry)
        if conflict != nil { return withdrawPeers() }  // and keep them withdrawn
        let report = dataplane.reconcile(peers.replace(with: admitted.verdict.peers))
        // A re-opened tunnel (its device was deleted by hand) is counted from now on.
        if let udp = dataplane as? UDPDataplane { metrics.udp.follow(udp.tunnel) }
        programmed = Set(report.programmedPeers)
        unreachable = report.unreachablePeers
        record(report, via: "list")
    }

    /// Applies a batch of lease events to the known peers and hands the dataplane only the
    /// peers that changed. Returns false when the dataplane could not do all of it; the
    /// caller then reconciles in full, which reads the kernel and sorts out what went wrong.
    /// Events about this node's own subnet are acted on first (AgentNode+OwnLease); while
    /// another node holds it, peer events change nothing (the full listing that ends the
    /// conflict programs the peers as they are then).
    mutating func apply(_ events: [RegistryEvent], registry: any Registry) throws -> Bool {
        let admittedChanges = admit(events: events, unreadable: registry.takeSkippedEntries())
        if let status = admittedChanges.own, try keepOwnLease(status, registry: registry) {
            return false
        }
        if conflict != nil { return true }
        let changes = peers.apply(admittedChanges.peerEvents)
        guard !changes.isEmpty else { return true }
        let report = dataplane.apply(changes)
        let changed = Set(changes.flatMap { [$0.old?.id, $0.new?.id] }.compactMap { $0 })
        programmed.subtract(changed)
        programmed.formUnion(report.programmedPeers)
        unreachable.removeAll { changed.contains($0.peer.id) }
        unreachable += report.unreachablePeers
        unreachable.sort { $0.peer.subnet.address < $1.peer.subnet.address }
        record(report, via: "events")
        return report.failures.isEmpty
    }

    /// Forward rules when due (ForwardRulesKeeper): changes logged; failures logged and
    /// counted, never fatal (the next check retries).
    mutating func keepForwardRules() {
        guard let outcome = forwardRules?.syncIfDue(now: monotonicSeconds()) else { return }
        for change in outcome.changes { logger.info("forward rules", metadata: ["change": "\(change)"]) }
        for error in outcome.errors { logger.warning("forward rules", metadata: ["error": "\(error)"]) }
        for _ in outcome.errors { metrics.recordError("forward_rules") }
    }

    /// The unreachable peers in words, for /readyz.
    var unreachableDescriptions: [String] { unreachable.map(\.description) }

    /// /readyz, log lines and metrics for one reconcile, full (`via` "list") or incremental
    /// ("events"), in that order (AgentStatus): a suite that sees the peer counts change
    /// finds the unreachable peers on /readyz and the log lines already there.
    mutating func record(_ report: ReconcileReport, via: String) {
        let descriptions = unreachableDescriptions
        status.setUnreachable(descriptions)
        let seconds = Double(report.duration.components.seconds) + Double(report.duration.components.attoseconds) / 1e18
        let changed = report.added + report.removed + report.repaired
        if changed > 0 {
            logger.info("reconciled", metadata: ["peers": "\(programmed.count)", "added": "\(report.added)",
                                                "removed": "\(report.removed)", "repaired": "\(report.repaired)",
                                                "ms": "\(Int(seconds * 1000))", "roundTrips": "\(report.netlinkRoundTrips)",
                                                "via": "\(via)"])
        }
        if descriptions != lastUnreachable {
            let known = Set(lastUnreachable)
            for u in descriptions where !known.contains(u) { logger.warning("peer not programmed", metadata: ["peer": "\(u)"]) }
            lastUnreachable = descriptions
        }
        for failure in report.failures {
            logger.error("dataplane entry failed", metadata: ["entry": "\(failure.description)"])
        }
        for _ in report.failures { metrics.recordError("dataplane") }
        metrics.recordReconcile(duration: report.duration, changed: changed)
        metrics.recordPeers(programmed: programmed.count, unreachable: unreachable.count)
        if dualStack {
            // A peer counts as programmed for a family when its half of that family is in place.
            let ipv6Unreachable = Set(unreachable.filter { $0.family == .v6 }.map(\.peer.id))
            let ipv6Programmed = programmed.intersection(peers.ipv6PeerIDs).subtracting(ipv6Unreachable)
            metrics.recordPeers(family: .v4, programmed: programmed.count, unreachable: unreachable.filter { $0.family == .v4 }.count)
            metrics.recordPeers(family: .v6, programmed: ipv6Programmed.count, unreachable: ipv6Unreachable.count)
        } else {
            metrics.recordPeers(family: .v4, programmed: programmed.count, unreachable: unreachable.count)
        }
    }

    /// When to renew a lease that expires at `expiry`: `--subnet-lease-renew-margin` before it,
    /// as flanneld does (an hour before the 24 h expiry by default). A margin of half the TTL
    /// or more (a short `--lease-ttl`) renews at half the TTL instead of continuously.
    static func renewalTime(expiry: Double, ttl: Int, margin: Int) -> Double {
        expiry - Double(min(margin, ttl / 2))
    }

    /// Renews the lease once its renewal time has come. A failed renewal throws and leaves
    /// `renewAt` as it was, so the loop retries it after its backoff, long before expiry.
    mutating func renewIfDue(registry: any Registry, ttl: Int, margin: Int) throws {
        guard registryNow() >= renewAt else { return }
        try registry.renewLease(lease, ttl: ttl)
        let expiry = registryNow() + Double(ttl)
        lease.expiration = expiry
        renewAt = Self.renewalTime(expiry: expiry, ttl: ttl, margin: margin)
        logger.debug("lease renewed", metadata: ["subnet": "\(lease.subnet.description)"])
        metrics.recordLeaseExpiry(expiry)
    }
}
