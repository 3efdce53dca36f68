import CNI
import SubnetRegistry
import NetTypes

/// Another node, as the agent derives it from that node's registry lease: the desired state
/// the dataplane programs. The agent hands the dataplane the whole list on every resync.
package struct Peer: Hashable, Sendable, CustomStringConvertible {
    /// The node's pod subnet, host bits cleared.
    package let subnet: IPPrefix
    /// The node's underlay address: the VXLAN tunnel endpoint, or the host-gw next hop.
    package let publicIP: IPAddress
    /// The MAC of the node's VXLAN device (the lease's `BackendData.VtepMAC`); nil for host-gw.
    package let vtepMAC: MACAddress?
    /// The v6 half of a dual-stack lease (`ipv6Subnet`, `PublicIPv6`, `BackendV6Data.VtepMAC`);
    /// all nil for an IPv4-only lease. A dual-stack dataplane programs it next to the v4 half.
    package let ipv6Subnet: IPPrefix?
    package let publicIPv6: IPAddress?
    package let vtepMACv6: MACAddress?

    package init(subnet: IPPrefix, publicIP: IPAddress, vtepMAC: MACAddress? = nil,
                 ipv6Subnet: IPPrefix? = nil, publicIPv6: IPAddress? = nil, vtepMACv6: MACAddress? = nil) {
        self.subnet = subnet.network
        self.publicIP = publicIP
        self.vtepMAC = vtepMAC
        self.ipv6Subnet = ipv6Subnet?.network
        self.publicIPv6 = publicIPv6
        self.vtepMACv6 = vtepMACv6
    }

    /// The registry key of the peer's lease ("10.244.1.0-24"). It stays the same for the
    /// lease's whole life while PublicIP or VtepMAC may change (a node rebooted with a new
    /// MAC), so reports and metrics name peers by it.
    package var id: String { "\(subnet.address)-\(subnet.length)" }

    package var description: String {
        var text = "peer \(subnet) at \(publicIP)" + (vtepMAC.map { " vtep \($0)" } ?? "")
        if ipv6Subnet != nil || publicIPv6 != nil || vtepMACv6 != nil {
            text += " v6 \(ipv6Subnet.map(\.description) ?? "none") at \(publicIPv6.map(\.description) ?? "none")"
            text += vtepMACv6.map { " vtep \($0)" } ?? ""
        }
        return text
    }
}
