import Nftables
import NetTypes
import Netlink

/// Masquerade elements in nf_tables' own encoding (checked against nft's in NetlinkTests).
extension MasqueradeElement: NftKernelElement {
    var nftablesSet: NftablesSet { MasqueradeRuleset.set(named: set) }

    /// An exemption is a range of concatenations: `address . first` to `address . last` of
    /// the subnet, as nft sends `address . subnet` to an interval set.
    func nftablesElement(comment: String?) -> NftablesElement {
        switch self {
        case .source(let address):
            return NftablesElement(key: NftablesKey.address(address), comment: comment)
        case .exemption(let address, let subnet):
            return NftablesElement(key: NftablesKey.concatenation([address.bytes, subnet.address.bytes]),
                                   keyEnd: NftablesKey.concatenation([address.bytes, subnet.lastAddress.bytes]),
                                   comment: comment)
        }
    }

    /// Reads back an element of one of our sets; nil for anything that is not one of ours
    /// (wrong width, a range that is no subnet).
    init?(set: NftablesSet, element: NftablesElement) {
        let width: Int
        switch set.name {
        case "masq4", "exempt4": width = 4
        case "masq6", "exempt6": width = 16
        default: return nil
        }
        if set.name.hasPrefix("masq") {
            guard element.key.count == width, let address = IPAddress(bytes: element.key) else { return nil }
            self = .source(address)
            return
        }
        guard let first = NftablesKey.fields(of: element.key, lengths: [width, width]),
              let last = NftablesKey.fields(of: element.keyEnd ?? element.key, lengths: [width, width]),
              first[0] == last[0], let address = IPAddress(bytes: first[0]),
              let start = IPAddress(bytes: first[1]), let end = IPAddress(bytes: last[1]),
              let subnet = (0...address.bitWidth).lazy.compactMap({ IPPrefix(address: start, length: $0) })
                  .first(where: { $0.network.address == start && $0.lastAddress == end })
        else { return nil }
        self = .exemption(address, subnet)
    }
}

extension MasqueradeRuleset {
    /// Our four sets, in listing order.
    static let sets = ["masq4", "exempt4", "masq6", "exempt6"].map(set(named:))

    static func set(named name: String) -> NftablesSet {
        NftablesSet(family: kernelFamily, table: self.name, name: name)
    }
}
