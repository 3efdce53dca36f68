import CNI
import NetTypes

/// The pieces of `allocate`: argument checks before the lock, one set's reservation inside it.
extension HostLocalAllocator {
    func validated(_ containerID: String, _ ifname: String) throws -> Attachment {
        try PathComponent.validate(containerID, as: "container ID")
        try PathComponent.validate(ifname, as: "interface name", specName: false)
        return Attachment(containerID: containerID, ifname: ifname)
    }

    /// Which set each requested address is for. Each must be allocatable in exactly one
    /// range, and a set can honour only one request (it yields one address per ADD).
    func requestedBySet(_ requested: [IPAddress]) throws -> [Int: IPAddress] {
        var bySet: [Int: IPAddress] = [:]
        for address in requested {
            guard let (index, range) = config.locate(address) else {
                throw PluginError(
                    .invalidConfig,
                    "requested IP \(address) is not in any range (range sets: \(config.rangeSets.map { "[\($0)]" }.joined(separator: " ")))")
            }
            if address == range.gateway {
                throw PluginError(.invalidConfig, "requested IP \(address) is the gateway of range \(range)")
            }
            guard range.isAllocatable(address) else {
                throw PluginError(.invalidConfig, "requested IP \(address) is the network or broadcast address of \(range.subnet)")
            }
            if let other = bySet[index], other != address {
                throw PluginError(.invalidConfig, "requested IPs \(other) and \(address) are both in range set \(index), which yields one address")
            }
            bySet[index] = address
        }
        return bySet
    }

    /// The reference refuses an ADD for an attachment that already holds an address in a
    /// set; checking all sets first means a refused ADD changes nothing.
    func refuseDuplicate(_ attachment: Attachment, _ reservations: [Reservation]) throws {
        for reservation in reservations where reservation.holder?.belongs(to: attachment) ?? false {
            if config.locate(reservation.address) != nil {
                throw PluginError(
                    .failed,
                    "\(reservation.address) has been allocated to \(attachment.containerID), duplicate allocation is not allowed")
            }
        }
    }

    /// Reserves the requested address of set `setIndex`, or the next free one round-robin,
    /// and moves the set's cursor to it. `reserved` gains the new address.
    func allocateOne(
        setIndex: Int, requested: IPAddress?, staged: StagedReservation, reserved: inout Set<IPAddress>
    ) throws -> Allocation {
        let set = config.rangeSets[setIndex]
        var chosen: (AddressRange, IPAddress)
        if let address = requested {
            guard let range = set.range(containing: address) else {
                throw PluginError(.invalidConfig, "requested IP \(address) is not in range set \(setIndex)")
            }
            guard !reserved.contains(address), try staged.place(at: address) else {
                throw PluginError(
                    .failed, "requested IP \(address) already allocated to \(store.holderDescription(of: address) ?? "another container")")
            }
            chosen = (range, address)
        } else {
            while true {
                guard let next = set.nextFree(after: store.lastReserved(setIndex: setIndex), reserved: reserved) else {
                    throw PluginError(.failed, "no free IP address in range set \(setIndex) (\(set))")
                }
                // Another writer that ignores the lock may have taken it: skip it and go on.
                if try staged.place(at: next.1) {
                    chosen = next
                    break
                }
                reserved.insert(next.1)
            }
        }
        reserved.insert(chosen.1)
        do {
            try store.recordLastReserved(chosen.1, setIndex: setIndex)
        } catch {
            try? Posix.removeFile(store.path(chosen.1.description))
            throw error
        }
        return Allocation(range: chosen.0, address: chosen.1, rangeSetIndex: setIndex)
    }
}
