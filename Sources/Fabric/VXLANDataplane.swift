import NetTypes
import Netlink

/// The VXLAN backend: device `flannel.<VNI>` and, per peer, in flannel's order, a permanent
/// neighbour (peer subnet .0 → VTEP MAC), an FDB entry (VTEP MAC → peer public IP) and the
/// route `peer-subnet via peer-subnet.0 dev flannel.<VNI> onlink`. With DirectRouting, a
/// peer on a directly connected underlay network gets `peer-subnet via peer-ip dev
/// <underlay>` instead (and no neighbour or FDB entry), as flannel does.
///
/// Unlike flannel it repairs: every reconcile re-reads the device and its entries, so a
/// deleted device, neighbour, FDB entry or route comes back, and a peer's old VTEP MAC or
/// address leaves nothing behind.
public struct VXLANDataplane: Dataplane, Sendable {
    public let configuration: VXLANConfiguration
    public let underlay: Underlay
    private var reconciler: Reconciler

    /// Nothing is changed until `ensureDevice` or `reconcile`.
    public init(configuration: VXLANConfiguration, underlay: Underlay, socket: RouteSocket) {
        self.configuration = configuration
        self.underlay = underlay
        self.reconciler = Reconciler(socket: socket)
    }

    private var device: VXLANDevice {
        VXLANDevice(configuration: configuration, underlay: underlay, socket: reconciler.socket)
    }

    /// Creates or fixes the device (a wrong VNI, local address, port, underlay or MAC means
    /// delete and recreate), its address and its up state. `reconcile` does this too; the
    /// agent calls it first to fail early and to know the device before writing subnet.env.
    @discardableResult
    public func ensureDevice() throws(DataplaneError) -> Link {
        try device.ensure().link
    }

    public mutating func reconcile(_ peers: [Peer]) -> ReconcileReport {
        ReconcileReport.measured { report in reconcile(peers, into: &report) }
    }

    private mutating func reconcile(_ peers: [Peer], into report: inout ReconcileReport) {
        let prepared: (link: Link, addresses: [InterfaceAddress], roundTrips: Int)
        do {
            prepared = try device.ensure()
        } catch {
            report.failures.append(EntryFailure(entry: "device \(configuration.deviceName)", peerID: nil, reason: error.message))
            return
        }
        report.netlinkRoundTrips += prepared.roundTrips
        let connected = Underlay.connectedNetworks(of: underlay.index, in: prepared.addresses)
        let selected = Peer.selectable(peers, localSubnet: configuration.localSubnet, publicIP: underlay.publicIP, into: &report)
        var desired: [DesiredEntry] = []
        for peer in selected {
            if configuration.directRouting && connected.contains(where: { $0.contains(peer.publicIP) }) {
                desired.append(DesiredEntry(entry: .route(RouteEntry(destination: peer.subnet, gateway: peer.publicIP,
                                                                     outputIndex: underlay.index, onlink: false)),
                                            peerID: peer.id))
                continue
            }
            guard let mac = peer.vtepMAC else {
                report.unreachablePeers.append(UnreachablePeer(peer: peer, reason: "its lease has no VtepMAC"))
                continue
            }
            desired += Self.tunnelEntries(peer, mac: mac, device: prepared.link.index).map { DesiredEntry(entry: $0, peerID: peer.id) }
        }
        reconciler.apply(desired, device: prepared.link.index, into: &report)
    }

    /// The three entries that send a peer's subnet through the tunnel. The gateway is the
    /// peer subnet's network address: the address on the peer's device, which the permanent
    /// neighbour resolves to its VTEP MAC without ARP.
    static func tunnelEntries(_ peer: Peer, mac: MACAddress, device: Int32) -> [DataplaneEntry] {
        let gateway = peer.subnet.address
        return [
            .neighbour(index: device, address: gateway, mac: mac),
            .fdb(index: device, mac: mac, destination: peer.publicIP),
            .route(RouteEntry(destination: peer.subnet, gateway: gateway, outputIndex: device, onlink: true)),
        ]
    }
}
