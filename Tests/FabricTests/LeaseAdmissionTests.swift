import CNI
import NetTypes
import Testing
@testable import SubnetRegistry

/// The lease admission judge: every rule, both families, the overlap winner, the own lease.
@Suite struct LeaseAdmissionTests {
    static let ownIP = "192.168.50.70"
    static let ownIPv6 = "fd50::70"

    /// Node `n`'s lease: 10.231.n.0/24 at 192.168.50.n (dual: fd00:10:231:n::/64 at fd50::n).
    static func lease(_ n: Int, ip: String? = nil, dual: Bool = false, backend: String = "vxlan",
                      mac: String? = nil, macV6: String? = nil, rank: Int64? = nil, key: String? = nil) -> SubnetLease {
        let hex = String(n, radix: 16)
        let byte = n < 16 ? "0" + hex : hex
        let vtep = JSONValue.object(["VNI": .int(1), "VtepMAC": .string(mac ?? "02:00:00:00:00:\(byte)")])
        let vtep6 = JSONValue.object(["VNI": .int(1), "VtepMAC": .string(macV6 ?? "02:00:00:00:06:\(byte)")])
        return SubnetLease(subnet: IPPrefix("10.231.\(n).0/24")!,
                           ipv6Subnet: dual ? IPPrefix("fd00:10:231:\(hex)::/64")! : nil,
                           publicIP: IPAddress(ip ?? "192.168.50.\(n)")!,
                           publicIPv6: dual ? IPAddress("fd50::\(hex)")! : nil,
                           backendType: backend, backendData: backend == "vxlan" ? vtep : nil,
                           backendV6Data: backend == "vxlan" && dual ? vtep6 : nil,
                           storedKey: key, creationRank: rank)
    }

    static func admission(dual: Bool = false, backend: String = "vxlan", ownRank: Int64? = 50) -> LeaseAdmission {
        var own = lease(70, ip: ownIP, dual: dual, backend: backend, rank: ownRank)
        if dual { own.publicIPv6 = IPAddress(ownIPv6)! }
        return LeaseAdmission(network: IPPrefix("10.231.0.0/16")!, subnetLength: 24,
                              ipv6Network: IPPrefix("fd00:10:231::/56")!, ipv6SubnetLength: 64,
                              backendType: backend, own: own)
    }

    static func ownLease(dual: Bool = false, rank: Int64? = 50) -> SubnetLease { admission(dual: dual, ownRank: rank).own }

    static func reason(_ lease: SubnetLease, dual: Bool = false, backend: String = "vxlan") -> LeaseRejection? {
        admission(dual: dual, backend: backend).problem(lease)?.reason
    }

    // MARK: one lease

    @Test func aValidLeaseOfEachFamilyIsAdmitted() {
        #expect(Self.admission().problem(Self.lease(5)) == nil)
        #expect(Self.admission(dual: true).problem(Self.lease(5, dual: true)) == nil)
        #expect(Self.admission(backend: "host-gw").problem(Self.lease(5, backend: "host-gw")) == nil)
        // An IPv4-only lease on a dual-stack node: its IPv4 half is a peer.
        #expect(Self.admission(dual: true).problem(Self.lease(5)) == nil)
    }

    @Test(arguments: ["10.231.5.0-024", "010.231.5.0-24", "10.231.005.0-24", "evil/dir/10.231.5.0-24",
                      "../../10.231.5.0-24", "subnets/10.231.5.0-24", "10.231.5.0-24&fd00:10:231:0005::-64",
                      "10.231.5.0-24&FD00:10:231:5::-64", "10.231.5.0-24&fd00:10:231:5:0:0:0:0-64"])
    func aKeyInAnotherSpellingIsRejected(key: String) {
        let dual = key.contains("&")
        var lease = Self.lease(5, dual: dual)
        lease.storedKey = key
        #expect(LeaseKey.parse(key) != nil)  // parse stays lenient: deletes still find these
        #expect(!LeaseKey.isCanonical(key))
        #expect(Self.reason(lease, dual: dual) == .nonCanonicalKey)
    }

    @Test func canonicalKeysAreFlannels() {
        #expect(LeaseKey.isCanonical("10.231.5.0-24"))
        #expect(LeaseKey.isCanonical("10.231.5.0-24&fd00:10:231:5::-64"))
        #expect(!LeaseKey.isCanonical("10.231.5.1-24"))
        #expect(!LeaseKey.isCanonical(""))
    }

    @Test func theSubnetMustBeASubnetLenInsideTheNetwork() {
        func lease(_ cidr: String) -> SubnetLease {
            var l = Self.lease(5)
            l.subnet = IPPrefix(cidr)!
            return l
        }
        #expect(Self.reason(lease("128.0.0.0/1")) == .outsideNetwork)       // half the internet
        #expect(Self.reason(lease("10.177.33.250/32")) == .outsideNetwork)  // the etcd host
        #expect(Self.reason(lease("10.0.0.0/8")) == .outsideNetwork)        // wider than the network
        #expect(Self.reason(lease("10.231.0.0/16")) == .wrongSubnetLength)  // the whole network
        #expect(Self.reason(lease("10.231.5.128/25")) == .wrongSubnetLength)
        #expect(Self.reason(lease("10.231.4.0/23")) == .wrongSubnetLength)
    }

    @Test func theIPv6HalfMustBeAnIPv6SubnetLenInsideTheIPv6Network() {
        func lease(_ cidr: String) -> SubnetLease {
            var l = Self.lease(5, dual: true)
            l.ipv6Subnet = IPPrefix(cidr)!
            return l
        }
        #expect(Self.reason(lease("fd00:99::/64"), dual: true) == .outsideNetwork)
        #expect(Self.reason(lease("::/1"), dual: true) == .outsideNetwork)
        #expect(Self.reason(lease("fd00:10:231:5::/80"), dual: true) == .wrongSubnetLength)
        #expect(Self.reason(lease("fd00:10:231::/56"), dual: true) == .wrongSubnetLength)
    }

    /// A node that is not dual stack programs no IPv6 entries: a lease's IPv6 half cannot
    /// hurt it and is not judged; the IPv4 half decides.
    @Test func anIPv6HalfIsNotJudgedOnAnIPv4OnlyNode() {
        var lease = Self.lease(5, dual: true, macV6: "ff:ff:ff:ff:ff:ff")
        lease.ipv6Subnet = IPPrefix("fd00:99::/64")!
        lease.publicIPv6 = IPAddress("::1")!
        #expect(Self.reason(lease, dual: false) == nil)
        #expect(Self.reason(lease, dual: true) == .outsideNetwork)
    }

    @Test(arguments: [("0.0.0.0", "unspecified"), ("0.1.2.3", "0.0.0.0/8"), ("127.0.0.1", "loopback"),
                      ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("255.255.255.255", "broadcast"),
                      ("240.0.0.1", "reserved")])
    func aPublicIPThatIsNotUnicastIsRejected(ip: String, words: String) {
        let problem = Self.admission().problem(Self.lease(5, ip: ip))
        #expect(problem?.reason == .badPublicIP)
        #expect(problem?.detail.contains(words) == true)
    }

    @Test(arguments: ["::", "::1", "ff02::1", "::ffff:192.168.50.5", "192.168.50.5"])
    func aPublicIPv6ThatIsNotUnicastIsRejected(ip: String) {
        var lease = Self.lease(5, dual: true)
        lease.publicIPv6 = IPAddress(ip)!
        #expect(Self.reason(lease, dual: true) == .badPublicIP)
    }

    @Test func anIPv6HalfNeedsAPublicIPv6() {
        var lease = Self.lease(5, dual: true)
        lease.publicIPv6 = nil
        #expect(Self.reason(lease, dual: true) == .badPublicIP)
    }

    @Test func theNodesOwnPublicIPUnderAnotherKeyIsRejected() {
        #expect(Self.reason(Self.lease(5, ip: Self.ownIP)) == .ownPublicIP)
        var lease = Self.lease(5, dual: true)
        lease.publicIPv6 = IPAddress(Self.ownIPv6)!
        #expect(Self.reason(lease, dual: true) == .ownPublicIP)
    }

    @Test(arguments: ["ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "33:33:00:00:00:01", "00:00:00:00:00:00", "not-a-mac"])
    func aVtepMACThatIsNotUnicastIsRejected(mac: String) {
        #expect(Self.reason(Self.lease(5, mac: mac)) == .badVtepMAC)
        #expect(Self.reason(Self.lease(5, dual: true, macV6: mac), dual: true) == .badVtepMAC)
        // host-gw has no VTEP: the same lease without BackendData is fine there.
        #expect(Self.reason(Self.lease(5, backend: "host-gw"), backend: "host-gw") == nil)
    }

    @Test func aVxlanLeaseNeedsAVtepMAC() {
        var lease = Self.lease(5)
        lease.backendData = .object(["VNI": .int(1)])
        #expect(Self.reason(lease) == .badVtepMAC)
        lease.backendData = nil
        #expect(Self.reason(lease) == .badVtepMAC)
    }

    @Test func aLeaseOfAnotherBackendIsRejected() {
        #expect(Self.reason(Self.lease(5, backend: "udp"), backend: "host-gw") == .backendMismatch)
        #expect(Self.reason(Self.lease(5, backend: "host-gw"), backend: "vxlan") == .backendMismatch)
        #expect(Self.reason(Self.lease(5, backend: ""), backend: "vxlan") == .backendMismatch)
    }

    @Test func everyReasonHasASnakeCaseLabel() {
        for reason in LeaseRejection.allCases {
            #expect(reason.rawValue.allSatisfy { $0 == "_" || ($0.isASCII && $0.isLowercase) })
        }
        #expect(LeaseRejection.allCases.count == Set(LeaseRejection.allCases.map(\.rawValue)).count)
    }

    // MARK: a whole listing

    /// Two leases for one subnet (dual-stack keys sharing the IPv4 half): the older one is the
    /// peer, whatever order the registry lists them in.
    @Test func theOlderOfTwoOverlappingLeasesWinsInAnyOrder() {
        let admission = Self.admission(dual: true)
        var a = Self.lease(5, dual: true, rank: 20)
        var b = Self.lease(5, dual: true, rank: 10)
        b.ipv6Subnet = IPPrefix("fd00:10:231:99::/64")!
        var c = Self.lease(5, rank: nil)  // IPv4-only key of the same subnet, rank unknown: youngest
        c.publicIP = IPAddress("192.168.50.99")!
        for order in [[a, b, c], [a, c, b], [b, a, c], [b, c, a], [c, a, b], [c, b, a]] {
            let verdict = admission.judge(order)
            #expect(verdict.peers == [b])
            #expect(verdict.rejected.map(\.storedKey) == [c.storedKey, a.storedKey].sorted())
            #expect(verdict.rejected.allSatisfy { $0.reason == .overlapsOlderLease })
        }
        // Equal or unknown ranks: the smaller stored key, still independent of order.
        a.creationRank = nil
        b.creationRank = nil
        let winner = [a, b].min { $0.storedKey < $1.storedKey }!
        #expect(admission.judge([a, b]).peers == [winner])
        #expect(admission.judge([b, a]).peers == [winner])
    }

    /// The IPv6 halves overlap, the IPv4 halves do not: still one subnet claimed twice.
    @Test func overlappingIPv6HalvesAreAnOverlapInDualStackOnly() {
        let a = Self.lease(5, dual: true, rank: 1)
        var b = Self.lease(6, dual: true, rank: 2)
        b.ipv6Subnet = a.ipv6Subnet
        let dual = Self.admission(dual: true).judge([b, a])
        #expect(dual.peers == [a])
        #expect(dual.rejected.map(\.reason) == [.overlapsOlderLease])
        #expect(Self.admission(dual: false).judge([b, a]).peers == [a, b])
    }

    @Test func theOwnLeaseIsHeldMissingOrTaken() {
        let admission = Self.admission()
        let own = Self.ownLease()
        let held = admission.judge([Self.lease(5), own])
        #expect(held.own == .held)
        #expect(held.ownLease == own)
        #expect(held.peers == [Self.lease(5)])
        #expect(held.rejected.isEmpty)

        #expect(admission.judge([Self.lease(5)]).own == .missing)

        var stolen = own
        stolen.publicIP = IPAddress("192.168.50.99")!
        let taken = admission.judge([stolen, Self.lease(5)])
        #expect(taken.own == .takenBy(IPAddress("192.168.50.99")!))
        #expect(taken.peers == [Self.lease(5)])
        #expect(taken.ownLease == nil)
    }

    /// Another node's canonical lease that claims this node's subnet under another key (a
    /// dual-stack key sharing the IPv4 half): older than the node's lease, it holds the
    /// subnet; younger, it is rejected; with the node's lease missing, it holds it.
    @Test func anotherNodesCanonicalLeaseOverTheOwnSubnet() {
        let admission = Self.admission()
        let own = Self.ownLease(rank: 50)
        var rival = Self.lease(70, ip: "192.168.50.99", dual: true, rank: 40)
        #expect(admission.judge([own, rival]).own == .takenBy(IPAddress("192.168.50.99")!))
        #expect(admission.judge([own, rival]).rejected.isEmpty)
        rival.creationRank = 60
        let younger = admission.judge([rival, own])
        #expect(younger.own == .held)
        #expect(younger.peers.isEmpty)
        #expect(younger.rejected.map(\.reason) == [.overlapsOwnSubnet])
        // No rank evidence (a registry without creation times): the node keeps its subnet.
        rival.creationRank = nil
        #expect(admission.judge([own, rival]).own == .held)
        #expect(admission.judge([rival]).own == .takenBy(IPAddress("192.168.50.99")!))
    }

    /// The node's IPv4-only key left over from before it turned dual stack (same PublicIP,
    /// same IPv4 subnet): not a peer, not a conflict, not reported.
    @Test func theNodesLeftoverKeyIsIgnored() {
        let admission = Self.admission(dual: true)
        let own = Self.ownLease(dual: true, rank: 50)
        let leftover = Self.lease(70, ip: Self.ownIP, rank: 10)
        let verdict = admission.judge([leftover, own, Self.lease(5, dual: true)])
        #expect(verdict.own == .held)
        #expect(verdict.peers == [Self.lease(5, dual: true)])
        #expect(verdict.rejected.isEmpty)
        #expect(admission.judge([leftover]).own == .missing)
    }

    /// An alias of the node's own subnet, however old, is rejected for its key and can
    /// neither take the subnet nor put the node into conflict.
    @Test(arguments: ["10.231.70.0-024", "evil/dir/10.231.70.0-24", "../../10.231.70.0-24", "010.231.70.0-24"])
    func anAliasCannotFakeAConflict(key: String) {
        let admission = Self.admission()
        let alias = Self.lease(70, ip: "192.168.50.99", rank: 1, key: key)
        let verdict = admission.judge([alias, Self.ownLease(rank: 50)])
        #expect(verdict.own == .held)
        #expect(verdict.rejected.map(\.reason) == [.nonCanonicalKey])
        #expect(admission.judge([alias]).own == .missing)
        // Nor an alias with the node's own PublicIP (the node never writes one).
        let mine = Self.lease(70, ip: Self.ownIP, rank: 1, key: key)
        #expect(admission.judge([mine, Self.ownLease()]).rejected.map(\.reason) == [.nonCanonicalKey])
    }

    /// An alias of a peer's subnet cannot displace the peer, in any listing order.
    @Test func anAliasCannotStealAPeersSubnet() {
        let admission = Self.admission()
        let peer = Self.lease(77, rank: 100)
        let alias = Self.lease(77, ip: "192.168.50.66", rank: 1, key: "evil/dir/10.231.77.0-24")
        for order in [[peer, alias], [alias, peer]] {
            let verdict = admission.judge(order)
            #expect(verdict.peers == [peer])
            #expect(verdict.rejected.map(\.reason) == [.nonCanonicalKey])
        }
    }

    @Test func unreadableEntriesAreReported() {
        let entry = RejectedLease(storedKey: "10.231.9.0-24", reason: .unreadable, detail: "a FIFO, not a regular file")
        let verdict = Self.admission().judge([Self.lease(5)], unreadable: [entry])
        #expect(verdict.rejected == [entry])
        #expect(verdict.peers == [Self.lease(5)])
    }

    @Test func equalityIgnoresTheCreationRankButNotTheStoredKey() {
        var a = Self.lease(5, rank: 1)
        #expect(a == Self.lease(5, rank: 2))
        #expect(a.storedKey == a.key)
        a.storedKey = "evil/10.231.5.0-24"
        #expect(a != Self.lease(5))
        a.storedKey = a.key
        #expect(a == Self.lease(5))
    }
}
