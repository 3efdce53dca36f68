import NetTypes
import Netlink
import Testing
@testable import Dataplane

/// Which IPv6 address of the underlay a dual-stack node uses and publishes.
struct DualStackUnderlayTests {
    static let v4 = Underlay(index: 2, name: "eth0", mtu: 1500, localAddress: IPAddress("192.168.50.11")!,
                             publicIP: IPAddress("192.168.50.11")!)

    static func address(_ text: String, index: Int32 = 2, scope: Scope = .universe,
                        flags: InterfaceAddress.Flags = []) -> InterfaceAddress {
        InterfaceAddress(index: index, prefix: IPPrefix(text)!, scope: scope, flags: flags)
    }

    @Test func takesTheFirstUsableGlobalAddressOfTheInterface() {
        let addresses = [
            Self.address("fe80::1/64", scope: .link),
            Self.address("fd00:99::1/64", index: 3),
            Self.address("fd00:50::9/64", flags: .tentative),
            Self.address("fd00:50::11/64"),
            Self.address("fd00:50::12/64"),
        ]
        let underlay = Self.v4.withIPv6(publicIPv6: nil, addresses: addresses)
        #expect(underlay.localIPv6 == IPAddress("fd00:50::11") && underlay.publicIPv6 == IPAddress("fd00:50::11"))
        #expect(underlay.ipv6Problem == nil)
        #expect(underlay.description == "eth0 (index 2, mtu 1500, address 192.168.50.11, address fd00:50::11)")

        // --public-ipv6 on the interface is also the local address; elsewhere (NAT) only published.
        let chosen = Self.v4.withIPv6(publicIPv6: IPAddress("fd00:50::12"), addresses: addresses)
        #expect(chosen.localIPv6 == IPAddress("fd00:50::12") && chosen.publicIPv6 == IPAddress("fd00:50::12"))
        let natted = Self.v4.withIPv6(publicIPv6: IPAddress("2001:db8::7"), addresses: addresses)
        #expect(natted.localIPv6 == IPAddress("fd00:50::11") && natted.publicIPv6 == IPAddress("2001:db8::7"))
        #expect(Underlay.connectedIPv6Networks(of: 2, in: addresses) == [IPPrefix("fd00:50::/64")!, IPPrefix("fd00:50::/64")!,
                                                                          IPPrefix("fd00:50::/64")!])
    }

    @Test func linkLocalOnlyIsAProblem() {
        let underlay = Self.v4.withIPv6(publicIPv6: IPAddress("2001:db8::7"), addresses: [Self.address("fe80::1/64", scope: .link)])
        #expect(underlay.localIPv6 == nil && underlay.publicIPv6 == nil)
        #expect(underlay.ipv6Problem == "eth0 has no global IPv6 address; a dual-stack node needs one (add it, or pick the interface with --iface)")
        #expect(Self.v4.description == "eth0 (index 2, mtu 1500, address 192.168.50.11)")
    }
}
