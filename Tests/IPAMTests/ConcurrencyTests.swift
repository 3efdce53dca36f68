import CNI
import Glibc
import NetTypes
import Testing
import TestSupport

@testable import IPAM

@Suite struct ConcurrencyTests {
    /// 32 callers at once, each with its own allocator and so its own lock descriptor (flock
    /// excludes descriptors, not processes): 32 distinct addresses, 32 files.
    @Test func thirtyTwoConcurrentAllocationsAreDistinct() throws {
        try withTempDir { dir in
            let config = try config(#""ranges":[[{"subnet":"10.9.0.0/24"}],[{"subnet":"fd00::/120"}]]"#, dataDir: dir)
            let results = Slots<Result<[Allocation], PluginError>>(32)
            runOnThreads(32) { i in
                results[i] = Result { () throws(PluginError) in
                    do { return try HostLocalAllocator(config: config).allocate(containerID: "c\(i)", ifname: "eth0") }
                    catch let error as PluginError { throw error }
                    catch { throw PluginError(.failed, "\(error)") }
                }
            }
            let allocations = try results.all.map { try #require($0).get() }
            for set in 0..<2 {
                #expect(Set(allocations.map { $0[set].address }).count == 32)
            }
            let files = try Posix.listDirectory(dir + "/net1").filter { IPAddress($0) != nil }
            #expect(files.count == 64)
        }
    }
}

extension ConcurrencyTests {
    /// An allocation waits while another holder has the lock (O_EXCL alone would keep the
    /// addresses distinct; the lock is what makes the duplicate check and cursor consistent).
    @Test func allocationWaitsForTheLock() throws {
        try withTempDir { dir in
            let a = try allocator(#""subnet":"10.9.0.0/24""#, dataDir: dir)
            let state = Slots<Bool>(2)  // 0: holder inside the lock, 1: holder has left
            runOnThreads(2) { i in
                if i == 0 {
                    _ = try? a.store.locked {
                        state[0] = true
                        usleep(200_000)
                        state[1] = true
                    }
                } else {
                    while state[0] != true { usleep(1000) }
                    _ = try? a.allocate(containerID: "c1", ifname: "eth0")
                    #expect(state[1] == true)
                }
            }
            #expect(try a.addresses(containerID: "c1", ifname: "eth0") == [ip("10.9.0.2")])
        }
    }
}
