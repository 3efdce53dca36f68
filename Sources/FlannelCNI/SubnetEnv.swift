#if canImport(Glibc)
import Glibc
#endif
import CNI
import NetTypes

/// flannel's `subnet.env`: how the agent tells the CNI face (and a restarted agent) which
/// subnet this node holds. Written atomically once the node is ready, so a reader sees the
/// old file or the new one, never a partial one.
///
///     FLANNEL_NETWORK=10.244.0.0/16
///     FLANNEL_SUBNET=10.244.1.1/24        (first usable address / subnet length)
///     FLANNEL_MTU=1450
///     FLANNEL_IPMASQ=true
package struct SubnetEnv: Sendable, Equatable {
    package var network: IPPrefix?
    /// The node's subnet with the address set to its first usable IP (the bridge gateway).
    package var subnet: IPPrefix?
    package var ipv6Network: IPPrefix?
    package var ipv6Subnet: IPPrefix?
    package var mtu: Int
    package var ipMasq: Bool

    package init(network: IPPrefix?, subnet: IPPrefix?, ipv6Network: IPPrefix? = nil, ipv6Subnet: IPPrefix? = nil,
                mtu: Int, ipMasq: Bool) {
        self.network = network
        self.subnet = subnet
        self.ipv6Network = ipv6Network
        self.ipv6Subnet = ipv6Subnet
        self.mtu = mtu
        self.ipMasq = ipMasq
    }

    /// The file for a leased subnet: FLANNEL_SUBNET is the subnet's first usable address.
    package init(network: IPPrefix, lease: IPPrefix, ipv6Network: IPPrefix? = nil, ipv6Lease: IPPrefix? = nil,
                mtu: Int, ipMasq: Bool) {
        func firstUsable(_ p: IPPrefix) -> IPPrefix {
            IPPrefix(address: p.network.address.advanced(by: 1) ?? p.network.address, length: p.length)!
        }
        self.init(network: network.network, subnet: firstUsable(lease),
                  ipv6Network: ipv6Network?.network, ipv6Subnet: ipv6Lease.map(firstUsable), mtu: mtu, ipMasq: ipMasq)
    }

    /// The leased subnet (network form of FLANNEL_SUBNET), what a restart asks to reuse.
    package var leasedSubnet: IPPrefix? { subnet?.network }
    package var leasedIPv6Subnet: IPPrefix? { ipv6Subnet?.network }

    /// flannel's text, in flannel's line order.
    package func rendered() -> String {
        var out = ""
        if let network, let subnet { out += "FLANNEL_NETWORK=\(network)\nFLANNEL_SUBNET=\(subnet)\n" }
        if let ipv6Network, let ipv6Subnet {
            out += "FLANNEL_IPV6_NETWORK=\(ipv6Network)\nFLANNEL_IPV6_SUBNET=\(ipv6Subnet)\n"
        }
        return out + "FLANNEL_MTU=\(mtu)\nFLANNEL_IPMASQ=\(ipMasq)\n"
    }

    /// Writes `path` atomically: temp file in the same directory, fsync, rename (parent
    /// directories are created).
    package func write(to path: String) throws {
        try Posix.makeDirectories(Posix.directory(of: path), mode: 0o755)
        try Posix.writeAtomically(Array(rendered().utf8), to: path)
    }

    /// The largest subnet.env read: flannel's file is under 256 bytes; 64 KiB is the most
    /// flannel's own reader (a `bufio.Scanner`) takes on one line.
    static let sizeLimit = 64 * 1024

    /// The largest FLANNEL_MTU: the bridge and the veth take it as a link MTU, and no Linux
    /// device accepts more than 65535 (ETH_MAX_MTU).
    static let maximumMTU = 65535

    /// Reads `path`. A missing file is `.tryAgainLater` (the agent has not finished yet).
    ///
    /// The path is the operator's (`subnetFile`): a symlink is followed, as flannel's
    /// `os.Open` does, but only to a regular file, opened without blocking and read up to
    /// `sizeLimit`; a FIFO (which hangs flannel's ADD), a socket, a device or a larger file
    /// is an `.io` error naming it.
    package static func read(from path: String) throws(PluginError) -> SubnetEnv {
        guard let bytes = try Posix.readRegularFile(path, limit: sizeLimit, followSymlink: true) else {
            throw PluginError(.tryAgainLater,
                "subnet file \(path) does not exist; is the node daemon (swift-flanneld) running?")
        }
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Parses `KEY=value` lines; blank lines, `#` comments, `export ` prefixes and quotes
    /// are tolerated, unknown keys ignored.
    package static func parse(_ text: String, path: String) throws(PluginError) -> SubnetEnv {
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            var line = raw.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7).trimmingSpaces }
            guard let eq = line.firstIndex(of: "=") else {
                throw PluginError(.decode, "subnet file \(path): line \"\(raw)\" is not KEY=value")
            }
            var value = line[line.index(after: eq)...].trimmingSpaces
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = value.dropFirst().dropLast()
            }
            values[String(line[..<eq].trimmingSpaces)] = String(value)
        }
        func prefix(_ key: String) throws(PluginError) -> IPPrefix? {
            guard let text = values[key] else { return nil }
            guard let p = IPPrefix(text) else {
                throw PluginError(.decode, "subnet file \(path): \(key)=\(text) is not a CIDR")
            }
            return p
        }
        let env = SubnetEnv(network: try prefix("FLANNEL_NETWORK"), subnet: try prefix("FLANNEL_SUBNET"),
                            ipv6Network: try prefix("FLANNEL_IPV6_NETWORK"), ipv6Subnet: try prefix("FLANNEL_IPV6_SUBNET"),
                            mtu: 0, ipMasq: false)
        guard env.subnet != nil || env.ipv6Subnet != nil else {
            throw PluginError(.decode, "subnet file \(path) has neither FLANNEL_SUBNET nor FLANNEL_IPV6_SUBNET")
        }
        guard (env.subnet == nil) == (env.network == nil), (env.ipv6Subnet == nil) == (env.ipv6Network == nil) else {
            throw PluginError(.decode, "subnet file \(path): each *_SUBNET needs its *_NETWORK and vice versa")
        }
        // Decimal digits only, as flannel's `strconv.ParseUint(_, 10, 32)` takes it. flannel
        // then lets the kernel refuse a bad value later; here it is refused before anything
        // is set up, as a number out of range (code 7).
        guard let mtuText = values["FLANNEL_MTU"], !mtuText.isEmpty,
              mtuText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw PluginError(.decode, "subnet file \(path): FLANNEL_MTU is missing or not a decimal number")
        }
        guard let mtu = Int(mtuText), (1...Self.maximumMTU).contains(mtu) else {
            throw PluginError(.invalidConfig, "subnet file \(path): FLANNEL_MTU=\(mtuText) is out of range (1...\(Self.maximumMTU))")
        }
        var result = env
        result.mtu = mtu
        switch values["FLANNEL_IPMASQ"]?.lowercased() {
        case nil, "false": result.ipMasq = false
        case "true": result.ipMasq = true
        case let other?:
            throw PluginError(.decode, "subnet file \(path): FLANNEL_IPMASQ=\(other) is not true or false")
        }
        return result
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        let s = Substring(self)
        guard let first = s.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = s.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return s[first...last]
    }
}
