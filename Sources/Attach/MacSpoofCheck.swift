import Nftables
import CNI
import Glibc
import Netlink
import NetTypes

/// The bridge plugin's `macspoofchk`: frames entering the bridge from a container's host-side
/// veth must carry the container interface's MAC as source, others are dropped.
///
/// Works in the calling process's network namespace (the node's, where the bridge is), and
/// needs nothing from the container's, so DEL works after the container (and its veth) is
/// gone. Costs: elements go over in-process nf_tables netlink, so ADD is one batch and DEL two
/// dumps plus one batch, no process start; `nft -f` only creates or repairs the table, under
/// `NftablesLock` (exclusive, held by nft itself until it exits), which tear-down and GC take
/// shared before they list. See `MacSpoofRuleset` for the table shape.
package struct MacSpoofCheck: Sendable {
    let nft: NftCommand
    let kernel: NftablesConnection
    let lock: NftablesLock

    package init() { self.init(nft: .located(), kernel: .node, lock: .node) }

    init(nft: NftCommand, kernel: NftablesConnection, lock: NftablesLock) {
        self.nft = nft
        self.kernel = kernel
        self.lock = lock
    }

    /// Lets only `mac` in through the bridge port `port` (the host-side veth). Idempotent.
    ///
    /// One netlink batch in the common case; the first ADD in a namespace (ENOENT) costs an
    /// `nft -f`, and an element that already exists (a reused veth name whose DEL never came)
    /// a listing and an `nft -f`.
    package func setUp(network: String, containerID: String, ifname: String, port: String, mac: MACAddress) throws {
        let owner = try Self.owner(network, containerID, ifname)
        try Self.checkPort(port)
        let tableMissing: Bool
        do {
            try kernel.open().commit(NftKernelChanges.create(MacSpoofRuleset.elements(port: port, mac: mac), comment: owner.comment))
            return
        } catch let error as NetlinkError {
            tableMissing = error.errno == ENOENT
        }
        try lock.exclusive { fd in
            // An element exists: whatever holds this port (or is left of this attachment)
            // is stale, since the veth is ours now. A missing table has nothing to list.
            let stale = tableMissing ? [] : try list(rules: false)?.entries
                .filter { $0.element.port == port || $0.comment == owner.comment }.map(\.element) ?? []
            try nft.commit(MacSpoofRuleset.fullSetUpScript(owner, port: port, mac: mac, removing: stale),
                           what: "MAC spoof check set-up for \(owner)", holding: fd)
        }
    }

    /// Removes every element owned by the attachment, found by comment — so it needs neither
    /// the veth's name nor the container namespace. A missing table or no elements is success.
    package func tearDown(network: String, containerID: String, ifname: String) throws {
        let owner = try Self.owner(network, containerID, ifname)
        try lock.shared {
            guard let owned = try list(rules: false)?.entries.owned(by: owner).map(\.element), !owned.isEmpty else { return }
            try kernel.open().commit(NftKernelChanges.delete(owned), what: "MAC spoof check tear-down for \(owner)")
        }
    }

    /// Removes the elements of `network` whose attachment is not in `valid` (CNI GC).
    /// Elements of other networks and elements with comments we did not write stay.
    package func garbageCollect(network: String, keeping valid: Set<Attachment>) throws {
        try lock.shared {
            guard let stale = try list(rules: false)?.entries.abandoned(in: network, keeping: valid), !stale.isEmpty else { return }
            try kernel.open().commit(NftKernelChanges.delete(stale), what: "MAC spoof check garbage collection for \(network)")
        }
    }

    /// CHECK: the rule is in place and the attachment owns the elements for `port` and `mac`.
    /// Without `port` (a prevResult that names no host veth) any guarded port will do.
    package func verify(network: String, containerID: String, ifname: String, port: String?, mac: MACAddress) throws {
        let owner = try Self.owner(network, containerID, ifname)
        guard let listing = try list() else {
            throw PluginError(.failed, "MAC spoof check for \(owner) missing", details: "no table \(MacSpoofRuleset.table)")
        }
        guard listing.ruleCount >= 1 else {
            throw PluginError(.failed, "MAC spoof check for \(owner) missing", details: "chain \(MacSpoofRuleset.chain) has no rule")
        }
        let owned = Set(listing.entries.owned(by: owner).map(\.element))
        let ports = port.map { [$0] } ?? owned.map(\.port)
        guard !ports.contains(where: { MacSpoofRuleset.elements(port: $0, mac: mac).allSatisfy(owned.contains) }) else { return }
        throw PluginError(.failed, "MAC spoof check for \(owner) incomplete",
                          details: "expected guarded { \(port ?? "<host veth>") } and allowed { \(port ?? "<host veth>") . \(mac) }, found "
                              + (owned.isEmpty ? "none" : owned.map { "\($0.set) { \($0.key) }" }.sorted().joined(separator: ", ")))
    }

    /// The table's current contents, or nil when there is no table (nothing was set up).
    /// `rules: false` skips the rule dump that only CHECK needs.
    func list(rules: Bool = true) throws -> MacSpoofListing? {
        do {
            return try MacSpoofListing.read(from: kernel.open(), rules: rules)
        } catch let error as NetlinkError {
            throw PluginError(.failed, "cannot list \(MacSpoofRuleset.table)", details: error.description)
        }
    }

    private static func owner(_ network: String, _ containerID: String, _ ifname: String) throws -> NftElementOwner {
        try NftElementOwner(network: network, containerID: containerID, ifname: ifname, for: "the MAC spoof check")
    }

    /// The port name goes between quotes in the script.
    private static func checkPort(_ port: String) throws {
        guard NftElementOwner.isSafe(port), port.utf8.count < 16 else {
            throw PluginError(.failed, "cannot guard bridge port \"\(port)\" against MAC spoofing",
                              details: "not an interface name made of letters, digits, '.', '_' and '-'")
        }
    }
}
