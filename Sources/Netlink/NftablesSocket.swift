import CMnl

/// The NETLINK_NETFILTER socket for nf_tables set elements: the per-container changes that
/// used to cost an `nft` process start (3–6 ms) each, done in-process instead.
///
/// A typed face over the shared `NetlinkSocket` core (sequence numbers, acks, dump retries).
/// Tables, chains, sets and rules are still made by `nft -f`: only elements go through here.
/// Like `RouteSocket`, it belongs to the namespace of the thread that opened it.
///
/// Keep one open for the process's life: when an nfnetlink socket closes, the kernel first
/// finishes the transactions it committed, which after a deletion means waiting for an RCU
/// grace period (12–20 ms measured with nft). A socket closed at exit, after other slow work
/// (the veth deletion) has let that period pass, costs nothing.
package final class NftablesSocket: @unchecked Sendable {
    let core: NetlinkSocket

    /// Opens the socket in the calling thread's network namespace.
    package init() throws(NetlinkError) {
        core = try NetlinkSocket(protocol: NETLINK_NETFILTER, name: "netfilter")
    }

    /// Applies `changes` (element requests) as one nf_tables transaction: all or nothing.
    /// Throws the first refusal — ENOENT for a missing table or set, EEXIST for an element
    /// that `create` found.
    ///
    /// A list too large for one datagram (only GC of thousands of elements gets there) goes
    /// out as several transactions; earlier ones stay applied when a later one fails.
    package func commit(_ changes: [NetlinkRequest]) throws(NetlinkError) {
        for chunk in NetlinkSocket.datagramSizedChunks(changes) {
            let replies = try core.exchange(Self.transaction(chunk))
            if let failure = replies.lazy.compactMap(\.failure).first { throw failure }
        }
    }

    /// `changes` between batch begin and end: the datagram of one transaction.
    static func transaction(_ changes: [NetlinkRequest]) -> [NetlinkRequest] {
        [.batchMarker(begin: true)] + changes + [.batchMarker(begin: false)]
    }

    /// Every element of `set`, with comments. Throws ENOENT when the table or set is missing.
    package func elements(of set: NftablesSet) throws(NetlinkError) -> [NftablesElement] {
        try core.dump(.dumpSetElements(in: set)).flatMap(NftablesElement.elements(in:))
    }

    /// How many rules `chain` holds. Throws ENOENT when the table or chain is missing.
    package func ruleCount(family: NftablesFamily, table: String, chain: String) throws(NetlinkError) -> Int {
        try core.dump(.dumpRules(family: family, table: table, chain: chain)).count
    }
}
