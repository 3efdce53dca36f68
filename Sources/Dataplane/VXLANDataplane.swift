import CNI
import SubnetRegistry
import NetTypes
import Netlink

/// The VXLAN backend: device `flannel.<VNI>` and, per peer, in flannel's order, a permanent
/// neighbour (peer subnet .0 → VTEP MAC), an FDB entry (VTEP MAC → peer public IP) and the
/// route `peer-subnet via peer-subnet.0 dev flannel.<VNI> onlink`. With DirectRouting, a
/// peer on a directly connected underlay network gets `peer-subnet via peer-ip dev
/// <underlay>` instead (and no neighbour or FDB entry), as flannel does.
///
/// Unlike flannel it repairs: every full reconcile (start-up, each resync) re-reads the
/// device and its entries, so a deleted device, neighbour, FDB entry or route comes back,
/// and a peer's old VTEP MAC or address leaves nothing behind. Lease events in between take
/// the incremental path, which writes and removes the changed peers' entries only.
///
/// Dual-stack (`configuration.localIPv6Subnet` set): a second device `flannel-v6.<VNI>`
/// over the underlay's IPv6 address (MTU underlay − 70, the v6 subnet's network address as
/// /128, MAC `configuration.macV6`) and per peer the same three entries for its v6 half
/// (`peer-v6-subnet via peer-v6-subnet-address dev flannel-v6.<VNI> onlink`, the FDB entry
/// to its PublicIPv6). Without an IPv6 underlay address or v6 MAC nothing is programmed.
package struct VXLANDataplane: Dataplane, Sendable {
    package let configuration: VXLANConfiguration
    package let underlay: Underlay
    private var reconciler: Reconciler
    /// Peers to entries with the device and networks the last full reconcile found; the
    /// incremental path uses it (nil: no full reconcile got that far yet).
    private var lastEntries: VXLANPeerEntries?

    /// Nothing is changed until `ensureDevice` or `reconcile`.
    package init(configuration: VXLANConfiguration, underlay: Underlay, socket: RouteSocket) {
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
    /// Dual-stack, `flannel-v6.<VNI>` too (an IPv6 problem throws before anything is made).
    @discardableResult
    package func ensureDevice() throws(DataplaneError) -> Link {
        if let problem = configuration.ipv6Problem(underlay: underlay) { throw DataplaneError(problem) }
        let link = try device.ensure().link
        _ = try ipv6Device?.ensure()
        return link
    }

    private var ipv6Device: VXLANDevice? {
        VXLANDevice(ipv6: configuration, underlay: underlay, socket: reconciler.socket)
    }

    package mutating func reconcile(_ peers: [Peer]) -> ReconcileReport {
        ReconcileReport.measured { report in reconcile(peers, into: &report) }
    }

    private mutating func reconcile(_ peers: [Peer], into report: inout ReconcileReport) {
        if let problem = configuration.ipv6Problem(underlay: underlay) {
            lastEntries = nil
            report.failures.append(EntryFailure(entry: "device \(configuration.ipv6DeviceName)", peerID: nil,
                                                reason: problem + "; nothing programmed"))
            return
        }
        let prepared: (link: Link, addresses: [InterfaceAddress], roundTrips: Int)
        var preparedV6: (link: Link, addresses: [InterfaceAddress], roundTrips: Int)?
        do {
            prepared = try device.ensure()
        } catch {
            lastEntries = nil
            report.failures.append(EntryFailure(entry: "device \(configuration.deviceName)", peerID: nil, reason: error.message))
            return
        }
        report.netlinkRoundTrips += prepared.roundTrips
        do {
            preparedV6 = try ipv6Device?.ensure()
        } catch {
            lastEntries = nil
            report.failures.append(EntryFailure(entry: "device \(configuration.ipv6DeviceName)", peerID: nil, reason: error.message))
            return
        }
        var entries = VXLANPeerEntries(configuration: configuration, underlay: underlay, device: prepared.link.index,
                                       connected: Underlay.connectedNetworks(of: underlay.index, in: prepared.addresses))
        if let preparedV6 {
            report.netlinkRoundTrips += preparedV6.roundTrips
            entries.ipv6Device = preparedV6.link.index
            entries.connectedIPv6 = Underlay.connectedIPv6Networks(of: underlay.index, in: preparedV6.addresses)
        }
        lastEntries = entries
        reconciler.apply(entries.desired(peers, into: &report), device: entries.device,
                         ipv6: entries.ipv6Device.map { .some($0) }, into: &report)
    }

    package mutating func apply(_ changes: [PeerChange]) -> ReconcileReport {
        reconciler.applyChanges(changes, using: lastEntries, missing: "device \(configuration.deviceName)")
    }

    /// The three entries that send a peer's subnet through the tunnel. The gateway is the
    /// peer subnet's network address: the address on the peer's device, which the permanent
    /// neighbour resolves to its VTEP MAC without ARP.
    static func tunnelEntries(_ peer: Peer, mac: MACAddress, device: Int32) -> [DataplaneEntry] {
        tunnelEntries(subnet: peer.subnet, publicIP: peer.publicIP, mac: mac, device: device)
    }

    /// The same for either family (an IPv6 route carries the kernel's default metric).
    static func tunnelEntries(subnet: IPPrefix, publicIP: IPAddress, mac: MACAddress, device: Int32) -> [DataplaneEntry] {
        let gateway = subnet.address
        return [
            .neighbour(index: device, address: gateway, mac: mac),
            .fdb(index: device, mac: mac, destination: publicIP),
            .route(RouteEntry(destination: subnet, gateway: gateway, outputIndex: device, onlink: true,
                              priority: subnet.family == .v6 ? RouteEntry.ipv6DefaultMetric : nil)),
        ]
    }
}
