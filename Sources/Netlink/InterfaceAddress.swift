import CMnl
import NetTypes

/// An IP address assigned to a link, as RTM_GETADDR reports it.
package struct InterfaceAddress: Hashable, Sendable {
    package let index: Int32
    /// The local address with its prefix length (host bits kept: "10.22.0.5/16").
    package let prefix: IPPrefix
    package let scope: Scope
    package let flags: Flags

    /// IFA_F_* bits; the ones callers act on are named.
    package struct Flags: OptionSet, Hashable, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }

        package static let secondary = Flags(rawValue: UInt32(IFA_F_SECONDARY))
        package static let noDAD = Flags(rawValue: UInt32(IFA_F_NODAD))
        package static let dadFailed = Flags(rawValue: UInt32(IFA_F_DADFAILED))
        package static let deprecated = Flags(rawValue: UInt32(IFA_F_DEPRECATED))
        package static let tentative = Flags(rawValue: UInt32(IFA_F_TENTATIVE))
        package static let permanent = Flags(rawValue: UInt32(IFA_F_PERMANENT))
    }

    package init(index: Int32, prefix: IPPrefix, scope: Scope = .universe, flags: Flags = []) {
        self.index = index
        self.prefix = prefix
        self.scope = scope
        self.flags = flags
    }

    /// Parses an RTM_NEWADDR message; nil for other families or malformed payloads.
    init?(_ message: ReceivedMessage) {
        guard message.messageType == UInt16(RTM_NEWADDR),
              let header = loadStruct(ifaddrmsg.self, from: message.payload) else { return nil }
        let attributes = message.attributes(after: ifaddrmsg.self)
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point
        // links and the same as IFA_LOCAL otherwise (IPv6 sends only IFA_ADDRESS).
        guard let bytes = attributes[IFA_LOCAL] ?? attributes[IFA_ADDRESS],
              let address = IPAddress(bytes: bytes),
              let prefix = IPPrefix(address: address, length: Int(header.ifa_prefixlen)) else { return nil }
        index = Int32(bitPattern: header.ifa_index)
        self.prefix = prefix
        scope = Scope(rawValue: header.ifa_scope)
        // IFA_FLAGS carries the full 32 bits; the header byte only the low 8.
        flags = Flags(rawValue: attributes.uint32(IFA_FLAGS) ?? UInt32(header.ifa_flags))
    }
}
