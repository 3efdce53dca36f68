import CNI
import Glibc
import NetTypes
import Testing
import TestSupport
@testable import SubnetRegistry

/// Entries anyone who can write the registry directory can plant: symlinks (loops, to
/// devices, to real leases), sockets, FIFOs, directories, huge files, junk. Each is skipped
/// and reported; none stops a listing or a batch, blocks, or is read past the cap.
@Suite struct RegistryDirectoryPlantedTests {
    static let valid = registryTestLease("10.244.1.0/24", "192.168.1.2")

    /// Plants every kind of bad entry; returns their names (and the FIFOs, to unblock).
    static func plant(_ registry: DirectoryRegistry, outside: String) throws -> (names: Set<String>, fifos: [String]) {
        let dir = registry.subnetsDirectory
        var names: Set<String> = []
        func name(_ n: Int) -> String {
            let key = "10.244.\(n).0-24"
            names.insert(key)
            return dir + "/" + key
        }
        #expect(symlink(dir + "/10.244.3.0-24", name(3)) == 0)  // a loop onto itself
        #expect(symlink("/dev/zero", name(4)) == 0)
        let socketPath = name(5)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        let fifo = name(6)
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect(mkdir(name(7), 0o755) == 0)
        let huge = try RegistryFiles.writeTemporary(in: dir, [UInt8](repeating: 0x20, count: 100 * 1024), mtime: registryNow() + 600)
        #expect(rename(huge, name(8)) == 0)
        let junk = try RegistryFiles.writeTemporary(in: dir, Array("garbage".utf8), mtime: registryNow() + 600)
        #expect(rename(junk, name(9)) == 0)
        // A symlink to a real, valid lease elsewhere: never followed.
        let target = try RegistryFiles.writeTemporary(in: outside, Array(LeaseJSON.encode(registryTestLease("10.244.10.0/24", "192.168.1.10")).utf8),
                                                      mtime: registryNow() + 600)
        #expect(symlink(target, name(10)) == 0)
        let readme = try RegistryFiles.writeTemporary(in: dir, Array("hello".utf8), mtime: registryNow() + 600)
        #expect(rename(readme, dir + "/README") == 0)
        names.insert("README")
        return (names, [fifo])
    }

    /// Runs `body` on a thread; if it has not returned within `seconds` (a FIFO open blocks
    /// forever), records the failure and unblocks it by opening the FIFOs for writing.
    static func bounded<T>(_ seconds: Double, fifos: [String], _ body: @escaping @Sendable () -> T) -> T? {
        let result = Slots<T>(1)
        let done = Slots<Bool>(1)
        let blocked = Slots<Bool>(1)
        runOnThreads(2) { i in
            if i == 0 {
                result[0] = body()
                done[0] = true
                return
            }
            let deadline = monotonicNow() + seconds
            while done[0] != true {
                if monotonicNow() > deadline && blocked[0] != true {
                    blocked[0] = true
                    for fifo in fifos { let fd = open(fifo, O_WRONLY | O_NONBLOCK); if fd >= 0 { close(fd) } }
                }
                usleep(10_000)
            }
        }
        #expect(blocked[0] != true, "blocked for more than \(seconds) s")
        return result[0]
    }

    @Test func aListingSkipsAndReportsEveryPlantedEntry() throws {
        let dir = RegistryTempDirectory("planted")
        let outside = RegistryTempDirectory("outside")
        let registry = DirectoryRegistry(root: dir.path)
        #expect(try registry.createLease(Self.valid, ttl: 600))
        let (names, fifos) = try Self.plant(registry, outside: outside.path)
        let handOff = RegistryHandOff(registry)
        let listed = Self.bounded(5, fifos: fifos) { Result { try handOff.value.leases() } }
        #expect(try #require(listed).get().map(\.storedKey) == [Self.valid.key])
        let skipped = registry.takeSkippedEntries()
        #expect(Set(skipped.map(\.storedKey)) == names)
        #expect(skipped.allSatisfy { $0.reason == .unreadable && $0.lease == nil })
        #expect(skipped.first { $0.storedKey == "10.244.3.0-24" }?.detail.contains("symbolic link") == true)
        #expect(skipped.first { $0.storedKey == "10.244.8.0-24" }?.detail.contains("larger than") == true)
        #expect(registry.takeSkippedEntries().isEmpty)  // drained
        // The polling fallback's view of the directory does not throw on a loop either.
        #expect(try registry.snapshot().count == names.count + 1)
    }

    @Test(arguments: [false, true]) func aBatchSkipsAndReportsPlantedEntries(polling: Bool) throws {
        let dir = RegistryTempDirectory("planted-watch")
        let outside = RegistryTempDirectory("outside-watch")
        let registry = DirectoryRegistry(root: dir.path)
        registry.pollsForChanges = polling
        #expect(try registry.createLease(Self.valid, ttl: 600))
        #expect(try registry.leases().count == 1)
        let (names, fifos) = try Self.plant(registry, outside: outside.path)
        let handOff = RegistryHandOff(registry)
        var seen: Set<String> = []
        var skipped: Set<String> = []
        let deadline = monotonicNow() + 10
        while skipped != names && monotonicNow() < deadline {
            let changes = Self.bounded(5, fifos: fifos) { Result { try handOff.value.waitForChanges(timeout: 1) } }
            guard case .events(let events) = try #require(changes).get() else { continue }
            for event in events {
                guard case .delete(let key) = event else { Issue.record("a planted entry became \(event)"); continue }
                seen.insert(key)
            }
            skipped.formUnion(registry.takeSkippedEntries().map(\.storedKey))
        }
        #expect(skipped == names)
        #expect(seen == names)
        #expect(try registry.leases().map(\.storedKey) == [Self.valid.key])
    }

    /// A symlink loop or a FIFO where the node's own lease should be: renewal neither fails
    /// for ever nor blocks; the entry (never followed) is replaced by the lease.
    @Test(arguments: ["loop", "fifo", "link"]) func renewalReplacesAPlantedOwnKey(kind: String) throws {
        let dir = RegistryTempDirectory("planted-own")
        let outside = RegistryTempDirectory("planted-target")
        let registry = DirectoryRegistry(root: dir.path)
        try Posix.makeDirectories(registry.subnetsDirectory)
        let path = registry.subnetsDirectory + "/" + Self.valid.key
        let target = outside.path + "/target"
        switch kind {
        case "loop": #expect(symlink(path, path) == 0)
        case "fifo": #expect(mkfifo(path, 0o644) == 0)
        default:
            let fd = open(target, O_WRONLY | O_CREAT, 0o644)
            #expect(write(fd, "keep me", 7) == 7)
            close(fd)
            #expect(symlink(target, path) == 0)
        }
        let handOff = RegistryHandOff(registry)
        let renewed = Self.bounded(5, fifos: kind == "fifo" ? [path] : []) {
            Result { try handOff.value.renewLease(Self.valid, ttl: 600) }
        }
        #expect(throws: Never.self) { try #require(renewed).get() }
        var st = stat()
        #expect(lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG)
        #expect(try registry.leases().map(\.storedKey) == [Self.valid.key])
        if kind == "link" { #expect(try RegistryFiles.readIfPresent(target) == Array("keep me".utf8)) }
    }

    static func inode(_ path: String) -> UInt {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt(st.st_ino) : 0
    }

    /// Renewal of an unchanged lease moves its expiry on the same file, so the birth time
    /// (the lease's age, which decides between two leases for a subnet) stays the creation's.
    @Test func anUnchangedRenewalKeepsTheFileAndItsAge() throws {
        let dir = RegistryTempDirectory("renew-age")
        let registry = DirectoryRegistry(root: dir.path)
        let path = registry.subnetsDirectory + "/" + Self.valid.key
        #expect(try registry.createLease(Self.valid, ttl: 60))
        let younger = registryTestLease("10.244.2.0/24", "192.168.1.3")
        #expect(try registry.createLease(younger, ttl: 60))
        let created = try registry.leases()
        let inode = Self.inode(path)
        try registry.renewLease(Self.valid, ttl: 6000)
        #expect(Self.inode(path) == inode)
        let renewed = try registry.leases()
        #expect(try #require(renewed.first?.expiration) > registryNow() + 5000)
        #expect(renewed.map(\.creationRank) == created.map(\.creationRank))
        if let first = created[0].creationRank, let second = created[1].creationRank {
            #expect(first <= second)  // created first: not younger
        } else {
            print("no birth times on this filesystem: creationRank is nil")
        }
        // Changed attributes: rewritten (a new file, as before).
        var changed = Self.valid
        changed.backendData = SubnetLease.vxlanBackendData(vni: 1, vtepMAC: MACAddress("aa:bb:cc:dd:ee:99")!)
        try registry.renewLease(changed, ttl: 6000)
        #expect(try registry.leases().first?.vtepMAC == MACAddress("aa:bb:cc:dd:ee:99")!)
    }
}
