import NetTypes

/// A native nftables base chain on the forward hook, as `nft list chains` prints it.
struct NftForwardChain: Hashable, Sendable, CustomStringConvertible {
    /// "ip", "inet", "ip6", … (ip and inet see IPv4 traffic, ip6 and inet IPv6).
    let family: String
    /// Table and chain names as nft prints them (quoted when nft quotes them), so they can be
    /// written back into an `nft -f` script unchanged.
    let table: String
    let chain: String
    let policyDrops: Bool

    /// Whether IPv4 forwarded traffic passes through it.
    var seesIPv4: Bool { sees(.v4) }

    /// Whether forwarded traffic of `ipFamily` passes through it.
    func sees(_ ipFamily: IPAddress.Family) -> Bool {
        family == "inet" || family == (ipFamily == .v4 ? "ip" : "ip6")
    }

    /// iptables-nft's own chain: written through iptables only, never by nft.
    var isIptablesFilterForward: Bool { isIptablesFilterForward(.v4) }

    /// iptables-nft's (`ip filter FORWARD`) or ip6tables-nft's (`ip6 filter FORWARD`) chain.
    func isIptablesFilterForward(_ ipFamily: IPAddress.Family) -> Bool {
        family == (ipFamily == .v4 ? "ip" : "ip6") && table == "filter" && chain == "FORWARD"
    }

    /// The names unquoted, as separate `nft list chain` arguments take them.
    var listArguments: [String] { [family, Self.unquoted(table), Self.unquoted(chain)] }

    var description: String { "\(family) \(table) \(chain)" }

    static func unquoted(_ name: String) -> String {
        name.count >= 2 && name.hasPrefix("\"") && name.hasSuffix("\"") ? String(name.dropFirst().dropLast()) : name
    }

    /// The forward-hook base chains in `nft list chains` output; other hooks and regular
    /// chains (no `type … hook` line) are skipped.
    static func parsing(chains text: String) -> [NftForwardChain] {
        var found: [NftForwardChain] = []
        var family = "", table = "", chain = ""
        for raw in text.split(separator: "\n") {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            let tokens = words(line)
            if tokens.count >= 3, tokens[0] == "table" {
                family = String(tokens[1])
                table = String(tokens[2])
            } else if tokens.count >= 2, tokens[0] == "chain" {
                chain = String(tokens[1])
            } else if tokens.first == "type", let hook = tokens.firstIndex(of: "hook"), hook + 1 < tokens.count,
                      tokens[hook + 1] == "forward" {
                let drops = line.contains("policy drop;")
                found.append(NftForwardChain(family: family, table: table, chain: chain, policyDrops: drops))
            }
        }
        return found
    }

    /// `line` split at spaces, except inside double quotes ("my fw" is one name).
    static func words(_ line: Substring) -> [Substring] {
        var words: [Substring] = []
        var start: Substring.Index?
        var quoted = false
        for index in line.indices {
            let c = line[index]
            if c == "\"" { quoted.toggle() }
            if c == " " && !quoted {
                if let s = start { words.append(line[s..<index]); start = nil }
            } else if start == nil {
                start = index
            }
        }
        if let s = start { words.append(line[s...]) }
        return words
    }
}

/// A rule carrying our comment in a native chain, from `nft -a list chain`: its handle (what
/// `delete rule` takes) and the rule it spells (nil: ours by comment but not a form we write,
/// so it goes).
struct NftOwnedRule: Equatable, Sendable {
    let handle: Int
    let rule: ForwardRule?
    /// Which family's pass it belongs to: the rule's, or for a form we do not write, whether
    /// the statement starts with `ip6` (so an inet chain's rules are judged once, not twice).
    var isIPv6: Bool = false

    /// Our rules in `nft -a list chain` output, in chain order.
    static func parsing(chain text: String) -> [NftOwnedRule] {
        let marker = " comment \"\(ForwardRule.nftComment)\""
        var found: [NftOwnedRule] = []
        for raw in text.split(separator: "\n") {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            guard let comment = line.firstRange(of: marker), let handleMark = line.firstRange(of: "# handle "),
                  let handle = Int(line[handleMark.upperBound...].prefix { $0.isNumber }) else { continue }
            // Only the comment itself may sit between the statement and the handle.
            guard line[comment.upperBound..<handleMark.lowerBound].allSatisfy({ $0 == " " }) else { continue }
            let statement = line[..<comment.lowerBound]
            let rule = ForwardRule.parsingNftStatement(statement)
            found.append(NftOwnedRule(handle: handle, rule: rule, isIPv6: rule?.isIPv6 ?? statement.hasPrefix("ip6 ")))
        }
        return found
    }
}
