import Glibc
import NetTypes
import Netlink

/// What the agent sets on its overlay device once the device exists (`flannel.<VNI>` or
/// `flannel0`, or `flannel-v6.<VNI>`): the MTU, exactly one address of its family (the
/// subnet's network address as /32, or /128, so no broadcast or subnet route appears) and
/// up. An IPv6 device keeps the link-local address the kernel gives it. One place, so both backends repair a
/// hand-changed device the same way.
struct OverlayDeviceSettings {
    let mtu: Int
    let address: IPPrefix

    /// The device after fixing it and the node's addresses of that family as read before the fix (the
    /// backends need the underlay's for adjacency); `roundTrips` counts the netlink requests.
    func apply(to link: Link, socket: RouteSocket, roundTrips: inout Int) throws(NetlinkError) -> (link: Link, addresses: [InterfaceAddress]) {
        var device = link
        if device.mtu != mtu {
            try socket.setLink(index: device.index, mtu: mtu)
            roundTrips += 1
        }
        let addresses = try socket.addresses(family: address.family)
        roundTrips += 1
        let onDevice = addresses.filter { $0.index == device.index && !(address.family == .v6 && $0.scope == .link) }
        for stale in onDevice where stale.prefix != address {
            try socket.deleteAddress(stale.prefix, index: device.index)
            roundTrips += 1
        }
        if !onDevice.contains(where: { $0.prefix == address }) {
            try socket.addAddress(address, index: device.index, noDAD: address.family == .v6)
            roundTrips += 1
        }
        if !device.isUp {
            try socket.setLink(index: device.index, up: true)
            device = try socket.link(index: device.index) ?? device
            roundTrips += 2
        }
        return (device, addresses)
    }
}
