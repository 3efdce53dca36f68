import CNI
import Glibc
import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// The directory registry's change events: inotify records decoded, and the files they name
/// read into puts and deletes.
@Suite struct RegistryDirectoryEventTests {
    /// One `struct inotify_event`: wd, mask, cookie, len, then the name NUL-padded to 16 bytes.
    static func record(_ mask: Int32, _ name: String = "") -> [UInt8] {
        func bytes(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        let padded = name.isEmpty ? [] : Array(name.utf8) + [UInt8](repeating: 0, count: 16 - name.utf8.count % 16)
        return bytes(1) + bytes(UInt32(mask)) + bytes(0) + bytes(UInt32(padded.count)) + padded
    }

    static func batch(_ records: [[UInt8]]) -> InotifyBatch {
        var batch = InotifyBatch()
        records.joined().map { $0 }.withUnsafeBytes { batch.add($0) }
        return batch
    }

    /// Writes a lease file the way agents and the bench do: a dot file, then rename(2).
    static func stage(_ registry: DirectoryRegistry, _ name: String, _ text: String, expiresIn seconds: Double = 600) throws {
        let temp = try RegistryFiles.writeTemporary(in: registry.subnetsDirectory, Array(text.utf8),
                                                    mtime: registryNow() + seconds)
        #expect(rename(temp, registry.subnetsDirectory + "/" + name) == 0)
    }

    static func leaseText(_ ip: String) -> String { LeaseJSON.encode(registryTestLease("10.244.1.0/24", ip)) }

    @Test func inotifyRecordsNameTheChangedFiles() {
        let batch = Self.batch([Self.record(IN_MOVED_TO, "10.244.1.0-24"), Self.record(IN_CLOSE_WRITE, ".tmp-1-2"),
                                Self.record(IN_DELETE, "10.244.2.0-24"), Self.record(IN_MOVED_TO, "10.244.1.0-24"),
                                Self.record(IN_ATTRIB, "a-name-longer-than-sixteen-bytes")])
        #expect(batch.names == ["10.244.1.0-24", "10.244.2.0-24", "a-name-longer-than-sixteen-bytes"])
        #expect(!batch.mustRelist && !batch.watchEnded)
        #expect(Self.batch([Self.record(IN_CLOSE_WRITE, ".lock")]).isEmpty)
    }

    @Test func lostEventsOrALostWatchNeedAListing() {
        let overflow = Self.batch([Self.record(IN_MOVED_TO, "10.244.1.0-24"), Self.record(IN_Q_OVERFLOW)])
        #expect(overflow.mustRelist && !overflow.watchEnded)
        let gone = Self.batch([Self.record(IN_DELETE_SELF), Self.record(IN_IGNORED)])
        #expect(gone.mustRelist && gone.watchEnded)
    }

    @Test(arguments: [false, true]) func aBurstOfRenamesIsOneBatch(polling: Bool) throws {
        let dir = RegistryTempDirectory("burst")
        let registry = DirectoryRegistry(root: dir.path)
        registry.pollsForChanges = polling
        #expect(try registry.leases().isEmpty)
        let subnets = (0..<200).map { IPPrefix("10.\(100 + $0 / 256).\($0 % 256).0/24")! }
        for (i, subnet) in subnets.enumerated() {
            try Self.stage(registry, LeaseKey.make(subnet: subnet, ipv6Subnet: nil), Self.leaseText("192.168.3.\(i % 250 + 1)"))
        }
        let changes = try registry.waitForChanges(timeout: 5)
        #expect(changes.putSubnets.map(Set.init) == Set(subnets))
        guard case .events(let events) = changes, case .put(let first) = events.first else { Issue.record("\(changes)"); return }
        #expect(try #require(first.expiration) > registryNow() + 500)  // the mtime is the expiry

        // Deleted, rewritten already expired, rewritten unreadable: no lease, like a listing says.
        #expect(unlink(registry.subnetsDirectory + "/" + LeaseKey.make(subnet: subnets[0], ipv6Subnet: nil)) == 0)
        try Self.stage(registry, LeaseKey.make(subnet: subnets[1], ipv6Subnet: nil), Self.leaseText("192.168.3.9"), expiresIn: -5)
        try Self.stage(registry, LeaseKey.make(subnet: subnets[2], ipv6Subnet: nil), "garbage")
        try Self.stage(registry, "README", "not a lease")
        let gone = subnets[0...2].map { RegistryEvent.delete(storedKey: LeaseKey.make(subnet: $0, ipv6Subnet: nil)) }
        #expect(try registry.waitForChanges(timeout: 5) == .events(gone + [.delete(storedKey: "README")]))
        #expect(registry.takeSkippedEntries().map(\.storedKey) == [LeaseKey.make(subnet: subnets[2], ipv6Subnet: nil), "README"])
        #expect(try registry.waitForChanges(timeout: 0.3) == .timeout)
    }

    @Test func touchingAHandWrittenLeaseIntoTheFutureMakesItAPut() throws {
        let dir = RegistryTempDirectory("touch")
        let registry = DirectoryRegistry(root: dir.path)
        _ = try registry.leases()
        let path = registry.subnetsDirectory + "/10.244.1.0-24"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)  // `cat > FILE`: mtime now, i.e. expired
        let text = Array(Self.leaseText("192.168.1.2").utf8)
        #expect(fd >= 0 && Glibc.write(fd, text, text.count) == text.count)
        close(fd)
        #expect(try registry.waitForChanges(timeout: 5) == .events([.delete(storedKey: "10.244.1.0-24")]))
        var times = [RegistryFiles.timeSpec(registryNow() + 86400), RegistryFiles.timeSpec(registryNow() + 86400)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)  // `touch -d '+1 day'`
        #expect(try registry.waitForChanges(timeout: 5).putSubnets == [IPPrefix("10.244.1.0/24")!])
    }

    @Test func aRemovedDirectoryAsksForAListingAndIsWatchedAgainAfterIt() throws {
        let dir = RegistryTempDirectory("gone")
        let registry = DirectoryRegistry(root: dir.path)
        _ = try registry.leases()
        registryRemoveTree(registry.subnetsDirectory)
        #expect(try registry.waitForChanges(timeout: 5).needsRelist)
        #expect(try registry.waitForChanges(timeout: 0).needsRelist)  // until listed again
        #expect(try registry.leases().isEmpty)  // makes the directory and a new watch
        try Self.stage(registry, "10.244.1.0-24", Self.leaseText("192.168.1.2"))
        #expect(try registry.waitForChanges(timeout: 5).putSubnets == [IPPrefix("10.244.1.0/24")!])
    }
}
