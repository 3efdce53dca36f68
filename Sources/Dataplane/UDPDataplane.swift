import CNI
import Glibc
import NetTypes
import NetNS
import Netlink
import UDPTunnel

/// The UDP backend, flannel's first mode: the TUN device `flannel0` with one route for the
/// whole cluster network, and the agent's own forwarding threads (module UDPTunnel) between
/// it and UDP port `Backend.Port`. The kernel holds just that route; which node owns which
/// subnet lives in the tunnel's peer table, which is replaced whole on every change (one
/// allocation and one swap, whatever the cluster's size).
///
/// Like the other backends it repairs: each full reconcile re-reads flannel0 and its route,
/// restores MTU, address, up state and route, and re-opens the tunnel when the device was
/// deleted under it.
package struct UDPDataplane: Dataplane, Sendable {
    package let configuration: UDPTunnelConfiguration
    package let underlay: Underlay
    /// flannel0's MTU: the underlay's minus the outer IPv4 and UDP headers, unless set.
    package let mtu: Int
    /// The forwarding engine; a new one after the device was re-created.
    package private(set) var tunnel: UDPTunnel
    private var reconciler: Reconciler
    /// The peers in the tunnel's table, by subnet.
    private var table: [IPPrefix: Peer] = [:]
    /// flannel0 as the last full reconcile left it (nil: none yet, or it failed).
    private var deviceIndex: Int32?

    /// Outer IPv4 (20) + UDP (8) headers: flannel's `underlay MTU − 28`.
    package static let encapsulationOverhead = 28

    /// Opens (creating if needed) the persistent TUN device and binds the UDP socket; the
    /// threads start at the first reconcile, once MTU, address and peers are in place.
    package init(configuration: UDPTunnelConfiguration, underlay: Underlay, mtu: Int?, socket: RouteSocket) throws(DataplaneError) {
        self.configuration = configuration
        self.underlay = underlay
        self.mtu = mtu ?? underlay.mtu - Self.encapsulationOverhead
        self.reconciler = Reconciler(socket: socket)
        self.tunnel = try Self.open(configuration)
    }

    private static func open(_ configuration: UDPTunnelConfiguration) throws(DataplaneError) -> UDPTunnel {
        do {
            return try UDPTunnel(configuration)
        } catch {
            throw DataplaneError("cannot open \(configuration.deviceName) and UDP port \(configuration.publicAddress):\(configuration.port): \(error)")
        }
    }

    /// The device's own address: `<subnet network>/32`, as flannel sets it.
    var deviceAddress: IPPrefix { IPPrefix(address: configuration.ownSubnet.network.address, length: 32)! }

    /// The id the network route carries in the reconciler's bookkeeping (never a peer's:
    /// peer ids are lease keys, "10.244.1.0-24").
    static let networkRouteID = "cluster network route"

    /// Sets MTU, address and up on flannel0 (re-opening the tunnel when the device is gone).
    /// `reconcile` does this too; the agent calls it first to fail early and to know the MTU
    /// before writing subnet.env.
    @discardableResult
    package mutating func ensureDevice() throws(DataplaneError) -> Link {
        var roundTrips = 0
        return try ensureDevice(roundTrips: &roundTrips)
    }

    private mutating func ensureDevice(roundTrips: inout Int) throws(DataplaneError) -> Link {
        let name = configuration.deviceName
        let socket = reconciler.socket
        do {
            var link = try socket.link(named: name)
            roundTrips += 1
            if link == nil {
                // Deleted under the running tunnel: its file descriptors point at nothing.
                tunnel.stop()
                tunnel = try Self.open(configuration)
                link = try socket.link(named: name)
                roundTrips += 1
            }
            guard let device = link else { throw DataplaneError("\(name) is missing right after opening it") }
            try disableIPv6(on: name)
            return try OverlayDeviceSettings(mtu: mtu, address: deviceAddress)
                .apply(to: device, socket: socket, roundTrips: &roundTrips).link
        } catch let error as DataplaneError {
            throw error
        } catch let error as NetlinkError {
            throw DataplaneError("cannot set up \(name)", error)
        } catch {
            throw DataplaneError("cannot set up \(name): \(error)")
        }
    }

    /// flannel's UDP mode carries IPv4 only: without this the kernel sends router and
    /// multicast-listener solicitations into flannel0 that the tunnel can only drop (and
    /// count, hiding real drops). A kernel without IPv6 has no such file: nothing to do.
    private func disableIPv6(on name: String) throws(DataplaneError) {
        let key = "net/ipv6/conf/\(name)/disable_ipv6"
        do {
            if try Sysctl.get(key) != "1" { try Sysctl.set(key, "1") }
        } catch {
            if case .system(ENOENT) = error.reason { return }
            throw DataplaneError("cannot turn IPv6 off on \(name): \(error)")
        }
    }

    package mutating func reconcile(_ peers: [Peer]) -> ReconcileReport {
        ReconcileReport.measured { report in reconcile(peers, into: &report) }
    }

    private mutating func reconcile(_ peers: [Peer], into report: inout ReconcileReport) {
        let device: Link
        do {
            device = try ensureDevice(roundTrips: &report.netlinkRoundTrips)
        } catch {
            deviceIndex = nil
            report.failures.append(EntryFailure(entry: "device \(configuration.deviceName)", peerID: nil, reason: error.message))
            return
        }
        deviceIndex = device.index
        // The one kernel entry: the cluster network through flannel0. The reconciler also
        // removes our routes that no longer belong (a vxlan or host-gw run before this one).
        let route = DesiredEntry(entry: .route(RouteEntry(destination: configuration.network.network, gateway: nil,
                                                          outputIndex: device.index, onlink: false)),
                                 peerID: Self.networkRouteID)
        let failuresBefore = report.failures.count
        reconciler.apply([route], device: nil, into: &report)
        report.programmedPeers.removeAll { $0 == Self.networkRouteID }
        let routeInPlace = report.failures.count == failuresBefore

        let wanted = Peer.selectable(peers, localSubnet: configuration.ownSubnet, publicIP: underlay.publicIP, into: &report)
        let before = table
        table = Dictionary(wanted.map { ($0.subnet, $0) }, uniquingKeysWith: { first, _ in first })
        report.added += table.values.filter { before[$0.subnet] != $0 }.count
        report.removed += before.values.filter { table[$0.subnet] != $0 }.count
        report.unchanged += table.values.filter { before[$0.subnet] == $0 }.count
        publish()
        tunnel.start()
        if routeInPlace { report.programmedPeers += wanted.map(\.id) }
    }

    package mutating func apply(_ changes: [PeerChange]) -> ReconcileReport {
        ReconcileReport.measured { report in
            guard deviceIndex != nil else {
                report.failures.append(EntryFailure(entry: "device \(configuration.deviceName)", peerID: nil,
                                                    reason: "not read by a full reconcile yet"))
                return
            }
            for old in changes.compactMap(\.old) where table.removeValue(forKey: old.subnet) != nil {
                report.removed += 1
            }
            let wanted = Peer.selectable(changes.compactMap(\.new), localSubnet: configuration.ownSubnet,
                                         publicIP: underlay.publicIP, into: &report)
            for peer in wanted where table[peer.subnet] == nil {
                table[peer.subnet] = peer
                report.added += 1
                report.programmedPeers.append(peer.id)
            }
            publish()
        }
    }

    /// Hands the table to the forwarding threads; every peer listens on `Backend.Port`, as
    /// in flannel (the port is network-wide config, not per lease).
    private func publish() {
        tunnel.replacePeers(table.values.sorted { $0.subnet.address < $1.subnet.address }
            .map { UDPPeer(subnet: $0.subnet, publicAddress: $0.publicIP, port: configuration.port) })
    }
}
