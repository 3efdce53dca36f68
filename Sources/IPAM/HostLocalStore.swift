import CNI
import Glibc
import NetTypes

/// The on-disk state of one network, in the reference plugin's layout so both can share it:
/// `<dataDir>/<network>/lock` (flock), one file per reserved address named by the address,
/// and `last_reserved_ip.<set index>` holding the round-robin cursor of each range set.
///
/// Every method but `locked` assumes the caller holds the lock.
///
/// Anyone who can write the directory (a runtime, an operator, another tenant's tooling) can
/// plant entries in it, so every file is opened without following a final symlink, without
/// blocking, as a regular file only, and read up to a bound (`Posix.openUntrusted`). An entry
/// named like an address that is not a readable reservation (a symlink, FIFO, socket,
/// device, directory, or a file over `reservationLimit`) is set aside, not an error: its
/// address counts as taken (the reference's `O_EXCL` create, like our `link`, fails on any
/// existing entry, so handing it out would collide), nobody holds it, and it is never
/// removed (it is not a reservation anyone here wrote); ADD, DEL, CHECK and GC go on around
/// it. See `Reservation.refusal`.
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

    /// The largest reservation file read. A holder line is "containerID CR LF ifname": the
    /// ID comes from CNI_CONTAINERID, an environment variable, which Linux caps at
    /// MAX_ARG_STRLEN (128 KiB), and an interface name has at most 15 bytes; so no writer,
    /// ours or the reference's, can write a larger one, and a larger file was planted.
    static let reservationLimit = 128 * 1024 + 64

    /// The largest cursor file read: it holds one address's text (at most 45 bytes).
    static let cursorLimit = 256

    init(dataDir: String, network: String, sync: Bool = false) {
        directory = (dataDir.hasSuffix("/") ? String(dataDir.dropLast()) : dataDir) + "/" + network
        self.sync = sync
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// Runs `body` with an exclusive flock on `lock`, creating the directory (0755) first.
    /// Closing the descriptor drops the lock, also when `body` throws.
    ///
    /// A `lock` that is not a regular file (a planted symlink, FIFO...) is refused with an
    /// `.io` error naming it: replacing it could split the lock from a reference plugin that
    /// follows the link, and following it could create or lock a file elsewhere.
    func locked<T>(_ body: () throws -> T) throws -> T {
        try Posix.makeDirectories(directory, mode: 0o755)
        let lockPath = path("lock")
        guard let fd = try Posix.openRegularFile(lockPath, O_RDWR | O_CREAT) else {
            throw Posix.ioError("open", lockPath, ENOENT)  // the directory vanished
        }
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

    /// Who holds `address`, for error messages: "container ... interface ...", or what
    /// the entry is when it is no reservation; nil when unknown or gone.
    func holderDescription(of address: IPAddress) -> String? {
        switch try? reservation(named: address.description, address: address) {
        case let reservation?:
            if let refusal = reservation.refusal { return "an entry that is no reservation (\(refusal))" }
            return reservation.holder?.description
        default: return nil
        }
    }

    /// Every entry named by an address, with its holder, sorted by address so that errors
    /// and results do not depend on directory order. Entries that vanish are skipped;
    /// entries that are no readable reservation are kept with their `refusal`.
    func reservations() throws -> [Reservation] {
        try reservations(in: Posix.listDirectory(directory))
    }

    /// `reservations()` of a listing the caller already has.
    func reservations(in names: [String]) throws -> [Reservation] {
        try names.compactMap { name -> Reservation? in
            guard let address = IPAddress(name) else { return nil }
            return try reservation(named: name, address: address)
        }.sorted { $0.address < $1.address }
    }

    /// The entry `name` (which names `address`); nil when it is gone.
    private func reservation(named name: String, address: IPAddress) throws -> Reservation? {
        switch try Posix.readUntrusted(path(name), limit: Self.reservationLimit) {
        case .regular(let content):
            return Reservation(fileName: name, address: address, holder: ReservationHolder(fileContent: content))
        case .missing:
            return nil
        case .refused(let error):
            return Reservation(fileName: name, address: address, holder: nil, refusal: error.message)
        }
    }

    func remove(_ reservation: Reservation) throws {
        try Posix.removeFile(path(reservation.fileName))
    }

    private func cursorPath(_ setIndex: Int) -> String { path("last_reserved_ip.\(setIndex)") }

    /// The last address handed out from set `setIndex`; nil if none or unreadable, also
    /// when it is no regular file or too large (the cursor is only a hint: losing it only
    /// restarts the walk at the range start).
    func lastReserved(setIndex: Int) -> IPAddress? {
        guard let bytes = try? Posix.readRegularFile(cursorPath(setIndex), limit: Self.cursorLimit) else { return nil }
        return IPAddress(String(decoding: bytes, as: UTF8.self).trimmingWhitespace())
    }

    /// Writes the cursor as the reference does: the address text, no newline.
    ///
    /// Overwritten in place and then cut to length rather than opened with O_TRUNC: on ext4
    /// a truncation to zero frees the old block and marks the file for a flush on close
    /// (auto_da_alloc), which made this one small write ~0.4 ms of every ADD. A torn write
    /// after a crash only costs the hint (an unparsable cursor restarts at the range start).
    ///
    /// The name is the store's own: anything planted there that is no regular file (a
    /// symlink, whose target the reference's `os.WriteFile` would truncate, a FIFO...) is
    /// removed and the cursor created afresh, never written through. A directory there
    /// cannot be removed: the ADD fails naming it, as the reference's does.
    func recordLastReserved(_ address: IPAddress, setIndex: Int) throws {
        let filePath = cursorPath(setIndex)
        let fd: Int32
        switch try Posix.openUntrusted(filePath, O_WRONLY | O_CREAT) {
        case .regular(let opened):
            fd = opened
        case .missing:
            throw Posix.ioError("open", filePath, ENOENT)  // the directory vanished
        case .refused(let error):
            if unlink(filePath) != 0 && errno != ENOENT {
                throw PluginError(.io, "\(error.message); cannot remove it: \(Posix.errorText(errno))")
            }
            fd = try Posix.open(filePath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)
        }
        defer { close(fd) }
        let text = Array(address.description.utf8)
        try Posix.writeAll(fd, text, path: filePath, using: write)
        if ftruncate(fd, off_t(text.count)) != 0 { throw Posix.ioError("truncate", filePath) }
    }
}
