import CNI

extension Masquerade {
    /// A container interface within one network; GC keeps the ones it is given.
    public typealias Attachment = CNI.Attachment
}

/// Which attachment a masquerade set element belongs to, written as the element's nft comment
/// `<network>/<containerID>/<ifname>`.
///
/// The comment is the only ownership record: DEL must find the elements after the container's
/// namespace is gone and without a prevResult (the leak in reference plugins#810), and GC must
/// tell stale elements from live ones. The parts are spliced into an nft script, so only a
/// safe charset is accepted — no quote, space, semicolon or newline can reach the script.
struct MasqueradeOwner: Hashable, Sendable, CustomStringConvertible {
    let network: String
    let attachment: Masquerade.Attachment

    /// nft refuses longer comments (NFTNL_UDATA_COMMENT_MAXLEN).
    static let maximumCommentLength = 128

    init(network: String, containerID: String, ifname: String) throws {
        try Self.check(network, "network name", .invalidConfig)
        try Self.check(containerID, "container ID", .invalidEnvironment)
        try Self.check(ifname, "interface name", .invalidEnvironment)
        self.network = network
        self.attachment = Masquerade.Attachment(containerID: containerID, ifname: ifname)
        guard comment.utf8.count <= Self.maximumCommentLength else {
            throw PluginError(.invalidConfig, "cannot masquerade for \(comment)",
                              details: "network/containerID/ifname is longer than nft's \(Self.maximumCommentLength)-character comment limit")
        }
    }

    /// Parses a comment we wrote; nil for anything else (elements someone else added).
    init?(comment: String) {
        let parts = comment.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let parsed = try? MasqueradeOwner(
            network: String(parts[0]), containerID: String(parts[1]), ifname: String(parts[2])
        ) else { return nil }
        self = parsed
    }

    /// The element comment; safe to place between double quotes in an nft script.
    var comment: String { "\(network)/\(attachment.containerID)/\(attachment.ifname)" }

    var description: String { comment }

    private static func check(_ value: String, _ what: String, _ kind: PluginError.Kind) throws {
        guard !value.isEmpty, value.utf8.allSatisfy(isSafe) else {
            throw PluginError(kind, "invalid \(what) \"\(value)\" for masquerade",
                              details: "only letters, digits, '.', '_' and '-' are allowed")
        }
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
