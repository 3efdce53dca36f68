import CNI
import Glibc
import NetTypes

/// The on-disk state of one network, in the reference plugin's layout so both can share it:
/// `<dataDir>/<network>/lock` (flock), one file per reserved address named by the address,
/// and `last_reserved_ip.<set index>` holding the round-robin cursor of each range set.
///
/// Every method but `locked` assumes the caller holds the lock.
struct HostLocalStore: Sendable {
    let directory: String
    /// `write(2)`; tests replace it to simulate a failing disk.
    var write: @Sendable (Int32, UnsafeRawBufferPointer) -> Int = systemWrite
    /// fsync new reservations and the directory before ADD returns (`ipam.syncReservations`;
    /// off by default, see `docs/crash-safety.md` for why and what it costs).
    var sync = false

    /// Names of the temporaries `StagedReservation` writes: ours, and unlike any name the
    /// reference uses (an address, `lock`, `last_reserved_ip.N`).
    static let temporaryPrefix = ".swift-cni-reserving."

    init(dataDir: String, network: String, sync: Bool = false) {
        directory = (dataDir.hasSuffix("/") ? String(dataDir.dropLast()) : dataDir) + "/" + network
        self.sync = sync
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// Runs `body` with an exclusive flock on `lock`, creating the directory (0755) first.
    /// Closing the descriptor drops the lock, also when `body` throws.
    func locked<T>(_ body: () throws -> T) throws -> T {
        try Posix.makeDirectories(directory, mode: 0o755)
        let lockPath = path("lock")
        let fd = try Posix.open(lockPath, O_RDWR | O_CREAT)
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw Posix.ioError("lock", lockPath) }
        }
        return try body()
    }

    /// The addresses that have a reservation file, without opening any (what allocation
    /// needs; holders are read only where they matter): one directory read and one `stat`
    /// per address. Residue found on the way is reclaimed, see `reclaimCheaply`.
    func reservedAddresses() throws -> Set<IPAddress> {
        let names = try Posix.listDirectory(directory)
        return try reclaimCheaply(names)
    }

    /// Who holds `address`, for error messages; nil when unknown or gone.
    func holder(of address: IPAddress) -> ReservationHolder? {
        guard let content = try? Posix.readFileIfPresent(path(address.description)) else { return nil }
        return ReservationHolder(fileContent: content)
    }

    /// Every file named by an address, with its holder, sorted by address so that errors
    /// and results do not depend on directory order. Entries that vanish or are not
    /// readable files (a directory named like an address) are skipped.
    func reservations() throws -> [Reservation] {
        try reservations(in: Posix.listDirectory(directory))
    }

    /// `reservations()` of a listing the caller already has.
    func reservations(in names: [String]) throws -> [Reservation] {
        try names.compactMap { name -> Reservation? in
            guard let address = IPAddress(name) else { return nil }
            guard let content = try Posix.readFileIfPresent(path(name)) else { return nil }
            return Reservation(fileName: name, address: address, holder: ReservationHolder(fileContent: content))
        }.sorted { $0.address < $1.address }
    }

    func remove(_ reservation: Reservation) throws {
        try Posix.removeFile(path(reservation.fileName))
    }

    private func cursorPath(_ setIndex: Int) -> String { path("last_reserved_ip.\(setIndex)") }

    /// The last address handed out from set `setIndex`; nil if none or unreadable (the
    /// cursor is only a hint: losing it only restarts the walk at the range start).
    func lastReserved(setIndex: Int) -> IPAddress? {
        guard let bytes = try? Posix.readFile(cursorPath(setIndex)) else { return nil }
        return IPAddress(String(decoding: bytes, as: UTF8.self).trimmingWhitespace())
    }

    /// Writes the cursor as the reference does: the address text, no newline.
    ///
    /// Overwritten in place and then cut to length rather than opened with O_TRUNC: on ext4
    /// a truncation to zero frees the old block and marks the file for a flush on close
    /// (auto_da_alloc), which made this one small write ~0.4 ms of every ADD. A torn write
    /// after a crash only costs the hint (an unparsable cursor restarts at the range start).
    func recordLastReserved(_ address: IPAddress, setIndex: Int) throws {
        let filePath = cursorPath(setIndex)
        let fd = try Posix.open(filePath, O_WRONLY | O_CREAT)
        defer { close(fd) }
        let text = Array(address.description.utf8)
        try Posix.writeAll(fd, text, path: filePath, using: write)
        if ftruncate(fd, off_t(text.count)) != 0 { throw Posix.ioError("truncate", filePath) }
    }
}
