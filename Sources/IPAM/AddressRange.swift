import CNI
import NetTypes

/// One pool inside a subnet (an entry of `ipam.ranges[i]`), with the reference plugin's
/// defaults already applied, so the allocator never deals with missing values.
package struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    /// The subnet in network form (host bits clear); its length is the allocations' prefix.
    package let subnet: IPPrefix
    /// First address that may be handed out (inclusive).
    package let rangeStart: IPAddress
    /// Last address that may be handed out (inclusive).
    package let rangeEnd: IPAddress
    /// Never handed out. Defaults to network+1 like the reference, which always reports one.
    package let gateway: IPAddress

    /// Applies the reference defaults (start = network+1, end = last address, minus the
    /// broadcast for IPv4, gateway = network+1) and rejects what the reference rejects,
    /// plus a start after the end and a gateway outside the subnet.
    package init(
        subnet: IPPrefix, rangeStart: IPAddress? = nil, rangeEnd: IPAddress? = nil,
        gateway: IPAddress? = nil
    ) throws {
        guard subnet.address == subnet.network.address else {
            throw PluginError(
                .invalidConfig, "subnet \(subnet) has host bits set; the network is \(subnet.network)")
        }
        // A /31 or /32 (/127, /128) leaves nothing once network and gateway are set aside.
        guard subnet.length <= subnet.address.bitWidth - 2 else {
            throw PluginError(.invalidConfig, "subnet \(subnet) is too small to allocate from")
        }
        let firstHost = subnet.address.advanced(by: 1)!
        let start = rangeStart ?? firstHost
        let end = rangeEnd ?? (subnet.family == .v4 ? subnet.lastAddress.advanced(by: -1)! : subnet.lastAddress)
        let gw = gateway ?? firstHost
        for (name, value) in [("rangeStart", start), ("rangeEnd", end), ("gateway", gw)]
        where !subnet.contains(value) {
            throw PluginError(.invalidConfig, "\(name) \(value) is not in subnet \(subnet)")
        }
        guard start <= end else {
            throw PluginError(.invalidConfig, "rangeStart \(start) is after rangeEnd \(end)")
        }
        self.subnet = subnet
        self.rangeStart = start
        self.rangeEnd = end
        self.gateway = gw
    }

    package var family: IPAddress.Family { subnet.family }

    /// Whether `address` lies in `rangeStart...rangeEnd` (the reference's `Range.Contains`).
    package func contains(_ address: IPAddress) -> Bool {
        address.family == family && rangeStart <= address && address <= rangeEnd
    }

    /// In the range, and neither the gateway nor an IPv4 network/broadcast address.
    func isAllocatable(_ address: IPAddress) -> Bool {
        contains(address) && !excludedAddresses.contains(address)
    }

    /// Addresses inside the range that are never handed out.
    var excludedAddresses: Set<IPAddress> {
        Set(([gateway] + subnet.reservedV4Addresses).filter(contains))
    }

    /// How many addresses could still be handed out, given the reserved ones.
    func freeCount(reserved: Set<IPAddress>) -> Int {
        let excluded = excludedAddresses
        let taken = reserved.filter { contains($0) && !excluded.contains($0) }.count
        let total = rangeStart.count(through: rangeEnd)
        return total == Int.max ? Int.max : total - excluded.count - taken
    }

    func overlaps(_ other: AddressRange) -> Bool {
        family == other.family && rangeStart <= other.rangeEnd && other.rangeStart <= rangeEnd
    }

    /// "start-end", as the reference prints a range in its errors.
    package var description: String { "\(rangeStart)-\(rangeEnd)" }
}
