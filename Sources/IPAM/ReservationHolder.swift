import CNI

/// Who holds a reserved address, as its file says. The reference (since 0.8) writes
/// "containerID\r\nifname"; older versions wrote only the container ID, and such files
/// still exist on upgraded hosts, so both are understood. Surrounding whitespace is ignored,
/// as the reference trims before comparing.
enum ReservationHolder: Equatable, CustomStringConvertible {
    case attachment(Attachment)
    case containerOnly(String)

    /// The file content for a new reservation (no trailing newline, byte-for-byte the reference).
    static func fileContent(for attachment: Attachment) -> [UInt8] {
        Array("\(attachment.containerID)\r\n\(attachment.ifname)".utf8)
    }

    /// nil for a file no writer could have written whole: empty or blank (a writer killed
    /// between create and write, a full disk), or holding bytes no container ID or interface
    /// name has — control characters such as the NULs a power loss can leave, or invalid
    /// UTF-8. Nobody holds such a file; whoever holds the store's lock may remove it.
    init?(fileContent: [UInt8]) {
        guard !fileContent.contains(where: { ($0 < 0x20 && $0 != 0x0d && $0 != 0x0a && $0 != 0x09) || $0 == 0x7f }) else {
            return nil
        }
        let text = String(decoding: fileContent, as: UTF8.self)
        if text.unicodeScalars.contains("\u{FFFD}") { return nil }
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty { return nil }
        // Swift treats "\r\n" as one Character, so split on it as a unit.
        let lines = trimmed.split(separator: "\r\n", maxSplits: 1, omittingEmptySubsequences: false)
        if lines.count == 2 {
            self = .attachment(Attachment(containerID: String(lines[0]).trimmingWhitespace(), ifname: String(lines[1])))
        } else {
            self = .containerOnly(trimmed)
        }
    }

    var containerID: String {
        switch self {
        case .attachment(let a): return a.containerID
        case .containerOnly(let id): return id
        }
    }

    /// Whether this reservation belongs to `attachment`, counting an old-format file as
    /// belonging to every interface of its container.
    func belongs(to attachment: Attachment) -> Bool {
        switch self {
        case .attachment(let a): return a == attachment
        case .containerOnly(let id): return id == attachment.containerID
        }
    }

    var description: String {
        switch self {
        case .attachment(let a): return "container \(a.containerID) interface \(a.ifname)"
        case .containerOnly(let id): return "container \(id)"
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
