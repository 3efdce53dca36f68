import Nftables
import CNI
import Netlink
import NetTypes

/// IP masquerade for container addresses (the bridge plugin's `ipMasq`), on nftables.
///
/// Works in the calling process's network namespace (the node's, where the plugin runs), and
/// needs nothing from the container's namespace, so DEL works after the container is gone.
/// Costs: per-container elements go over in-process nf_tables netlink (`NftablesSocket`), so
/// ADD is one batch and DEL one dump per set plus one batch, with no process start; `nft -f`
/// only runs when the table must be created or repaired, under `NftablesLock` (exclusive, held
/// by nft itself until it exits), which tear-down and GC take shared before they list.
/// See `MasqueradeRuleset` for the table shape.
package struct Masquerade: Sendable {
    let nft: NftCommand
    let kernel: NftablesConnection
    let lock: NftablesLock

    package init() { self.init(nft: .located(), kernel: .node, lock: .node) }

    init(nft: NftCommand, kernel: NftablesConnection, lock: NftablesLock) {
        self.nft = nft
        self.kernel = kernel
        self.lock = lock
    }

    /// Masquerades traffic from each of `addresses` (interface address with its IPAM subnet)
    /// except to that subnet and to multicast. Idempotent: repeating it changes nothing.
    ///
    /// One netlink batch in the common case (`create element`, no rule touched); the first ADD
    /// in a namespace (ENOENT: no table or set), a repeated ADD and the take-over of a crashed
    /// owner's elements (EEXIST) cost a listing and a full `nft -f` transaction more.
    package func setUp(network: String, containerID: String, ifname: String, addresses: [IPPrefix]) throws {
        let owner = try MasqueradeOwner(network: network, containerID: containerID, ifname: ifname)
        guard !addresses.isEmpty else { return }
        do {
            try kernel.open().commit(NftKernelChanges.create(MasqueradeRuleset.elements(for: addresses), comment: owner.comment))
            return
        } catch is NetlinkError {
            // Missing sets or an existing element: the full transaction below handles both.
        }
        // A stale exemption pairing one of our addresses with another subnet would overlap
        // ours in the interval set (or wrongly exempt traffic); the address is ours now.
        try lock.exclusive { fd in
            let stale = try staleExemptions(for: addresses)
            try nft.commit(MasqueradeRuleset.fullSetUpScript(owner, addresses, removing: stale),
                           what: "masquerade set-up for \(owner)", holding: fd)
        }
    }

    /// Removes every element owned by the attachment, found by comment — so it needs no
    /// addresses and no container namespace. A missing table or no elements is success.
    ///
    /// `addresses` (prevResult) is accepted for callers that have it but does not change what
    /// is removed: the comment is the only ownership record that survives crashes.
    package func tearDown(network: String, containerID: String, ifname: String, addresses: [IPPrefix]? = nil) throws {
        let owner = try MasqueradeOwner(network: network, containerID: containerID, ifname: ifname)
        try lock.shared {
            guard let listing = try list(rules: false) else { return }
            let owned = listing.entries(of: owner).map(\.element)
            guard !owned.isEmpty else { return }
            try kernel.open().commit(NftKernelChanges.delete(owned), what: "masquerade tear-down for \(owner)")
        }
    }

    /// Removes the elements of `network` whose attachment is not in `valid` (CNI GC).
    /// Elements of other networks and elements with comments we did not write stay.
    package func garbageCollect(network: String, keeping valid: Set<Attachment>) throws {
        try lock.shared {
            guard let listing = try list(rules: false) else { return }
            let stale = listing.entries.abandoned(in: network, keeping: valid)
            guard !stale.isEmpty else { return }
            try kernel.open().commit(NftKernelChanges.delete(stale), what: "masquerade garbage collection for \(network)")
        }
    }

    /// CHECK: the rules are in place and every element of the attachment exists.
    package func verify(network: String, containerID: String, ifname: String, addresses: [IPPrefix]) throws {
        let owner = try MasqueradeOwner(network: network, containerID: containerID, ifname: ifname)
        guard let listing = try list() else {
            throw PluginError(.failed, "masquerade for \(owner) missing", details: "no table \(MasqueradeRuleset.table)")
        }
        guard listing.ruleCount >= MasqueradeRuleset.rules.count else {
            throw PluginError(.failed, "masquerade for \(owner) missing",
                              details: "chain \(MasqueradeRuleset.chain) has \(listing.ruleCount) rules")
        }
        let present = Set(listing.entries(of: owner).map(\.element))
        let missing = MasqueradeRuleset.elements(for: addresses).filter { !present.contains($0) }
        guard missing.isEmpty else {
            throw PluginError(.failed, "masquerade for \(owner) incomplete",
                              details: "missing " + missing.map { "\($0.set) { \($0.key) }" }.joined(separator: ", "))
        }
    }

    // MARK: - kernel and nft

    /// The table's current contents, or nil when there is no table (nothing was set up).
    /// `rules: false` skips the rule dump that only CHECK needs.
    func list(rules: Bool = true) throws -> MasqueradeListing? {
        do {
            return try MasqueradeListing.read(from: kernel.open(), rules: rules)
        } catch let error as NetlinkError {
            throw PluginError(.failed, "cannot list \(MasqueradeRuleset.table)", details: error.description)
        }
    }

    /// Exemptions of `addresses` paired with a subnet other than the one we are adding.
    private func staleExemptions(for addresses: [IPPrefix]) throws -> [MasqueradeElement] {
        guard let listing = try list(rules: false) else { return [] }
        let wanted = Set(MasqueradeRuleset.elements(for: addresses))
        let ours = Set(addresses.map(\.address))
        return listing.entries.map(\.element).filter { element in
            guard case .exemption(let address, _) = element else { return false }
            return ours.contains(address) && !wanted.contains(element)
        }
    }
}
