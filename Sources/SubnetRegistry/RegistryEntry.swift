/// What a registry holds under one stored key, as read: a lease, nothing, or something
/// that is not a readable lease (reported, never an error of the listing).
enum RegistryEntry {
    /// A lease, with its stored key, creation rank and (directory registry) expiry.
    case lease(SubnetLease)
    /// Nothing (any more).
    case absent
    /// Something that is not a readable lease.
    case unreadable(RejectedLease)
}
