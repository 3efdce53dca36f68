import Glibc
import NetNS
import Testing

@testable import Attach

/// The container namespace is entered on the calling thread (no thread per entry): the
/// socket must land in the container, and the thread must be back where it was afterwards,
/// also when the work inside throws.
@Suite(.enabled(if: geteuid() == 0 && access("/usr/sbin/ip", X_OK) == 0))
struct ContainerNamespaceTests {
    /// `fst-<pid>-<n>` with a veth pair only it has; deleted by the caller's `defer`.
    func makeNamespace() throws -> String {
        let name = "fst-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try #require(system("/usr/sbin/ip netns add \(name)") == 0)
        guard system("/usr/sbin/ip -n \(name) link add fstveth0 type veth peer name fstveth1") == 0 else {
            // The caller's `defer` is not set up yet: remove it here.
            _ = system("/usr/sbin/ip netns del \(name)")
            throw NamespaceSetupFailed()
        }
        return name
    }

    struct NamespaceSetupFailed: Error {}

    func threadNamespaceInode() -> UInt {
        var s = stat()
        return stat("/proc/thread-self/ns/net", &s) == 0 ? UInt(s.st_ino) : 0
    }

    @Test func socketIsInsideAndThreadComesBack() throws {
        let name = try makeNamespace()
        defer { _ = system("/usr/sbin/ip netns del \(name)") }
        let before = threadNamespaceInode()
        let container = try ContainerNamespace(path: "/run/netns/\(name)")
        #expect(threadNamespaceInode() == before)
        #expect(try container.socket.link(named: "fstveth0") != nil)
    }

    @Test func threadComesBackWhenTheBodyThrows() throws {
        struct Boom: Error {}
        let name = try makeNamespace()
        defer { _ = system("/usr/sbin/ip netns del \(name)") }
        let before = threadNamespaceInode()
        let namespace = try NetworkNamespace(path: "/run/netns/\(name)")
        #expect(throws: Boom.self) {
            try namespace.runOnCallingThread {
                #expect(threadNamespaceInode() != before)
                throw Boom()
            }
        }
        #expect(threadNamespaceInode() == before)
    }
}
