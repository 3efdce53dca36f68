@testable import Netlink
import CMnl

/// Kernel replies: one datagram split into messages, each read as every kind of object a
/// reply or dump may carry (links with their bridge/vxlan data and bridge VLAN lists,
/// addresses, routes, neighbours, FDB entries, nftables set elements) and as an error or
/// done message with its extended ack.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let messages = ReceivedMessage.split(bytes)
    let total = messages.reduce(0) { $0 + Int(cmnl_nlmsg_hdrlen()) + $1.payload.count }
    precondition(total <= bytes.count, "split returned more bytes than the datagram holds")
    for message in messages {
        _ = message.failure(operation: "fuzz")?.description
        _ = message.isDumpInterrupted
        if let link = Link(message) { _ = link.vxlan?.vni; _ = link.mac?.description }
        if let address = InterfaceAddress(message) { _ = address.prefix.description }
        if let route = Route(message) { _ = route.destination.description }
        if let neighbour = Neighbour(message) { _ = neighbour.address.description }
        if let entry = FDBEntry(message) { _ = entry.mac.description }
        for element in NftablesElement.elements(in: message) { _ = element.comment }
        if let spec = message.attributes(after: ifinfomsg.self).nested(IFLA_AF_SPEC) {
            for vlan in BridgeVLAN.parseList(spec.all(IFLA_BRIDGE_VLAN_INFO)) { _ = vlan.vids }
        }
    }
    return 0
}
