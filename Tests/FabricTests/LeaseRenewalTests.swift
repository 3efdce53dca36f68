import Testing
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
