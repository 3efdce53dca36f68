import NetTypes

/// Another node as the UDP backend sees it: the subnet it leases and where its agent listens.
///
/// The subnet picks the destination of an outgoing packet; address and port together are
/// the only sender whose datagrams are accepted for that subnet.
package struct UDPPeer: Sendable, Hashable {
    package var subnet: IPPrefix
    package var publicAddress: IPAddress
    package var port: UInt16

    package init(subnet: IPPrefix, publicAddress: IPAddress, port: UInt16) {
        self.subnet = subnet
        self.publicAddress = publicAddress
        self.port = port
    }
}
