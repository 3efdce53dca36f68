import CNI
import NetTypes
import Testing

/// Packet counters in a testbed node, to tell which way traffic really went.
extension DataplaneTestbed {
    /// Starts counting VXLAN packets (UDP 8472) of outer `family` that arrive on `node`'s
    /// eth0; returns what reads the count so far.
    func countVXLANArrivals(at node: Node, family: IPAddress.Family) throws -> () throws -> Int {
        let nft = try #require(Self.nft)
        let table = family == .v4 ? "ip" : "ip6"
        try inside(node, [nft, "-f", "-"], stdin: """
            add table \(table) dpt
            add chain \(table) dpt in { type filter hook input priority 0; }
            add rule \(table) dpt in iifname "eth0" udp dport 8472 counter
            """)
        return { [self] in
            let counters = try self.inside(node, [nft, "list", "chain", table, "dpt", "in"])
            return counters.split(separator: " ").drop { $0 != "packets" }.dropFirst().first.flatMap { Int($0) } ?? 0
        }
    }
}
