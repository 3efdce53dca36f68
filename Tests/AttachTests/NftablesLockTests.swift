import CNI
import Glibc
import NetTypes
import Testing
@testable import Nftables
@testable import Attach

/// `NftablesLock` against the real kernel: a tear-down waits for an `nft -f` that a dead plugin
/// left running, then deletes what it committed (issue 9: the window after a SIGKILLed ADD).
@Suite(.enabled(if: MasqueradeFixture.privileged, "needs root, ip and nft"))
struct NftablesLockTests {
    let addresses = [IPPrefix("10.23.0.5/16")!]
    let mac = MACAddress("02:42:ac:11:00:05")!

    @Test func masqueradeTearDownWaitsForAnOrphanedNft() throws {
        try MasqueradeFixture.withNamespaces(prefix: "nl9") { ns in
            let masq = MasqueradeFixture.masquerade(in: ns[0])
            let owner = try MasqueradeOwner(network: "cbr", containerID: "a", ifname: "eth0")
            try orphanNft(in: ns[0], script: MasqueradeRuleset.fullSetUpScript(owner, addresses), lock: masq.lock)
            try masq.tearDown(network: "cbr", containerID: "a", ifname: "eth0")
            waitForOrphan()
            let listing = try #require(try masq.list(rules: false), "the orphan committed its table")
            #expect(listing.entries(of: owner).isEmpty, "tear-down saw and removed what the orphan committed")
        }
    }

    @Test func macSpoofTearDownWaitsForAnOrphanedNft() throws {
        try MasqueradeFixture.withNamespaces(prefix: "nl9") { ns in
            let check = MasqueradeFixture.macSpoofCheck(in: ns[0])
            let owner = try NftElementOwner(network: "cbr", containerID: "a", ifname: "eth0", for: "test")
            try orphanNft(in: ns[0], script: MacSpoofRuleset.fullSetUpScript(owner, port: "veth1", mac: mac), lock: check.lock)
            try check.tearDown(network: "cbr", containerID: "a", ifname: "eth0")
            waitForOrphan()
            let listing = try #require(try check.list(rules: false), "the orphan committed its table")
            #expect(listing.entries.owned(by: owner).isEmpty, "tear-down saw and removed what the orphan committed")
        }
    }

    @Test func oneLockFilePerNamespace() throws {
        try MasqueradeFixture.withNamespaces(2, prefix: "nl9") { ns in
            let first = try NftablesLock.namespace(path: "/run/netns/\(ns[0])").path()
            let second = try NftablesLock.namespace(path: "/run/netns/\(ns[1])").path()
            #expect(first != second)
            #expect(try NftablesLock.namespace(path: "/run/netns/\(ns[0])").path() == first)
            #expect(try NftablesLock.node.path().hasPrefix(NftablesLock.directory + "/nftables."))
        }
    }

    /// What a plugin SIGKILLed during `nft -f` leaves: an nft that still commits `script` a
    /// moment later, holding the lock it was handed. Its starter (a shell standing for the
    /// plugin) has exited and our own copy of the lock is closed when this returns.
    private func orphanNft(in ns: String, script: String, lock: NftablesLock) throws {
        let fd = try Posix.open(scriptFile, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        try Posix.writeAll(fd, Array(script.utf8), path: scriptFile)
        close(fd)
        let command = "(sleep 0.5; \(MasqueradeFixture.ip) netns exec \(ns) \(MasqueradeFixture.nft!) -f \(scriptFile); rm -f \(scriptFile))"
            + " </dev/null >/dev/null 2>&1 &"
        let started = try lock.exclusive { fd in try ChildProcess.run("/bin/sh", arguments: ["-c", command], passing: fd) }
        #expect(started.succeeded)
    }

    /// Until the orphan has run (it removes its script), so a tear-down that did not wait for
    /// it is caught by what the orphan committed afterwards.
    private func waitForOrphan() {
        var waited = 0
        while access(scriptFile, F_OK) == 0 && waited < 500 {
            usleep(10_000)
            waited += 1
        }
        #expect(access(scriptFile, F_OK) != 0, "the orphaned nft ran")
    }

    let scriptFile = "/tmp/nl9-orphan-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).nft"
}
