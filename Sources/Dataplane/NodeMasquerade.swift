import CNI
import SubnetRegistry
import Nftables
import NetTypes

/// The agent's `--ip-masq`: traffic from the cluster network to outside it is masqueraded,
/// nothing inside it is (rules: `NodeMasqueradeRuleset`).
///
/// Each call is one `nft -f -` transaction in the calling process's network namespace, so
/// the table is never seen half-written, and installing again (every resync, or after a
/// restart) replaces it instead of stacking duplicates.
package struct NodeMasquerade: Sendable {
    let nft: NftCommand

    /// `nft` defaults to the one on PATH; tests pass `ip netns exec <ns> nft`.
    package init(nft: NftCommand = .located()) {
        self.nft = nft
    }

    /// Installs (or replaces) the table for the family of `clusterNetwork`.
    package func install(clusterNetwork: IPPrefix, nodeSubnet: IPPrefix) throws {
        guard clusterNetwork.family == nodeSubnet.family else {
            throw DataplaneError("masquerade: cluster network \(clusterNetwork) and node subnet \(nodeSubnet) are of different families")
        }
        try nft.commit(NodeMasqueradeRuleset.installScript(clusterNetwork: clusterNetwork, nodeSubnet: nodeSubnet),
                       what: "installing \(NodeMasqueradeRuleset.table(clusterNetwork.family))")
    }

    /// Removes the tables (IPv4 and IPv6); nothing installed is success.
    package func remove() throws {
        try nft.commit(NodeMasqueradeRuleset.removeScript, what: "removing \(NodeMasqueradeRuleset.name)")
    }

    /// Removes the table of `family` only (a node that went back to IPv4-only drops its IPv6
    /// table and keeps the IPv4 one); nothing installed is success.
    package func remove(family: IPAddress.Family) throws {
        try nft.commit(NodeMasqueradeRuleset.removeFamilyScript(family), what: "removing \(NodeMasqueradeRuleset.table(family))")
    }

    /// Whether the table of `family` exists (for `/readyz`).
    package func isInstalled(family: IPAddress.Family = .v4) throws -> Bool {
        try nft.listTable(family: NodeMasqueradeRuleset.family(family), name: NodeMasqueradeRuleset.name) != nil
    }
}
