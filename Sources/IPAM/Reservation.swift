import NetTypes

/// An entry in the network directory whose name is an address: that address is taken.
struct Reservation: Sendable {
    /// The name as found, which is what must be removed (it may be spelled differently from
    /// `address.description` if another tool wrote it).
    let fileName: String
    let address: IPAddress
    /// nil when nobody holds it: the file is empty or unparsable (a leftover of a failed
    /// write), or it is no readable reservation at all (`refusal`).
    let holder: ReservationHolder?
    /// Why the entry was not read, when it is no regular file (a planted symlink, FIFO,
    /// socket, device or directory) or is larger than any reservation can be. Such an entry
    /// keeps its address taken and is never removed: it is not residue of a writer, and
    /// removing what someone else put there is not the plugin's call.
    var refusal: String? = nil

    /// Residue of a writer that died (empty or unparsable): whoever holds the lock removes it.
    var isHolderless: Bool { holder == nil && refusal == nil }
}
