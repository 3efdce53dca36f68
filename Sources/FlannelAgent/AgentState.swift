import Netlink
import FlannelCNI
import SubnetRegistry
import Dataplane
import CNI
import NetTypes

/// What the agent keeps under `--state-dir` so a restart looks the same to the rest of the
/// cluster: the VXLAN device's MAC (peers' FDB/neighbour entries stay valid) and the last
/// subnet it held (so it asks for that one again).
struct AgentState {
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        try Posix.makeDirectories(directory, mode: 0o755)
    }

    /// The stored VTEP MAC, or a new random one that is stored before it is used.
    func vtepMAC() throws -> MACAddress {
        try storedMAC(file: "vtep-mac")
    }

    /// The IPv6 VTEP's MAC (`flannel-v6.<VNI>`, BackendV6Data), kept the same way.
    func vtepMACv6() throws -> MACAddress {
        try storedMAC(file: "vtep-mac-v6")
    }

    /// A state file holds one MAC or one prefix: anything larger is not ours.
    static let fileLimit = 4096

    private func storedMAC(file: String) throws -> MACAddress {
        let path = directory + "/" + file
        if let bytes = try Posix.readRegularFile(path, limit: Self.fileLimit),
           let mac = MACAddress(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()) {
            return mac
        }
        let mac = MACAddress.random()
        try Posix.writeAtomically(Array((mac.description + "\n").utf8), to: path)
        return mac
    }

    /// The subnet of the previous run: the state file, else FLANNEL_SUBNET of `subnetFile`.
    func previousSubnet(subnetFile: String) -> IPPrefix? {
        if let bytes = try? Posix.readRegularFile(directory + "/lease", limit: Self.fileLimit),
           let p = IPPrefix(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()) {
            return p.network
        }
        return (try? SubnetEnv.read(from: subnetFile))?.leasedSubnet
    }

    /// The IPv6 subnet of the previous run: the state file, else FLANNEL_IPV6_SUBNET.
    func previousIPv6Subnet(subnetFile: String) -> IPPrefix? {
        if let bytes = try? Posix.readRegularFile(directory + "/lease-v6", limit: Self.fileLimit),
           let p = IPPrefix(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()) {
            return p.network
        }
        return (try? SubnetEnv.read(from: subnetFile))?.leasedIPv6Subnet
    }

    /// Both subnets; an IPv4-only lease leaves an empty v6 file (not "previous" any more).
    func recordLease(_ subnet: IPPrefix, ipv6: IPPrefix?) throws {
        try Posix.writeAtomically(Array((subnet.description + "\n").utf8), to: directory + "/lease")
        try Posix.writeAtomically(Array(((ipv6?.description ?? "") + "\n").utf8), to: directory + "/lease-v6")
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
