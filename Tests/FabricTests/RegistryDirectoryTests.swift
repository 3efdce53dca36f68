import CNI
import Glibc
import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

@Suite struct RegistryDirectoryTests {
    /// Moves a lease file's expiry (its mtime) into the past.
    func expire(_ registry: DirectoryRegistry, _ key: String) {
        let t = RegistryFiles.timeSpec(registryNow() - 10)
        var times = [t, t]
        #expect(utimensat(AT_FDCWD, registry.subnetsDirectory + "/" + key, &times, 0) == 0)
    }

    @Test func layoutAndConfig() throws {
        let dir = RegistryTempDirectory("layout")
        let registry = DirectoryRegistry(root: dir.path)
        #expect {
            _ = try registry.networkConfig()
        } throws: { error in
            (error as? PluginError)?.message.contains(dir.path + "/coreos.com/network/config does not exist") == true
        }
        try registry.storeNetworkConfig(registryVXLANConfig)
        #expect(try registry.networkConfig().network == IPPrefix("10.244.0.0/16"))
        let lease = registryTestLease("10.244.1.0/24", "192.168.1.2")
        #expect(try registry.createLease(lease, ttl: 60))
        let file = dir.path + "/coreos.com/network/subnets/10.244.1.0-24"
        #expect(try RegistryFiles.readIfPresent(file) == Array(LeaseJSON.encode(lease).utf8))
        // The file's mtime is the expiry.
        let mtime = try #require(try RegistryFiles.modificationTime(file))
        #expect(abs(mtime - (registryNow() + 60)) < 5)
        #expect(try registry.leases().map(\.subnet) == [lease.subnet])
        #expect(try RegistryFiles.list(registry.subnetsDirectory) == ["10.244.1.0-24"])  // no temp files left
    }

    @Test func createIsExclusiveUntilExpiry() throws {
        let dir = RegistryTempDirectory("excl")
        let registry = DirectoryRegistry(root: dir.path)
        let mine = registryTestLease("10.244.1.0/24", "192.168.1.2")
        let theirs = registryTestLease("10.244.1.0/24", "192.168.1.3")
        #expect(try registry.createLease(mine, ttl: 60))
        #expect(try !registry.createLease(theirs, ttl: 60))
        #expect(throws: PluginError.self) { try registry.renewLease(theirs, ttl: 60) }
        expire(registry, mine.key)
        #expect(try registry.leases().isEmpty)  // expired leases are invisible
        #expect(try registry.createLease(theirs, ttl: 60))  // and can be taken over
        #expect(try registry.leases().map(\.publicIP) == [IPAddress("192.168.1.3")!])
        #expect(throws: PluginError.self) { try registry.renewLease(mine, ttl: 60) }
        try registry.deleteLease(subnet: IPPrefix("10.244.1.0/24")!)
        try registry.deleteLease(subnet: IPPrefix("10.244.1.0/24")!)  // repeatable
        #expect(try registry.leases().isEmpty)
    }

    /// A dual-stack lease: one file named by both subnets, flannel's bytes in it, listed back
    /// whole; renewal rewrites the IPv6 VTEP data and stays exclusive to its PublicIP.
    @Test func dualStackLeaseCreateRenewRoundTrip() throws {
        let dir = RegistryTempDirectory("dual")
        let registry = DirectoryRegistry(root: dir.path)
        var lease = dualLease("10.244.1.0/24", "fc00:0:0:1::/64", "192.168.1.2")
        #expect(try registry.createLease(lease, ttl: 60))
        #expect(try RegistryFiles.list(registry.subnetsDirectory) == ["10.244.1.0-24&fc00:0:0:1::-64"])
        #expect(try RegistryFiles.readIfPresent(registry.subnetsDirectory + "/" + lease.key)
                == Array(LeaseJSON.encode(lease).utf8))
        var listed = try #require(try registry.leases().first)
        #expect(listed.expiration != nil)
        listed.expiration = nil
        #expect(listed == lease)
        lease.backendV6Data = SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:77")!)
        try registry.renewLease(lease, ttl: 1000)
        let renewed = try #require(try registry.leases().first)
        #expect(renewed.backendV6Data == lease.backendV6Data && renewed.expiration! > registryNow() + 900)
        var other = lease
        other.publicIP = IPAddress("192.168.1.3")!
        #expect(try !registry.createLease(other, ttl: 60))
        #expect(throws: PluginError.self) { try registry.renewLease(other, ttl: 60) }
        #expect(try registry.leases().count == 1)
    }

    @Test func renewExtendsAndRecreates() throws {
        let dir = RegistryTempDirectory("renew")
        let registry = DirectoryRegistry(root: dir.path)
        let lease = registryTestLease("10.244.1.0/24", "192.168.1.2")
        #expect(try registry.createLease(lease, ttl: 10))
        try registry.renewLease(lease, ttl: 1000)
        let expiry = try #require(try registry.leases().first?.expiration)
        #expect(expiry > registryNow() + 900)
        expire(registry, lease.key)
        try registry.renewLease(lease, ttl: 100)  // lapsed but nobody took it: ours again
        try registry.deleteLease(subnet: lease.subnet)
        try registry.renewLease(lease, ttl: 100)  // gone: recreated
        #expect(try registry.leases().count == 1)
    }

    @Test func unreadableEntriesAreSkipped() throws {
        let dir = RegistryTempDirectory("junk")
        let registry = DirectoryRegistry(root: dir.path)
        #expect(try registry.createLease(registryTestLease("10.244.1.0/24", "192.168.1.2"), ttl: 60))
        for (name, text) in [("10.244.2.0-24", "garbage"), ("README", "hello")] {
            let temp = try RegistryFiles.writeTemporary(in: registry.subnetsDirectory, Array(text.utf8), mtime: registryNow() + 60)
            #expect(rename(temp, registry.subnetsDirectory + "/" + name) == 0)
        }
        #expect(try registry.leases().map(\.key) == ["10.244.1.0-24"])
    }

    @Test(arguments: 0..<3) func eightAgentsRace(round: Int) throws {
        let dir = RegistryTempDirectory("race\(round)")
        let root = dir.path
        try registryEightAgentsRace { DirectoryRegistry(root: root) }
    }

    @Test(arguments: [false, true]) func watchSeesChangesQuickly(polling: Bool) throws {
        let dir = RegistryTempDirectory("watch")
        let watcher = DirectoryRegistry(root: dir.path)
        watcher.pollsForChanges = polling
        #expect(try watcher.waitForChanges(timeout: 0).needsRelist)  // never listed
        _ = try watcher.leases()
        #expect(try watcher.waitForChanges(timeout: 0.3) == .timeout)  // nothing happened
        let root = dir.path
        try registryWatchSeesCreate(watcher, limit: 1.2) { DirectoryRegistry(root: root) }
        _ = try watcher.leases()
        // Temp files and the lock file alone are not changes; a delete is.
        try RegistryFiles.withLock(watcher.lockPath) {}
        #expect(try watcher.waitForChanges(timeout: 0.3) == .timeout)
        try DirectoryRegistry(root: root).deleteLease(subnet: IPPrefix("10.244.5.0/24")!)
        #expect(try watcher.waitForChanges(timeout: 5) == .events([.delete(storedKey: "10.244.5.0-24")]))
    }

    @Test func expiryWakesTheWatcher() throws {
        let dir = RegistryTempDirectory("expiry")
        let registry = DirectoryRegistry(root: dir.path)
        #expect(try registry.createLease(registryTestLease("10.244.1.0/24", "192.168.1.2"), ttl: 1))
        #expect(try registry.leases().count == 1)
        #expect(try registry.waitForChanges(timeout: 10).needsRelist)
        #expect(try registry.leases().isEmpty)
    }
}
