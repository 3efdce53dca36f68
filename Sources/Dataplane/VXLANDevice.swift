import CNI
import SubnetRegistry
import Glibc
import NetTypes
import Netlink

/// Makes one VXLAN device exist exactly as configured: settings and MAC here, MTU, one
/// address and up by `OverlayDeviceSettings`. `flannel.<VNI>` over the underlay's IPv4
/// address, or (dual-stack) `flannel-v6.<VNI>` over its IPv6 one.
struct VXLANDevice {
    let name: String
    let settings: VXLANSettings
    let mac: MACAddress?
    let mtu: Int
    let address: IPPrefix
    let underlayName: String
    let socket: RouteSocket

    /// `flannel.<VNI>`.
    init(configuration: VXLANConfiguration, underlay: Underlay, socket: RouteSocket) {
        self.name = configuration.deviceName
        self.settings = VXLANSettings(vni: configuration.vni, local: underlay.localAddress, underlayIndex: underlay.index,
                                      port: configuration.port, learning: false)
        self.mac = configuration.mac
        self.mtu = configuration.deviceMTU(underlay: underlay)
        self.address = configuration.deviceAddress
        self.underlayName = underlay.name
        self.socket = socket
    }

    /// `flannel-v6.<VNI>`; nil unless the configuration is dual-stack and the underlay has
    /// an IPv6 address (`VXLANConfiguration.ipv6Problem` says which is missing).
    init?(ipv6 configuration: VXLANConfiguration, underlay: Underlay, socket: RouteSocket) {
        guard let subnet = configuration.localIPv6Subnet, let local = underlay.localIPv6, let mac = configuration.macV6 else {
            return nil
        }
        self.name = configuration.ipv6DeviceName
        self.settings = VXLANSettings(vni: configuration.vni, local: local, underlayIndex: underlay.index,
                                      port: configuration.port, learning: false)
        self.mac = mac
        self.mtu = configuration.ipv6DeviceMTU(underlay: underlay)
        self.address = IPPrefix(address: subnet.address, length: 128)!
        self.underlayName = underlay.name
        self.socket = socket
    }

    /// The device after fixing it, and the node's addresses of the device's family as read
    /// before the fix (the backend needs the underlay's for adjacency), with the round trips it took.
    func ensure() throws(DataplaneError) -> (link: Link, addresses: [InterfaceAddress], roundTrips: Int) {
        var roundTrips = 0
        do throws(NetlinkError) {
            var link = try socket.link(named: name)
            roundTrips += 1
            // VNI, local, port, underlay and MAC cannot all be changed on a live device:
            // a wrong one is replaced (its entries go with it and the reconcile re-adds them).
            if let existing = link, existing.kind != "vxlan" || existing.vxlan != settings || existing.mac != mac {
                try socket.deleteLink(index: existing.index)
                roundTrips += 1
                link = nil
            }
            if link == nil {
                try socket.createVXLAN(name: name, settings, mtu: mtu, mac: mac)
                link = try socket.link(named: name)
                roundTrips += 2
            }
            guard let device = link else {
                throw NetlinkError(operation: "get link \(name) after creating it", errno: ENODEV)
            }
            let fixed = try OverlayDeviceSettings(mtu: mtu, address: address)
                .apply(to: device, socket: socket, roundTrips: &roundTrips)
            return (fixed.link, fixed.addresses, roundTrips)
        } catch {
            throw DataplaneError("cannot set up \(name) on \(underlayName)", error)
        }
    }
}
