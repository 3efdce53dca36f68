import CNI
import SubnetRegistry
import Glibc
import NetTypes
import Netlink

/// Makes `flannel.<VNI>` exist exactly as configured: settings and MAC here, MTU, one IPv4
/// address and up by `OverlayDeviceSettings`.
struct VXLANDevice {
    let configuration: VXLANConfiguration
    let underlay: Underlay
    let socket: RouteSocket

    var settings: VXLANSettings {
        VXLANSettings(vni: configuration.vni, local: underlay.localAddress, underlayIndex: underlay.index,
                      port: configuration.port, learning: false)
    }

    /// The device after fixing it, and the node's IPv4 addresses as read before the fix (the
    /// backend needs the underlay's for adjacency), with the round trips it took.
    func ensure() throws(DataplaneError) -> (link: Link, addresses: [InterfaceAddress], roundTrips: Int) {
        let name = configuration.deviceName
        var roundTrips = 0
        do throws(NetlinkError) {
            var link = try socket.link(named: name)
            roundTrips += 1
            // VNI, local, port, underlay and MAC cannot all be changed on a live device:
            // a wrong one is replaced (its entries go with it and the reconcile re-adds them).
            if let existing = link, existing.kind != "vxlan" || existing.vxlan != settings || existing.mac != configuration.mac {
                try socket.deleteLink(index: existing.index)
                roundTrips += 1
                link = nil
            }
            let mtu = configuration.deviceMTU(underlay: underlay)
            if link == nil {
                try socket.createVXLAN(name: name, settings, mtu: mtu, mac: configuration.mac)
                link = try socket.link(named: name)
                roundTrips += 2
            }
            guard let device = link else {
                throw NetlinkError(operation: "get link \(name) after creating it", errno: ENODEV)
            }
            let fixed = try OverlayDeviceSettings(mtu: mtu, address: configuration.deviceAddress)
                .apply(to: device, socket: socket, roundTrips: &roundTrips)
            return (fixed.link, fixed.addresses, roundTrips)
        } catch {
            throw DataplaneError("cannot set up \(name) on \(underlay.name)", error)
        }
    }
}
