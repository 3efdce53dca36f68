import Testing
@testable import SubnetRegistry
@testable import FlannelAgent

/// `--subnet-lease-renew-margin`: when the agent renews its lease.
struct LeaseRenewalTests {
    @Test func flanneldsDefaultsRenewAnHourBeforeExpiry() {
        let day = 24 * 3600
        #expect(AgentNode.renewalTime(expiry: 100_000, ttl: day, margin: 3600) == 100_000 - 3600)
    }

    @Test func aSmallMarginRenewsLate() {
        #expect(AgentNode.renewalTime(expiry: 100_000, ttl: 24 * 3600, margin: 60) == 100_000 - 60)
    }

    @Test func aMarginBeyondHalfTheTTLRenewsAtHalfTheTTL() {
        // --lease-ttl 6 with the default margin of 60 minutes: renew 3 s before expiry, not at once.
        #expect(AgentNode.renewalTime(expiry: 1006, ttl: 6, margin: 3600) == 1003)
    }
}

/// Issue 18 point 2: renewal never waits behind a failing listing.
@Suite struct RenewalBehindFailingListingTests {
    @Test func aDueLeaseIsRenewedWhileEveryListingFails() async throws {
        let dir = RegistryTempDirectory("renew-failing")
        let registry = ScriptedRegistry(DirectoryRegistry(root: dir.path))
        var node = try agentTestNode(registryTestLease("10.244.7.0/24", "192.168.5.1"), registry: registry)
        node.renewAt = registryNow() - 1
        registry.script.withLock { $0.failListings = true }
        let loop = RunningLoop(resync: 0.2, node: node, registry: registry)
        #expect(await eventually(within: 10) { registry.script.withLock { $0.renewals } >= 1 })
        #expect(await eventually(within: 10) { loop.readyz.body.contains("listing failed (test)") }, "\(loop.readyz)")
        #expect(loop.readyz.code == 503)
        try await loop.finish()
        #expect(registry.script.withLock { $0.renewals } == 1)  // renewed once, not at every pass
    }

    @Test func aFailingRenewalBacksOff() async throws {
        let dir = RegistryTempDirectory("renew-backoff")
        let registry = ScriptedRegistry(DirectoryRegistry(root: dir.path))
        var node = try agentTestNode(registryTestLease("10.244.7.0/24", "192.168.5.1"), registry: registry)
        node.renewAt = registryNow() - 1
        registry.script.withLock { $0.failListings = true; $0.failRenewals = true }
        let loop = RunningLoop(resync: 0.2, node: node, registry: registry)
        #expect(await eventually(within: 10) { registry.script.withLock { $0.renewals } >= 3 })
        // Backoff 0.5 s, then 1 s, between the attempts: not once per pass.
        let times = registry.script.withLock { $0.renewalTimes }
        #expect(times.count >= 3 && times[2] - times[0] >= 1.4, "\(times)")
        #expect(loop.readyz.body.contains("renewing the lease: renewal failed (test)"), "\(loop.readyz)")
        try await loop.finish()
    }
}
