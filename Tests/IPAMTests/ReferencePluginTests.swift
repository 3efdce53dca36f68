import CNI
import Glibc
import NetTypes
import Testing
import TestSupport

@testable import IPAM

let referencePlugin = "/usr/lib/cni/host-local"

/// Side by side with the reference host-local (containernetworking/plugins 1.1.1) on one
/// data directory: what one writes the other must read, and their locks must exclude.
@Suite(.enabled(if: access(referencePlugin, X_OK) == 0, "reference host-local not installed"))
struct ReferencePluginTests {

    func networkConfig(_ dir: String) -> String {
        #"{"cniVersion":"0.4.0","name":"net1","type":"bridge","ipam":{"type":"host-local","dataDir":"\#(dir)","ranges":[[{"subnet":"10.9.0.0/24"}],[{"subnet":"fd00::/120"}]]}}"#
    }

    func reference(_ command: String, _ id: String, _ dir: String) throws -> ChildProcessOutput {
        try ChildProcess.run(
            referencePlugin,
            environment: [
                "CNI_COMMAND=\(command)", "CNI_CONTAINERID=\(id)", "CNI_IFNAME=eth0",
                "CNI_NETNS=/proc/self/ns/net", "CNI_PATH=/usr/lib/cni",
            ],
            stdin: Array(networkConfig(dir).utf8))
    }

    @Test func eachReadsWhatTheOtherWrote() throws {
        try withTempDir { dir in
            let ours = HostLocalAllocator(config: try HostLocalConfig(networkConfig: Array(networkConfig(dir).utf8)))
            #expect(try reference("ADD", "ref1", dir).succeeded)
            // Ours continues the reference's round-robin cursor and sees its reservation.
            #expect(try ours.allocate(containerID: "c1", ifname: "eth0").map(\.address.description) == ["10.9.0.3/24", "fd00::3/120"])
            #expect(try ours.addresses(containerID: "ref1", ifname: "eth0") == [ip("10.9.0.2"), ip("fd00::2")])
            // And the reference continues ours.
            #expect(try reference("ADD", "ref2", dir).succeeded)
            #expect(fileText(ours.directory + "/10.9.0.4") == "ref2\r\neth0")
            #expect(fileText(ours.directory + "/fd00::4") == "ref2\r\neth0")
            // Releases cross over both ways.
            #expect(try ours.release(containerID: "ref1", ifname: "eth0") == [ip("10.9.0.2"), ip("fd00::2")])
            #expect(try reference("DEL", "c1", dir).succeeded)
            #expect(try ours.garbageCollect(keeping: []) == [ip("10.9.0.4"), ip("fd00::4")])
            #expect(try Posix.listDirectory(ours.directory).sorted() == ["last_reserved_ip.0", "last_reserved_ip.1", "lock"])
        }
    }

    /// 16 reference processes and 16 of our callers at once: 32 distinct addresses per set.
    @Test func mixedConcurrentAllocationsAreDistinct() throws {
        try withTempDir { dir in
            let config = try HostLocalConfig(networkConfig: Array(networkConfig(dir).utf8))
            let failures = Slots<String>(32)
            runOnThreads(32) { i in
                do {
                    if i % 2 == 0 {
                        let output = try reference("ADD", "c\(i)", dir)
                        if !output.succeeded { failures[i] = String(decoding: output.stdout, as: UTF8.self) }
                    } else {
                        _ = try HostLocalAllocator(config: config).allocate(containerID: "c\(i)", ifname: "eth0")
                    }
                } catch {
                    failures[i] = "\(error)"
                }
            }
            #expect(failures.all.compactMap { $0 } == [])
            let reservations = try HostLocalStore(dataDir: dir, network: "net1").reservations()
            #expect(reservations.count == 64)
            let holders = reservations.compactMap { $0.holder?.containerID }
            #expect(Set(holders).count == 32)
            #expect(holders.count == 64)
        }
    }
}
