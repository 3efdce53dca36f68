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

    package init(localSubnet: IPPrefix, mac: MACAddress, vni: UInt32 = 1, port: UInt16 = 8472,
                directRouting: Bool = false, mtu: Int? = nil) {
        self.localSubnet = localSubnet.network
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
}
