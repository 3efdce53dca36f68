import CNI
import NetTypes
import Testing

@testable import IPAM

@Suite struct AllocatorTests {
    /// /29: network .0, gateway .1, hosts .2-.6, broadcast .7.
    let small = #""ranges":[[{"subnet":"10.9.0.0/29"}]]"#

    func addresses(_ a: HostLocalAllocator, _ ids: [String]) throws -> [String] {
        try ids.map { try a.allocate(containerID: $0, ifname: "eth0")[0].address.description }
    }

    @Test func handsOutInOrderSkippingNetworkAndGateway() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            let first = try a.allocate(containerID: "c1", ifname: "eth0")
            #expect(first == [Allocation(address: prefix("10.9.0.2/29"), gateway: ip("10.9.0.1"), rangeSetIndex: 0)])
            #expect(try addresses(a, ["c2", "c3", "c4", "c5"]) == ["10.9.0.3/29", "10.9.0.4/29", "10.9.0.5/29", "10.9.0.6/29"])
        }
    }

    @Test func exhaustionIsAFailureNamingTheSet() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            _ = try addresses(a, ["c1", "c2", "c3", "c4", "c5"])
            let error = thrownError { _ = try a.allocate(containerID: "c6", ifname: "eth0") }
            #expect(error?.kind == .failed)
            #expect(error?.message == "no free IP address in range set 0 (10.9.0.1-10.9.0.6)")
        }
    }

    /// The reference's round-robin: after a release the next ADD continues after the last
    /// address handed out and wraps, rather than reusing the freed one at once.
    @Test func roundRobinWrapsAround() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            _ = try addresses(a, ["c1", "c2", "c3", "c4"])  // .2-.5
            try a.release(containerID: "c2", ifname: "eth0")  // frees .3
            #expect(try addresses(a, ["c5"]) == ["10.9.0.6/29"])
            #expect(try addresses(a, ["c6"]) == ["10.9.0.3/29"])  // wrapped past .1 and .2
        }
    }

    @Test func cursorOutsideTheSetRestartsAtRangeStart() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            try seed(a, ["last_reserved_ip.0": "192.168.0.1"])
            #expect(try addresses(a, ["c1"]) == ["10.9.0.2/29"])
        }
    }

    @Test func walksAcrossRangesOfASet() throws {
        try withTempDir { dir in
            let a = try allocator(
                #""ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"10.1.0.253"},{"subnet":"10.2.0.0/24","rangeEnd":"10.2.0.2"}]]"#,
                dataDir: dir)
            // 10.2.0.1 is that range's default gateway.
            #expect(try addresses(a, ["c1", "c2", "c3"]) == ["10.1.0.253/24", "10.1.0.254/24", "10.2.0.2/24"])
            try a.release(containerID: "c1", ifname: "eth0")
            #expect(try addresses(a, ["c4"]) == ["10.1.0.253/24"])
        }
    }

    @Test func explicitRangeStartAtNetworkAddressStillSkipsIt() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/30","rangeStart":"10.9.0.0","rangeEnd":"10.9.0.3","gateway":"10.9.0.1"}]]"#, dataDir: dir)
            #expect(try addresses(a, ["c1"]) == ["10.9.0.2/30"])
            #expect(thrownError { _ = try a.allocate(containerID: "c2", ifname: "eth0") }?.kind == .failed)
        }
    }

    @Test func gatewayInsideTheRangeIsSkipped() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/29","gateway":"10.9.0.3"}]]"#, dataDir: dir)
            #expect(try addresses(a, ["c1", "c2", "c3"]) == ["10.9.0.1/29", "10.9.0.2/29", "10.9.0.4/29"])
        }
    }

    @Test func dualStackGivesOneAddressPerSet() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/29"}],[{"subnet":"fd00::/125"}]]"#, dataDir: dir)
            let got = try a.allocate(containerID: "c1", ifname: "eth0")
            #expect(got == [
                Allocation(address: prefix("10.9.0.2/29"), gateway: ip("10.9.0.1"), rangeSetIndex: 0),
                Allocation(address: prefix("fd00::2/125"), gateway: ip("fd00::1"), rangeSetIndex: 1),
            ])
        }
    }

    /// IPv6 has no broadcast: the last address of the subnet is handed out (reference too).
    @Test func v6UsesTheLastAddress() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"fd02::/64","rangeStart":"fd02::ffff:ffff:ffff:fffe"}]]"#, dataDir: dir)
            #expect(try addresses(a, ["c1", "c2"]) == ["fd02::ffff:ffff:ffff:fffe/64", "fd02::ffff:ffff:ffff:ffff/64"])
            let error = thrownError { _ = try a.allocate(containerID: "c3", ifname: "eth0") }
            #expect(error?.message == "no free IP address in range set 0 (fd02::ffff:ffff:ffff:fffe-fd02::ffff:ffff:ffff:ffff)")
        }
    }

    @Test func failureInALaterSetUndoesEarlierSets() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/24"}],[{"subnet":"10.8.0.0/30"}]]"#, dataDir: dir)
            _ = try a.allocate(containerID: "c1", ifname: "eth0")  // takes the only 10.8.0.2
            #expect(thrownError { _ = try a.allocate(containerID: "c2", ifname: "eth0") }?.kind == .failed)
            #expect(try a.addresses(containerID: "c2", ifname: "eth0").isEmpty)
            #expect(fileText(a.directory + "/10.9.0.3") == nil)
        }
    }

    @Test func duplicateAddIsRefusedWithoutSideEffects() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/24"}],[{"subnet":"fd00::/64"}]]"#, dataDir: dir)
            _ = try a.allocate(containerID: "c1", ifname: "eth0")
            let error = thrownError { _ = try a.allocate(containerID: "c1", ifname: "eth0") }
            #expect(error?.kind == .failed)
            #expect(error?.message == "10.9.0.2 has been allocated to c1, duplicate allocation is not allowed")
            #expect(try a.addresses(containerID: "c1", ifname: "eth0") == [ip("10.9.0.2"), ip("fd00::2")])
            // Another interface of the same container is a different attachment.
            #expect(try a.allocate(containerID: "c1", ifname: "eth1").map(\.address.description) == ["10.9.0.3/24", "fd00::3/64"])
        }
    }

    @Test func knownNewAttachmentSkipsTheDuplicateScanAndReleaseTakesEverything() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/24"}]]"#, dataDir: dir)
            _ = try a.allocate(containerID: "c1", ifname: "eth0")
            // A caller that vouches for a new attachment is not refused (a stale reservation
            // of the same attachment from a vanished netns), and nothing is handed out twice.
            let second = try a.allocate(containerID: "c1", ifname: "eth0", knownNew: true)
            #expect(second.map(\.address.description) == ["10.9.0.3/24"])
            let error = thrownError { _ = try a.allocate(containerID: "c2", ifname: "eth0", requested: [ip("10.9.0.2")], knownNew: true) }
            #expect(error?.message.contains("already allocated to") == true)
            #expect(error?.message.contains("c1") == true)
            // DEL releases every address the attachment holds, the stale one included.
            #expect(try a.release(containerID: "c1", ifname: "eth0").sorted() == [ip("10.9.0.2"), ip("10.9.0.3")])
        }
    }

    @Test func requestedAddressesPickTheirSets() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/24"}],[{"subnet":"fd00::/64"}]]"#, dataDir: dir)
            let got = try a.allocate(containerID: "c1", ifname: "eth0", requested: [ip("fd00::99"), ip("10.9.0.50"), ip("fd00::99")])
            #expect(got.map(\.address.description) == ["10.9.0.50/24", "fd00::99/64"])
            // Only one set requested: the other goes round-robin, after the cursor.
            let next = try a.allocate(containerID: "c2", ifname: "eth0", requested: [ip("10.9.0.7")])
            #expect(next.map(\.address.description) == ["10.9.0.7/24", "fd00::9a/64"])
            #expect(try addresses(a, ["c3"]) == ["10.9.0.8/24"])
        }
    }

    @Test func requestedAddressTakenByAnotherContainer() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            _ = try a.allocate(containerID: "c1", ifname: "eth0")
            let error = thrownError { _ = try a.allocate(containerID: "c2", ifname: "eth0", requested: [ip("10.9.0.2")]) }
            #expect(error?.kind == .failed)
            #expect(error?.message == "requested IP 10.9.0.2 already allocated to container c1 interface eth0")
        }
    }

    @Test(arguments: [
        ("10.9.0.7", "not in any range"),  // broadcast: outside the default range
        ("10.9.0.0", "not in any range"),
        ("10.10.0.1", "not in any range"),
        ("fd00::1", "not in any range"),
        ("10.9.0.1", "is the gateway of range 10.9.0.1-10.9.0.6"),
    ])
    func invalidRequests(address: String, expected: String) throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            let error = thrownError { _ = try a.allocate(containerID: "c1", ifname: "eth0", requested: [ip(address)]) }
            #expect(error?.kind == .invalidConfig)
            #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
        }
    }

    @Test func twoRequestsForOneSet() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            let error = thrownError { _ = try a.allocate(containerID: "c1", ifname: "eth0", requested: [ip("10.9.0.2"), ip("10.9.0.3")]) }
            #expect(error?.kind == .invalidConfig)
            #expect(error?.message.contains("both in range set 0") == true)
        }
    }

    @Test(arguments: ["", "../x", "a/b", "..", "a\nb"])
    func badContainerID(id: String) throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            #expect(thrownError { _ = try a.allocate(containerID: id, ifname: "eth0") }?.kind == .invalidConfig)
            #expect(thrownError { try a.release(containerID: id, ifname: "eth0") }?.kind == .invalidConfig)
            #expect(thrownError { _ = try a.addresses(containerID: id, ifname: "eth0") }?.kind == .invalidConfig)
        }
    }

    @Test func statusPerSet() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/30"}],[{"subnet":"fd00::/64"}]]"#, dataDir: dir)
            #expect(try a.hasFreeAddress() == [true, true])
            _ = try a.allocate(containerID: "c1", ifname: "eth0")
            #expect(try a.hasFreeAddress() == [false, true])
            try a.release(containerID: "c1", ifname: "eth0")
            #expect(try a.hasFreeAddress() == [true, true])
        }
    }
}
