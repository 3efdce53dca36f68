import CNI
import NetTypes

/// IP masquerade for container addresses (the bridge plugin's `ipMasq`), on nftables.
///
/// Works in the calling process's network namespace (the node's, where the plugin runs), and
/// needs nothing from the container's namespace, so DEL works after the container is gone.
/// Costs: ADD is usually one nft exec; DEL, GC and CHECK are one listing plus at most one
/// delete.
/// See `MasqueradeRuleset` for the table shape.
public struct Masquerade: Sendable {
    let nft: NftCommand

    public init() { self.init(nft: .located()) }

    init(nft: NftCommand) { self.nft = nft }

    /// Masquerades traffic from each of `addresses` (interface address with its IPAM subnet)
    /// except to that subnet and to multicast. Idempotent: repeating it changes nothing.
    ///
    /// One nft exec in the common case; the first ADD in a namespace, a repeated ADD and the
    /// take-over of a crashed owner's elements cost a listing and a full transaction more.
    public func setUp(network: String, containerID: String, ifname: String, addresses: [IPPrefix]) throws {
        let owner = try MasqueradeOwner(network: network, containerID: containerID, ifname: ifname)
        guard !addresses.isEmpty else { return }
        do {
            try nft.apply(MasqueradeRuleset.quickSetUpScript(owner, addresses), what: "masquerade set-up for \(owner)")
            return
        } catch is NftFailure {
            // Missing sets or an existing element: the full transaction below handles both.
        }
        // A stale exemption pairing one of our addresses with another subnet would overlap
        // ours in the interval set (or wrongly exempt traffic); the address is ours now.
        let stale = try staleExemptions(for: addresses)
        try apply(MasqueradeRuleset.fullSetUpScript(owner, addresses, removing: stale), what: "masquerade set-up for \(owner)")
    }

    /// Removes every element owned by the attachment, found by comment — so it needs no
    /// addresses and no container namespace. A missing table or no elements is success.
    ///
    /// `addresses` (prevResult) is accepted for callers that have it but does not change what
    /// is removed: the comment is the only ownership record that survives crashes.
    public func tearDown(network: String, containerID: String, ifname: String, addresses: [IPPrefix]? = nil) throws {
        let owner = try MasqueradeOwner(network: network, containerID: containerID, ifname: ifname)
        guard let listing = try list() else { return }
        let owned = listing.entries(of: owner).map(\.element)
        guard !owned.isEmpty else { return }
        try apply(MasqueradeRuleset.deleteScript(owned), what: "masquerade tear-down for \(owner)")
    }

    /// Removes the elements of `network` whose attachment is not in `valid` (CNI GC).
    /// Elements of other networks and elements with comments we did not write stay.
    public func garbageCollect(network: String, keeping valid: Set<Attachment>) throws {
        guard let listing = try list() else { return }
        let stale = listing.entries.abandoned(in: network, keeping: valid)
        guard !stale.isEmpty else { return }
        try apply(MasqueradeRuleset.deleteScript(stale), what: "masquerade garbage collection for \(network)")
    }

    /// CHECK: the rules are in place and every element of the attachment exists.
    public func verify(network: String, containerID: String, ifname: String, addresses: [IPPrefix]) throws {
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

    // MARK: - nft

    /// The table's current contents, or nil when there is no table (nothing was set up).
    func list() throws -> MasqueradeListing? {
        guard let json = try nft.listTable(family: MasqueradeRuleset.family, name: MasqueradeRuleset.name) else { return nil }
        do {
            return try MasqueradeListing(json: json)
        } catch {
            throw PluginError(.failed, "cannot read nft's listing of \(MasqueradeRuleset.table)", details: "\(error)")
        }
    }

    private func apply(_ script: String, what: String) throws {
        try nft.commit(script, what: what)
    }

    /// Exemptions of `addresses` paired with a subnet other than the one we are adding.
    private func staleExemptions(for addresses: [IPPrefix]) throws -> [MasqueradeElement] {
        guard let listing = try list() else { return [] }
        let wanted = Set(MasqueradeRuleset.elements(for: addresses))
        let ours = Set(addresses.map(\.address))
        return listing.entries.map(\.element).filter { element in
            guard case .exemption(let address, _) = element else { return false }
            return ours.contains(address) && !wanted.contains(element)
        }
    }
}
