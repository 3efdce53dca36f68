import CNI
import NetTypes

/// The ranges one address is drawn from (an element of `ipam.ranges`). Each set yields one
/// address per ADD, so a dual-stack network has one IPv4 set and one IPv6 set.
package struct RangeSet: Sendable, Hashable, CustomStringConvertible {
    package let ranges: [AddressRange]

    /// Rejects an empty set, mixed families and ranges that share an address.
    package init(_ ranges: [AddressRange]) throws {
        guard let first = ranges.first else {
            throw PluginError(.invalidConfig, "range set is empty")
        }
        if let other = ranges.first(where: { $0.family != first.family }) {
            throw PluginError(.invalidConfig, "mixed address families: \(first) and \(other)")
        }
        for (i, a) in ranges.enumerated() {
            for b in ranges[(i + 1)...] where a.overlaps(b) {
                throw PluginError(.invalidConfig, "ranges \(a) and \(b) overlap")
            }
        }
        self.ranges = ranges
    }

    package var family: IPAddress.Family { ranges[0].family }

    /// The range whose `rangeStart...rangeEnd` holds `address`.
    package func range(containing address: IPAddress) -> AddressRange? {
        ranges.first { $0.contains(address) }
    }

    func overlaps(_ other: RangeSet) -> Bool {
        ranges.contains { a in other.ranges.contains { a.overlaps($0) } }
    }

    func hasFreeAddress(reserved: Set<IPAddress>) -> Bool {
        ranges.contains { $0.freeCount(reserved: reserved) > 0 }
    }

    package var description: String { ranges.map(\.description).joined(separator: ",") }
}
