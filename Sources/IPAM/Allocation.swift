import NetTypes

/// One address handed out from one range set.
package struct Allocation: Sendable, Hashable {
    /// The address with its subnet's prefix length ("10.22.0.5/16").
    package let address: IPPrefix
    /// The range's gateway; always set by host-local, optional for other IPAM sources.
    package let gateway: IPAddress?
    /// Which element of `ipam.ranges` it came from.
    package let rangeSetIndex: Int

    package init(address: IPPrefix, gateway: IPAddress?, rangeSetIndex: Int) {
        self.address = address
        self.gateway = gateway
        self.rangeSetIndex = rangeSetIndex
    }

    init(range: AddressRange, address: IPAddress, rangeSetIndex: Int) {
        self.init(
            address: IPPrefix(address: address, length: range.subnet.length)!,
            gateway: range.gateway, rangeSetIndex: rangeSetIndex)
    }
}
