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
        let path = directory + "/vtep-mac"
        if let bytes = try Posix.readFileIfPresent(path),
           let mac = MACAddress(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()) {
            return mac
        }
        let mac = MACAddress.random()
        try Posix.writeAtomically(Array((mac.description + "\n").utf8), to: path)
        return mac
    }

    /// The subnet of the previous run: the state file, else FLANNEL_SUBNET of `subnetFile`.
    func previousSubnet(subnetFile: String) -> IPPrefix? {
        if let bytes = try? Posix.readFileIfPresent(directory + "/lease"),
           let p = IPPrefix(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()) {
            return p.network
        }
        return (try? SubnetEnv.read(from: subnetFile))?.leasedSubnet
    }

    func recordLease(_ subnet: IPPrefix) throws {
        try Posix.writeAtomically(Array((subnet.description + "\n").utf8), to: directory + "/lease")
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
