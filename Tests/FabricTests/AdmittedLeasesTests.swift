import CNI
import NetTypes
import Testing
@testable import SubnetRegistry

/// The judged registry view under events: the same verdict as a fresh listing, and the
/// peer events that take a peer set from one to the other.
@Suite struct AdmittedLeasesTests {
    typealias T = LeaseAdmissionTests

    /// Folds peer events into a map by stored key, as a peer set would.
    static func fold(_ events: [RegistryEvent], into peers: inout [String: SubnetLease]) {
        for event in events {
            switch event {
            case .put(let lease): peers[lease.storedKey] = lease
            case .delete(let key): peers[key] = nil
            }
        }
    }

    static func sortedPeers(_ peers: [String: SubnetLease]) -> [SubnetLease] {
        peers.values.sorted { ($0.subnet.address, $0.storedKey) < ($1.subnet.address, $1.storedKey) }
    }

    @Test func aRejectedLeaseBecomesAPeerWhenItsOlderRivalGoes() {
        let admission = T.admission(dual: true)
        var admitted = AdmittedLeases(admission: admission)
        let older = T.lease(5, rank: 1)
        var younger = T.lease(5, dual: true, rank: 2)
        younger.publicIP = IPAddress("192.168.50.55")!
        let listed = admitted.replace([younger, older, T.ownLease(dual: true)])
        #expect(listed.own == .held)
        #expect(admitted.verdict.peers == [older])
        #expect(listed.newRejections.map(\.storedKey) == [younger.storedKey])

        let gone = admitted.apply([.delete(storedKey: older.storedKey)])
        #expect(gone.peerEvents == [.delete(storedKey: older.storedKey), .put(younger)])
        #expect(gone.own == nil)
        #expect(gone.newRejections.isEmpty)
        #expect(admitted.verdict.rejected.isEmpty)
    }

    @Test func aPeerThatBecomesRejectedIsDeleted() {
        var admitted = AdmittedLeases(admission: T.admission())
        _ = admitted.replace([T.lease(5), T.ownLease()])
        let hostile = T.lease(5, ip: "127.0.0.1")
        let changes = admitted.apply([.put(hostile)])
        #expect(changes.peerEvents == [.delete(storedKey: "10.231.5.0-24")])
        #expect(changes.newRejections.map(\.reason) == [.badPublicIP])
        // Fixed again: a peer again.
        #expect(admitted.apply([.put(T.lease(5))]).peerEvents == [.put(T.lease(5))])
    }

    @Test func rejectionsAreReportedOnceUntilTheyChange() {
        var admitted = AdmittedLeases(admission: T.admission())
        let alias = T.lease(5, key: "10.231.5.0-024")
        let unreadable = RejectedLease(storedKey: "10.231.9.0-24", reason: .unreadable, detail: "a symbolic link")
        #expect(admitted.replace([alias, T.ownLease()], unreadable: [unreadable]).newRejections.count == 2)
        #expect(admitted.replace([alias, T.ownLease()], unreadable: [unreadable]).newRejections.isEmpty)
        #expect(admitted.apply([.put(T.lease(6))]).newRejections.isEmpty)
        // The unreadable entry replaced by a readable lease: gone from the rejections.
        #expect(admitted.apply([.put(T.lease(9))]).peerEvents == [.put(T.lease(9))])
        #expect(admitted.verdict.rejected.map(\.storedKey) == [alias.storedKey])
        // Gone and back: reported again.
        _ = admitted.apply([.delete(storedKey: alias.storedKey)])
        #expect(admitted.apply([.put(alias)]).newRejections.map(\.storedKey) == [alias.storedKey])
        // Found unreadable in a batch: reported, and a peer under that key goes.
        let broken = RejectedLease(storedKey: "10.231.6.0-24", reason: .unreadable, detail: "not JSON")
        let batch = admitted.apply([.delete(storedKey: "10.231.6.0-24")], unreadable: [broken])
        #expect(batch.peerEvents == [.delete(storedKey: "10.231.6.0-24")])
        #expect(batch.newRejections == [broken])
    }

    @Test func theOwnStandingIsReportedWhenTheBatchConcernsIt() {
        var admitted = AdmittedLeases(admission: T.admission())
        let own = T.ownLease()
        #expect(admitted.replace([own]).own == .held)
        #expect(admitted.apply([.put(T.lease(5))]).own == nil)
        var renewed = own
        renewed.expiration = 1000
        #expect(admitted.apply([.put(renewed)]).own == .held)
        #expect(admitted.apply([.delete(storedKey: own.key)]).own == .missing)
        var stolen = own
        stolen.publicIP = IPAddress("192.168.50.99")!
        #expect(admitted.apply([.put(stolen)]).own == .takenBy(IPAddress("192.168.50.99")!))
        #expect(admitted.apply([.put(own)]).own == .held)
        // Another node's older canonical lease over the own subnet: the standing changes.
        let rival = T.lease(70, ip: "192.168.50.98", dual: true, rank: 1)
        #expect(admitted.apply([.put(rival)]).own == .takenBy(IPAddress("192.168.50.98")!))
        #expect(admitted.apply([.delete(storedKey: rival.storedKey)]).own == .held)
    }

    /// Random batches over a pool of good, hostile, overlapping and own leases: after every
    /// batch the verdict is what judging the whole registry afresh gives, and the peer events
    /// take the previous peers to the new ones.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func theEventPathEqualsRelisting(seed: UInt64) {
        let admission = T.admission(dual: true)
        var pool: [SubnetLease] = []
        for n in [5, 6, 7, 70] {
            pool.append(T.lease(n, rank: Int64(n)))
            pool.append(T.lease(n, ip: "192.168.50.\(n + 100)", dual: true, rank: Int64(n + 20)))
            pool.append(T.lease(n, ip: "192.168.50.\(n + 150)", dual: true, rank: nil))
            pool.append(T.lease(n, ip: "127.0.0.1"))
            pool.append(T.lease(n, rank: 0, key: "evil/10.231.\(n).0-24"))
        }
        pool.append(T.ownLease(dual: true))
        pool.append(T.lease(70, ip: T.ownIP, rank: 3))  // the own IPv4-only leftover
        var random = RegistrySeededRandom(state: seed)
        var registry: [String: SubnetLease] = [:]
        var admitted = AdmittedLeases(admission: admission)
        var peers: [String: SubnetLease] = [:]
        Self.fold(admitted.replace([]).peerEvents, into: &peers)
        for _ in 0..<300 {
            var batch: [RegistryEvent] = []
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let lease = pool.randomElement(using: &random)!
                if Bool.random(using: &random) {
                    registry[lease.storedKey] = lease
                    batch.append(.put(lease))
                } else {
                    registry[lease.storedKey] = nil
                    batch.append(.delete(storedKey: lease.storedKey))
                }
            }
            let before = admitted.verdict.own
            let changes = admitted.apply(batch)
            let fresh = admission.judge(Array(registry.values).shuffled(using: &random))
            #expect(admitted.verdict == fresh)
            Self.fold(changes.peerEvents, into: &peers)
            #expect(Self.sortedPeers(peers) == fresh.peers)
            if fresh.own != before { #expect(changes.own == fresh.own) }
        }
    }

    /// 1,000 leases, batches of one renewal: re-judging the whole view must stay cheap.
    @Test func aBatchOverAThousandLeasesIsCheap() {
        let own = SubnetLease(subnet: IPPrefix("10.0.0.0/24")!, publicIP: IPAddress("192.168.0.1")!, backendType: "vxlan",
                              backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("02:00:00:00:00:01")!))
        let admission = LeaseAdmission(network: IPPrefix("10.0.0.0/8")!, subnetLength: 24, backendType: "vxlan", own: own)
        let leases = (1...1000).map { n in
            SubnetLease(subnet: IPPrefix("10.\(n / 256).\(n % 256).0/24")!, publicIP: IPAddress("172.16.\(n / 256).\(n % 256)")!,
                        backendType: "vxlan",
                        backendData: SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress(bytes: [2, 0, 0, 0, UInt8(n / 256), UInt8(n % 256)])!),
                        creationRank: Int64(n))
        }
        var admitted = AdmittedLeases(admission: admission)
        let clock = ContinuousClock()
        let listing = clock.measure { _ = admitted.replace(leases + [own]) }
        #expect(admitted.verdict.peers.count == 1000)
        let rounds = 200
        var events = 0
        let batches = clock.measure {
            for round in 0..<rounds {
                var renewed = leases[round % leases.count]
                renewed.expiration = Double(round)
                events += admitted.apply([.put(renewed)]).peerEvents.count
            }
        }
        #expect(events == rounds)
        let perBatch = batches / rounds
        print("AdmittedLeases over 1,000 leases: listing \(listing), one-event batch \(perBatch)")
        #expect(perBatch < .milliseconds(50))  // a generous bound for debug builds on a loaded machine
    }
}
