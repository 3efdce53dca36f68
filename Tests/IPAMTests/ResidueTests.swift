import CNI
import Glibc
import NetTypes
import Testing
import TestSupport

@testable import IPAM

/// Crash safety of the store (issue 9 part 1): a reservation file is never visible without
/// its holder, and what dead writers left is reclaimed by whoever next holds the lock, while
/// every reservation that names a holder survives.
@Suite struct ResidueTests {
    let dual = #""ranges":[[{"subnet":"10.9.0.0/24"}],[{"subnet":"fd00::/64"}]]"#
    let small = #""ranges":[[{"subnet":"10.9.0.0/29"}]]"#

    func names(_ dir: String) throws -> [String] { try Posix.listDirectory(dir).sorted() }
    var temp: String { HostLocalStore.temporaryPrefix + "31337" }

    /// While the holder's line is being written (where a kill used to leave an empty file),
    /// no file named by an address exists yet.
    @Test func noReservationIsVisibleWhileItsHolderIsWritten() throws {
        try withTempDir { dir in
            var a = try allocator(dual, dataDir: dir)
            let seen = Slots<[String]>(1)
            let directory = a.directory
            a.store.write = { fd, buffer in
                if seen[0] == nil { seen[0] = (try? Posix.listDirectory(directory)) ?? ["unreadable"] }
                return systemWrite(fd, buffer)
            }
            _ = try a.allocate(containerID: "c1", ifname: "eth0", knownNew: true)
            let during = try #require(seen[0])
            #expect(!during.contains { IPAddress($0) != nil }, "\(during)")
            #expect(fileText(a.directory + "/10.9.0.2") == "c1\r\neth0")
            #expect(fileText(a.directory + "/fd00::2") == "c1\r\neth0")
            #expect(!(try names(a.directory)).contains { HostLocalStore.isTemporary($0) })
        }
    }

    /// The temporary's name is none the reference reads: no address, not `lock`, not a cursor.
    @Test func temporaryNameIsNoReferenceName() {
        #expect(IPAddress(temp) == nil)
        #expect(temp != "lock" && !temp.hasPrefix("last_reserved_ip"))
        #expect(HostLocalStore.isTemporary(temp) && !HostLocalStore.isTemporary("10.9.0.2"))
    }

    /// The bridge's path (knownNew: names and one stat each, no file read) reclaims empty
    /// files and temporaries, so the next ADD hands the empty file's address out again.
    @Test func allocationReclaimsEmptyFilesAndTemporaries() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            try seed(a, ["10.9.0.2": "", temp: "dead\r\neth0", "10.9.0.3": "live\r\neth0"])
            let got = try a.allocate(containerID: "c1", ifname: "eth0", knownNew: true)
            #expect(got.map(\.address.address) == [ip("10.9.0.2")])
            #expect(try names(a.directory) == ["10.9.0.2", "10.9.0.3", "last_reserved_ip.0", "lock"])
            #expect(fileText(a.directory + "/10.9.0.3") == "live\r\neth0")
        }
    }

    /// host-local's own ADD reads every file anyway: unparsable ones go too (NULs of a power
    /// loss, invalid UTF-8), every file naming a holder stays, whatever its format.
    @Test func fullScanReclaimsUnparsableFilesOnly() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            try seed(a, ["10.9.0.2": "\0\0\0\0\0\0\0\0", "10.9.0.3": "old-format\n", "10.9.0.4": " \r\n ",
                         "10.9.0.5": "live\r\neth1"])
            try writeBytes(a.directory + "/10.9.0.6", [0x63, 0xff, 0xfe, 0x0d, 0x0a, 0x65])
            let got = try a.allocate(containerID: "c1", ifname: "eth0")
            #expect(got.map(\.address.address) == [ip("10.9.0.2")])
            #expect(try names(a.directory) == ["10.9.0.2", "10.9.0.3", "10.9.0.5", "last_reserved_ip.0", "lock"])
            #expect(try a.addresses(containerID: "old-format", ifname: "eth0") == [ip("10.9.0.3")])
            #expect(try a.addresses(containerID: "live", ifname: "eth1") == [ip("10.9.0.5")])
        }
    }

    /// The runtime's DEL after an ADD killed anywhere: the attachment's files and every
    /// residue go, other holders stay.
    @Test func releaseLeavesNoResidue() throws {
        try withTempDir { dir in
            let a = try allocator(dual, dataDir: dir)
            _ = try a.allocate(containerID: "c1", ifname: "eth0", knownNew: true)
            _ = try a.allocate(containerID: "c2", ifname: "eth0", knownNew: true)
            // Killed after linking, before removing its temporary; and a reference ADD killed
            // between create and write.
            try seed(a, [temp: "c1\r\neth0", "10.9.0.9": ""])
            #expect(try a.release(containerID: "c1", ifname: "eth0") == [ip("10.9.0.2"), ip("fd00::2")])
            #expect(try names(a.directory) == ["10.9.0.3", "fd00::3", "last_reserved_ip.0", "last_reserved_ip.1", "lock"])
        }
    }

    /// link(2) refuses a taken address atomically and leaves the holder's file as it was.
    @Test func takenAddressIsRefusedAndUntouched() throws {
        try withTempDir { dir in
            let a = try allocator(small, dataDir: dir)
            try seed(a, ["10.9.0.4": "other\r\neth0"])
            let error = thrownError { _ = try a.allocate(containerID: "c1", ifname: "eth0", requested: [ip("10.9.0.4")], knownNew: true) }
            #expect(error?.message == "requested IP 10.9.0.4 already allocated to container other interface eth0")
            #expect(fileText(a.directory + "/10.9.0.4") == "other\r\neth0")
            #expect(try names(a.directory) == ["10.9.0.4", "lock"])
        }
    }

    /// A writer that ignores the lock took the next address after the listing: skipped.
    @Test func addressTakenAfterTheListingIsSkipped() throws {
        try withTempDir { dir in
            var a = try allocator(small, dataDir: dir)
            let directory = a.directory
            a.store.write = { fd, buffer in
                // While staging: an intruder takes 10.9.0.2 under our feet.
                if access(directory + "/10.9.0.2", F_OK) != 0 { try? writeFile(directory + "/10.9.0.2", "intruder\r\neth0") }
                return systemWrite(fd, buffer)
            }
            let got = try a.allocate(containerID: "c1", ifname: "eth0", knownNew: true)
            #expect(got.map(\.address.address) == [ip("10.9.0.3")])
            #expect(fileText(a.directory + "/10.9.0.2") == "intruder\r\neth0")
        }
    }

    /// `syncReservations` takes the fsync path (file and directory) with the same result.
    @Test func syncedAllocationWritesTheSameFiles() throws {
        try withTempDir { dir in
            let a = try allocator(small + #","syncReservations":true"#, dataDir: dir)
            #expect(a.config.syncReservations && a.store.sync)
            _ = try a.allocate(containerID: "c1", ifname: "eth0", knownNew: true)
            #expect(try names(a.directory) == ["10.9.0.2", "last_reserved_ip.0", "lock"])
            #expect(fileText(a.directory + "/10.9.0.2") == "c1\r\neth0")
            #expect(try !allocator(small, dataDir: dir).config.syncReservations)
            #expect(thrownError { _ = try allocator(small + #","syncReservations":"yes""#, dataDir: dir) }?.kind == .decode)
        }
    }

    @Test func holderParsing() {
        #expect(ReservationHolder(fileContent: Array("c1\r\neth0".utf8)) == .attachment(Attachment(containerID: "c1", ifname: "eth0")))
        #expect(ReservationHolder(fileContent: Array("c1\n".utf8)) == .containerOnly("c1"))
        #expect(ReservationHolder(fileContent: []) == nil)
        #expect(ReservationHolder(fileContent: Array(" \r\n\t".utf8)) == nil)
        #expect(ReservationHolder(fileContent: [0x63, 0x31, 0x00]) == nil)
        #expect(ReservationHolder(fileContent: [0x63, 0x31, 0xc3]) == nil)
        #expect(ReservationHolder(fileContent: [0x63, 0x31, 0x1b]) == nil)
    }
}

func writeBytes(_ path: String, _ bytes: [UInt8]) throws {
    let fd = try Posix.open(path, O_WRONLY | O_CREAT | O_TRUNC)
    defer { close(fd) }
    try Posix.writeAll(fd, bytes, path: path, using: systemWrite)
}
