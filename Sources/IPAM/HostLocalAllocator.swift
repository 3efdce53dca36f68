import CNI
import NetTypes

/// host-local IPAM for one network: hands out, looks up and releases addresses in the
/// on-disk store, each operation under the store's flock so concurrent plugin processes
/// (and the reference plugin sharing the directory) never hand out one address twice.
package struct HostLocalAllocator: Sendable {
    package let config: HostLocalConfig
    var store: HostLocalStore

    package init(config: HostLocalConfig) {
        self.config = config
        self.store = HostLocalStore(dataDir: config.dataDir, network: config.networkName,
                                    sync: config.syncReservations)
    }

    /// The network's state directory, `<dataDir>/<network>`.
    package var directory: String { store.directory }

    /// One address per range set, in set order. `requested` addresses (already merged from
    /// CNI_ARGS, args and runtimeConfig) each pick their set; the other sets go round-robin.
    ///
    /// Like the reference, an attachment that already holds an address in a set is refused
    /// ("duplicate allocation is not allowed"), but here before anything is reserved. On any
    /// failure the addresses reserved by this call are removed again.
    ///
    /// `knownNew`: the caller guarantees the attachment holds nothing yet (the bridge plugin
    /// runs IPAM only after its veth create refused an existing CNI_IFNAME), so the
    /// duplicate check, which must read every reservation file, is skipped: ADD then reads
    /// no reservation file, only one `fstatat` each to reclaim empty ones (~1.5 µs apiece).
    package func allocate(containerID: String, ifname: String, requested: [IPAddress] = [],
                         knownNew: Bool = false) throws -> [Allocation] {
        let attachment = try validated(containerID, ifname)
        let wanted = try requestedBySet(requested)
        return try store.locked {
            var reserved: Set<IPAddress>
            if knownNew {
                reserved = try store.reservedAddresses()
            } else {
                let reservations = try store.reclaimHolderless(Posix.listDirectory(store.directory))
                try refuseDuplicate(attachment, reservations)
                reserved = Set(reservations.map(\.address))
            }
            // One staged file for every set: each reservation is a link to it (see
            // StagedReservation), so none is ever visible without its holder.
            let staged = try StagedReservation(in: store, for: attachment, sync: store.sync)
            defer { staged.discard() }
            var made: [Allocation] = []
            do {
                for index in config.rangeSets.indices {
                    let allocation = try allocateOne(
                        setIndex: index, requested: wanted[index], staged: staged, reserved: &reserved)
                    made.append(allocation)
                }
                try store.syncDirectory()
            } catch {
                for allocation in made {
                    try? Posix.removeFile(store.path(allocation.address.address.description))
                }
                throw error
            }
            return made
        }
    }

    /// Releases every address `(containerID, ifname)` holds and returns them. When none is
    /// held in the current format, files naming only the container ID (written by old
    /// reference versions) are released instead, as the reference does. Repeatable.
    @discardableResult
    package func release(containerID: String, ifname: String) throws -> [IPAddress] {
        let attachment = try validated(containerID, ifname)
        return try store.locked {
            // Residue of killed writers goes too: a DEL after a killed ADD leaves nothing.
            let reservations = try store.reclaimHolderless(Posix.listDirectory(store.directory))
            var matches = reservations.filter { $0.holder == .attachment(attachment) }
            if matches.isEmpty {
                matches = reservations.filter { $0.holder == .containerOnly(attachment.containerID) }
            }
            for reservation in matches { try store.remove(reservation) }
            return matches.map(\.address)
        }
    }

    /// The addresses `(containerID, ifname)` holds (old-format files of the container
    /// included), sorted. Map them with `config.allocation(for:)` for a result.
    package func addresses(containerID: String, ifname: String) throws -> [IPAddress] {
        let attachment = try validated(containerID, ifname)
        return try store.locked {
            try store.reservations().filter { $0.holder?.belongs(to: attachment) ?? false }
                .map(\.address)
        }
    }

    /// CNI GC: releases every reservation not held by one of `keeping` (an old-format file
    /// survives if any kept attachment has its container ID; an empty file never survives)
    /// and returns the released addresses. `lock` and the cursors are left alone.
    @discardableResult
    package func garbageCollect(keeping: Set<Attachment>) throws -> [IPAddress] {
        let keptContainers = Set(keeping.map(\.containerID))
        return try store.locked {
            let names = try Posix.listDirectory(store.directory)
            try store.removeTemporaries(among: names)
            let stale = try store.reservations(in: names).filter { reservation in
                switch reservation.holder {
                case .attachment(let a)?: return !keeping.contains(a)
                case .containerOnly(let id)?: return !keptContainers.contains(id)
                case nil: return reservation.isHolderless
                }
            }
            for reservation in stale { try store.remove(reservation) }
            return stale.map(\.address)
        }
    }

    /// For CNI STATUS: per range set, whether an ADD could get an address from it now.
    package func hasFreeAddress() throws -> [Bool] {
        try store.locked {
            let reserved = Set(try store.reservations().map(\.address))
            return config.rangeSets.map { $0.hasFreeAddress(reserved: reserved) }
        }
    }
}
