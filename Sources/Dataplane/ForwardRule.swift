/// One of the two accept rules, for traffic from or to the cluster network, in the two
/// spellings it has: iptables' (flanneld's exact rule, so a node that ran flanneld keeps its
/// rules instead of getting copies) and native nftables' (in a chain of the operator's own).
struct ForwardRule: Hashable, Sendable, CustomStringConvertible {
    enum Direction: Hashable, Sendable { case from, to }

    let direction: Direction
    /// The network as the tools print it back ("10.244.0.0/16", "fc00::/48").
    let network: String

    /// Whether this is an IPv6 rule (ip6tables, nft `ip6` statements).
    var isIPv6: Bool { network.contains(":") }

    /// flanneld's comment; how its rules and ours are found in iptables.
    static let iptablesComment = "flanneld forward"
    /// Our comment in native nftables chains (flanneld never writes there): how we find,
    /// and remove, exactly our rules in a chain that belongs to the operator.
    static let nftComment = "swift-cni forward"

    /// The pair for `network` (already masked).
    static func pair(_ network: String) -> [ForwardRule] {
        [ForwardRule(direction: .from, network: network), ForwardRule(direction: .to, network: network)]
    }

    /// The rule specification after the chain name, as `iptables -A FORWARD` takes it.
    var iptablesSpec: [String] {
        [direction == .from ? "-s" : "-d", network, "-m", "comment", "--comment", Self.iptablesComment, "-j", "ACCEPT"]
    }

    /// The line `iptables-save` (or `ip6tables-save`) prints for it.
    var iptablesSaveLine: String {
        "-A FORWARD \(direction == .from ? "-s" : "-d") \(network) -m comment --comment \"\(Self.iptablesComment)\" -j ACCEPT"
    }

    /// The statement without the comment, as `nft list` prints it back (`ip` or `ip6`).
    var nftStatement: String {
        "\(isIPv6 ? "ip6" : "ip") \(direction == .from ? "saddr" : "daddr") \(network) accept"
    }

    /// The rule `iptables-save` line `line` spells, or nil when it is not exactly our form
    /// (another rule, or flanneld's newer `-j FLANNEL-FWD` jump with the same comment).
    static func parsingIptablesSave(_ line: Substring) -> ForwardRule? {
        // Tokens up to the network only: the quoted comment holds a space.
        let tokens = line.split(separator: " ", maxSplits: 4)
        guard tokens.count == 5, tokens[0] == "-A", tokens[1] == "FORWARD", tokens[2] == "-s" || tokens[2] == "-d" else {
            return nil
        }
        let rule = ForwardRule(direction: tokens[2] == "-s" ? .from : .to, network: String(tokens[3]))
        return rule.iptablesSaveLine == line ? rule : nil
    }

    /// The rule an nft statement (comment cut off) spells, or nil for any other statement.
    static func parsingNftStatement(_ statement: Substring) -> ForwardRule? {
        let tokens = statement.split(separator: " ")
        guard tokens.count == 4, tokens[0] == "ip" || tokens[0] == "ip6", tokens[1] == "saddr" || tokens[1] == "daddr",
              tokens[3] == "accept" else {
            return nil
        }
        let rule = ForwardRule(direction: tokens[1] == "saddr" ? .from : .to, network: String(tokens[2]))
        return rule.isIPv6 == (tokens[0] == "ip6") ? rule : nil
    }

    var description: String { "accept \(direction == .from ? "from" : "to") \(network)" }
}
