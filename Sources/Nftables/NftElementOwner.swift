import CNI

/// Which attachment an element of one of our nft sets belongs to, written as the element's
/// comment `<network>/<containerID>/<ifname>`.
///
/// The comment is the only ownership record: DEL must find the elements after the container's
/// namespace is gone and without a prevResult (the leak in reference plugins#810), and GC must
/// tell stale elements from live ones. Masquerade and the MAC spoof check use the same scheme,
/// so one attachment is recognisable in every table. The parts are spliced into an nft script,
/// so only a safe charset is accepted — no quote, space, semicolon or newline can reach it.
package struct NftElementOwner: Hashable, Sendable, CustomStringConvertible {
    let network: String
    let attachment: Attachment

    /// nft refuses longer comments (NFTNL_UDATA_COMMENT_MAXLEN).
    static let maximumCommentLength = 128

    /// `purpose` ("masquerade", "MAC spoof check") only words the errors.
    package init(network: String, containerID: String, ifname: String, for purpose: String) throws {
        try Self.check(network, "network name", .invalidConfig, purpose)
        try Self.check(containerID, "container ID", .invalidEnvironment, purpose)
        try Self.check(ifname, "interface name", .invalidEnvironment, purpose)
        self.network = network
        self.attachment = Attachment(containerID: containerID, ifname: ifname)
        guard comment.utf8.count <= Self.maximumCommentLength else {
            throw PluginError(.invalidConfig, "cannot set up \(purpose) for \(comment)",
                              details: "network/containerID/ifname is longer than nft's \(Self.maximumCommentLength)-character comment limit")
        }
    }

    /// Parses a comment we wrote; nil for anything else (elements someone else added).
    package init?(comment: String) {
        let parts = comment.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let parsed = try? NftElementOwner(
            network: String(parts[0]), containerID: String(parts[1]), ifname: String(parts[2]), for: "parsing"
        ) else { return nil }
        self = parsed
    }

    /// The element comment; safe to place between double quotes in an nft script.
    package var comment: String { "\(network)/\(attachment.containerID)/\(attachment.ifname)" }

    package var description: String { comment }

    /// Whether `text` may be placed between double quotes in an nft script: non-empty, only
    /// letters, digits, '.', '_' and '-'.
    package static func isSafe(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isSafe)
    }

    private static func check(_ value: String, _ what: String, _ kind: PluginError.Kind, _ purpose: String) throws {
        guard isSafe(value) else {
            throw PluginError(kind, "invalid \(what) \"\(value)\" for \(purpose)",
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
