import Nftables
import CNI

extension Masquerade {
    /// A container interface within one network; GC keeps the ones it is given.
    package typealias Attachment = CNI.Attachment
}

/// Which attachment a masquerade set element belongs to (see `NftElementOwner`).
typealias MasqueradeOwner = NftElementOwner

extension NftElementOwner {
    /// The owner of masquerade elements; errors say "masquerade".
    init(network: String, containerID: String, ifname: String) throws {
        try self.init(network: network, containerID: containerID, ifname: ifname, for: "masquerade")
    }
}
