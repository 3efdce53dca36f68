import CNI
import Glibc
import NetTypes

/// The holder's line, written once to a temporary file in the network directory and then
/// hard-linked to each address it reserves: a reservation file therefore appears complete or
/// not at all, and a process killed at any moment leaves no empty reservation that nobody
/// could claim (the reference's plugins#498). `link(2)` fails with EEXIST when the address is
/// taken, atomically, as `O_EXCL` did; `rename(2)` would silently replace the other holder.
///
/// The temporary's name (`HostLocalStore.temporaryPrefix` + random digits) is a dot file that
/// is no address, not `lock` and not `last_reserved_ip.*`, so neither we nor the reference
/// ever take it for a reservation; it only exists while its writer holds the store's lock,
/// so whoever holds the lock and finds one knows its writer died
/// (`HostLocalStore.removeTemporaries`). It is created `O_EXCL | O_NOFOLLOW` under a name
/// nobody can guess, so a symlink planted at a temporary's name is never written through.
struct StagedReservation {
    let store: HostLocalStore
    let path: String

    /// Writes the holder's line for `attachment` (and flushes it to disk when `sync`).
    /// A failed write removes the temporary again. Caller holds the store's lock.
    init(in store: HostLocalStore, for attachment: Attachment, sync: Bool) throws {
        self.store = store
        let fd: Int32
        (fd, path) = try Posix.createUniqueFile(prefix: store.path(HostLocalStore.temporaryPrefix))
        do {
            try Posix.writeAll(fd, ReservationHolder.fileContent(for: attachment), path: path, using: store.write)
            if sync && fsync(fd) != 0 { throw Posix.ioError("sync", path) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        if close(fd) != 0 {
            let error = Posix.ioError("close", path)
            unlink(path)
            throw error
        }
    }

    /// Links the staged file as the reservation of `address`; false if that is taken.
    func place(at address: IPAddress) throws -> Bool {
        let target = store.path(address.description)
        if link(path, target) == 0 { return true }
        if errno == EEXIST { return false }
        throw Posix.ioError("create reservation file", target)
    }

    /// Removes the temporary (the reservations linked from it stay).
    func discard() { unlink(path) }
}
