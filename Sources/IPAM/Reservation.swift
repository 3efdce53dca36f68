import NetTypes

/// A file in the network directory whose name is an address: that address is taken.
struct Reservation: Sendable {
    /// The name as found, which is what must be removed (it may be spelled differently from
    /// `address.description` if another tool wrote it).
    let fileName: String
    let address: IPAddress
    /// nil when the file is empty: a leftover of a failed write, held by nobody.
    let holder: ReservationHolder?
}
