import NetTypes

extension RangeSet {
    /// The next address to hand out, in the reference's round-robin order: the address after
    /// `lastReserved` if that is in this set (else the first range's start), walking up each
    /// range and on to the next, wrapping around, skipping excluded and reserved addresses.
    ///
    /// The free count is checked first; that both answers "exhausted" without walking a huge
    /// IPv6 range and bounds the walk by the number of reserved and excluded addresses.
    func nextFree(after lastReserved: IPAddress?, reserved: Set<IPAddress>) -> (AddressRange, IPAddress)? {
        guard hasFreeAddress(reserved: reserved) else { return nil }
        var index = 0
        var cursor = ranges[0].rangeStart
        if let last = lastReserved, let i = ranges.firstIndex(where: { $0.contains(last) }) {
            (index, cursor) = step(from: last, in: i)
        }
        let excluded = ranges.map(\.excludedAddresses)  // once, not per step of a long walk
        while true {
            if !excluded[index].contains(cursor) && !reserved.contains(cursor) { return (ranges[index], cursor) }
            (index, cursor) = step(from: cursor, in: index)
        }
    }

    /// The address after `address` in range `index`, moving to the next range at its end.
    private func step(from address: IPAddress, in index: Int) -> (Int, IPAddress) {
        if address == ranges[index].rangeEnd {
            let next = (index + 1) % ranges.count
            return (next, ranges[next].rangeStart)
        }
        return (index, address.advanced(by: 1)!)
    }
}
