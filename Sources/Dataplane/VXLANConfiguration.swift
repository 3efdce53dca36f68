import CNI
import SubnetRegistry
import NetTypes

/// What the VXLAN backend is told by the agent (network config `Backend` + node state).
package struct VXLANConfiguration: Hashable, Sendable {
    /// This node's leased subnet; its network address goes on the device as a /32.
    package var localSubnet: IPPrefix
    /// The device MAC, kept in the agent's state dir so it survives restarts (flannel's
    /// VTEP-MAC-changes-on-reboot problem: peers would hold a stale FDB entry).
    package var mac: MACAddress
    package var vni: UInt32
    package var port: UInt16
    /// Peers on a directly connected underlay network get a plain route instead of the tunnel.
    package var directRouting: Bool
    /// Device MTU; nil: the underlay's MTU minus the 50 bytes of VXLAN-over-IPv4 headers.
    package var mtu: Int?
    /// Dual-stack: this node's v6 subnet (its network address goes on `flannel-v6.<VNI>` as
    /// a /128) and that device's MAC (published as `BackendV6Data.VtepMAC`; the agent keeps
    /// it in its state dir like `mac`). Nil subnet: IPv4 only.
    package var localIPv6Subnet: IPPrefix?
    package var macV6: MACAddress?

    package init(localSubnet: IPPrefix, mac: MACAddress, vni: UInt32 = 1, port: UInt16 = 8472,
                directRouting: Bool = false, mtu: Int? = nil, localIPv6Subnet: IPPrefix? = nil, macV6: MACAddress? = nil) {
        self.localSubnet = localSubnet.network
        self.localIPv6Subnet = localIPv6Subnet?.network
        self.macV6 = macV6
        self.mac = mac
        self.vni = vni
        self.port = port
        self.directRouting = directRouting
        self.mtu = mtu
    }

    /// `flannel.<VNI>`, as flannel names it (so tooling and habits carry over).
    package var deviceName: String { "flannel.\(vni)" }

    /// Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers.
    package static let encapsulationOverhead = 50

    func deviceMTU(underlay: Underlay) -> Int { mtu ?? underlay.mtu - Self.encapsulationOverhead }

    /// The device's own address: `<subnet network>/32`.
    var deviceAddress: IPPrefix { IPPrefix(address: localSubnet.address, length: 32)! }

    /// `flannel-v6.<VNI>`, as flannel names it.
    package var ipv6DeviceName: String { "flannel-v6.\(vni)" }

    /// Outer IPv6 (40) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers.
    package static let ipv6EncapsulationOverhead = 70

    /// `mtu` when set (the same for both devices), else the underlay's minus 70.
    package func ipv6DeviceMTU(underlay: Underlay) -> Int { mtu ?? underlay.mtu - Self.ipv6EncapsulationOverhead }

    /// Why the v6 side cannot run (nil: it can, or the node is IPv4 only).
    func ipv6Problem(underlay: Underlay) -> String? {
        guard localIPv6Subnet != nil else { return nil }
        if let problem = underlay.ipv6Problem { return problem }
        return macV6 == nil ? "no MAC for \(ipv6DeviceName) was given" : nil
    }
}
