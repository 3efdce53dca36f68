import CNI
import Glibc
import NetTypes
import Testing
import TestSupport

@testable import IPAM

@Suite struct StoreTests {
    let dual = #""ranges":[[{"subnet":"10.9.0.0/24"}],[{"subnet":"fd00::/64"}]]"#

    func sortedNames(_ dir: String) throws -> [String] { try Posix.listDirectory(dir).sorted() }

    /// Byte-for-byte what reference host-local 1.1.1 writes (checked by running it).
    @Test func onDiskLayoutMatchesTheReference() throws {
        try withTempDir { dir in
            let a = try allocator(dual, dataDir: dir + "/nested/data")
            _ = try a.allocate(containerID: "c1", ifname: "eth0")
            #expect(a.directory == dir + "/nested/data/net1")
            #expect(try sortedNames(a.directory) == ["10.9.0.2", "fd00::2", "last_reserved_ip.0", "last_reserved_ip.1", "lock"])
            #expect(fileBytes(a.directory + "/10.9.0.2") == Array("c1\r\neth0".utf8))
            #expect(fileBytes(a.directory + "/fd00::2") == Array("c1\r\neth0".utf8))
            #expect(fileText(a.directory + "/last_reserved_ip.0") == "10.9.0.2")
            #expect(fileText(a.directory + "/last_reserved_ip.1") == "fd00::2")
            var st = stat()
            #expect(stat(a.directory, &st) == 0)
            #expect(st.st_mode & 0o7777 == 0o755 & ~currentUmask())
            #expect(stat(a.directory + "/10.9.0.2", &st) == 0)
            #expect(st.st_mode & 0o7777 == 0o644 & ~currentUmask())
        }
    }

    /// The cursor is overwritten in place: a shorter address must not keep the old tail.
    @Test func cursorRewriteLeavesOnlyTheNewAddress() throws {
        try withTempDir { dir in
            let store = HostLocalStore(dataDir: dir, network: "net1")
            try Posix.makeDirectories(store.directory, mode: 0o755)
            try store.recordLastReserved(IPAddress("10.9.0.254")!, setIndex: 0)
            try store.recordLastReserved(IPAddress("10.9.0.3")!, setIndex: 0)
            #expect(fileText(store.directory + "/last_reserved_ip.0") == "10.9.0.3")
            #expect(store.lastReserved(setIndex: 0) == IPAddress("10.9.0.3"))
            try store.recordLastReserved(IPAddress("fd00::1234")!, setIndex: 0)
            #expect(fileText(store.directory + "/last_reserved_ip.0") == "fd00::1234")
        }
    }

    @Test func releaseRemovesOnlyThatAttachment() throws {
        try withTempDir { dir in
            let a = try allocator(dual, dataDir: dir)
            _ = try a.allocate(containerID: "c1", ifname: "eth0")
            _ = try a.allocate(containerID: "c1", ifname: "eth1")
            #expect(try a.release(containerID: "c1", ifname: "eth0") == [ip("10.9.0.2"), ip("fd00::2")])
            #expect(try a.release(containerID: "c1", ifname: "eth0") == [])  // repeatable
            #expect(try a.addresses(containerID: "c1", ifname: "eth1") == [ip("10.9.0.3"), ip("fd00::3")])
            #expect(try sortedNames(a.directory) == ["10.9.0.3", "fd00::3", "last_reserved_ip.0", "last_reserved_ip.1", "lock"])
        }
    }

    /// Files from old reference versions hold only the container ID (maybe with a newline).
    @Test func oldFormatFilesAreFoundAndReleased() throws {
        try withTempDir { dir in
            let a = try allocator(dual, dataDir: dir)
            try seed(a, ["10.9.0.7": "old1\n", "10.9.0.8": "other\r\neth0"])
            #expect(try a.addresses(containerID: "old1", ifname: "eth0") == [ip("10.9.0.7")])
            #expect(thrownError { _ = try a.allocate(containerID: "old1", ifname: "eth0") }?.kind == .failed)
            let taken = thrownError { _ = try a.allocate(containerID: "x", ifname: "eth0", requested: [ip("10.9.0.7")]) }
            #expect(taken?.message == "requested IP 10.9.0.7 already allocated to container old1")
            #expect(try a.release(containerID: "old1", ifname: "eth0") == [ip("10.9.0.7")])
            #expect(fileText(a.directory + "/10.9.0.8") == "other\r\neth0")
        }
    }

    /// Like the reference, old-format files are the fallback: a container that has
    /// current-format files keeps its old ones when one interface is released.
    @Test func oldFormatOnlyReleasedWhenNoCurrentMatch() throws {
        try withTempDir { dir in
            let a = try allocator(dual, dataDir: dir)
            try seed(a, ["10.9.0.7": "c1", "10.9.0.8": "c1\r\neth0"])
            #expect(try a.release(containerID: "c1", ifname: "eth0") == [ip("10.9.0.8")])
            #expect(try a.release(containerID: "c1", ifname: "eth0") == [ip("10.9.0.7")])
        }
    }

    @Test func garbageCollectKeepsValidAttachmentsOnly() throws {
        try withTempDir { dir in
            let a = try allocator(dual, dataDir: dir)
            _ = try a.allocate(containerID: "keep", ifname: "eth0")
            _ = try a.allocate(containerID: "gone", ifname: "eth0")
            _ = try a.allocate(containerID: "keep", ifname: "eth1")
            try seed(a, [
                "10.9.0.100": "keep",  // old format, container kept
                "10.9.0.101": "gone",  // old format, container gone
                "10.9.0.102": "",  // leftover empty file
                "not-an-ip": "gone\r\neth0",  // foreign file
                HostLocalStore.temporaryPrefix + "4242": "gone\r\neth0",  // a killed ADD's temporary
            ])
            let released = try a.garbageCollect(keeping: [Attachment(containerID: "keep", ifname: "eth0")])
            #expect(released == [ip("10.9.0.3"), ip("10.9.0.4"), ip("10.9.0.101"), ip("10.9.0.102"), ip("fd00::3"), ip("fd00::4")])
            #expect(try sortedNames(a.directory) == [
                "10.9.0.100", "10.9.0.2", "fd00::2", "last_reserved_ip.0", "last_reserved_ip.1", "lock", "not-an-ip",
            ])
        }
    }

    @Test func failedWriteLeavesNoFileAndNoReservation() throws {
        try withTempDir { dir in
            var a = try allocator(dual, dataDir: dir)
            a.store.write = { _, _ in errno = ENOSPC; return -1 }
            let error = thrownError { _ = try a.allocate(containerID: "c1", ifname: "eth0") }
            #expect(error?.kind == .io)
            // The temporary's name ends in random digits (Posix.createUniqueFile).
            #expect(error?.message.hasPrefix("cannot write \(a.directory)/\(HostLocalStore.temporaryPrefix)") == true)
            #expect(error?.message.hasSuffix(": \(String(cString: strerror(ENOSPC)))") == true)
            #expect(try sortedNames(a.directory) == ["lock"])
        }
    }

    @Test func shortWritesAreCompleted() throws {
        try withTempDir { dir in
            var a = try allocator(dual, dataDir: dir)
            a.store.write = { fd, buffer in systemWrite(fd, UnsafeRawBufferPointer(rebasing: buffer.prefix(1))) }
            _ = try a.allocate(containerID: "c1", ifname: "eth0")
            #expect(fileText(a.directory + "/fd00::2") == "c1\r\neth0")
            #expect(fileText(a.directory + "/last_reserved_ip.1") == "fd00::2")
        }
    }

    /// A failure in the second set must undo the first set too.
    @Test func failedCursorWriteUndoesTheReservation() throws {
        try withTempDir { dir in
            var a = try allocator(dual, dataDir: dir)
            let calls = Slots<Int>(1)
            a.store.write = { fd, buffer in
                calls[0] = (calls[0] ?? 0) + 1
                // 1: the staged holder line (linked to both addresses), 2: cursor 0, 3: cursor 1 fails.
                if calls[0] == 3 { errno = EIO; return -1 }
                return systemWrite(fd, buffer)
            }
            let error = thrownError { _ = try a.allocate(containerID: "c1", ifname: "eth0") }
            #expect(error?.kind == .io)
            #expect(error?.message.contains("last_reserved_ip.1") == true)
            #expect(try sortedNames(a.directory) == ["last_reserved_ip.0", "last_reserved_ip.1", "lock"])
        }
    }

    @Test func unusableDataDirIsAnIOErrorNamingThePath() throws {
        try withTempDir { dir in
            try writeFile(dir + "/file", "x")
            let a = try allocator(dual, dataDir: dir + "/file")
            let error = thrownError { _ = try a.allocate(containerID: "c1", ifname: "eth0") }
            #expect(error?.kind == .io)
            #expect(error?.message.contains(dir + "/file/net1") == true, "\(String(describing: error))")
        }
    }

    @Test func statusCountsForeignAndEmptyFilesAsTaken() throws {
        try withTempDir { dir in
            let a = try allocator(#""ranges":[[{"subnet":"10.9.0.0/29"}]]"#, dataDir: dir)
            try seed(a, ["10.9.0.2": "x\r\neth0", "10.9.0.3": "x", "10.9.0.4": "y\r\neth1", "10.9.0.5": "z"])
            #expect(try a.hasFreeAddress() == [true])
            try seed(a, ["10.9.0.6": ""])
            #expect(try a.hasFreeAddress() == [false])
        }
    }
}

/// The process umask, read from /proc rather than by calling umask(2), which would change it
/// for a moment under tests running in parallel.
func currentUmask() -> mode_t {
    let status = fileText("/proc/self/status") ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
    return line.flatMap { mode_t($0.dropFirst(6).trimmingPrefix(while: \.isWhitespace), radix: 8) } ?? 0o022
}
