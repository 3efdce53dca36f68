import Nftables
import NetTypes
import Netlink

/// MAC spoof check elements in nf_tables' own encoding: `ifname` is 16 zero-padded bytes, and
/// the MAC in `ifname . ether_addr` is padded to 8 (checked against nft's in NetlinkTests).
extension MacSpoofElement: NftKernelElement {
    var nftablesSet: NftablesSet { MacSpoofRuleset.set(named: set) }

    func nftablesElement(comment: String?) -> NftablesElement {
        switch self {
        case .guarded(let port):
            return NftablesElement(key: NftablesKey.interfaceName(port), comment: comment)
        case .allowed(let port, let mac):
            return NftablesElement(key: NftablesKey.concatenation([NftablesKey.interfaceName(port), NftablesKey.mac(mac)]),
                                   comment: comment)
        }
    }

    /// Reads back an element of one of our sets; port names that could not have come from us
    /// are skipped, like the script path skips them.
    init?(set: NftablesSet, element: NftablesElement) {
        switch set.name {
        case "guarded":
            guard let port = NftablesKey.interfaceName(from: element.key), NftElementOwner.isSafe(port) else { return nil }
            self = .guarded(port: port)
        case "allowed":
            guard let fields = NftablesKey.fields(of: element.key, lengths: [NftablesKey.interfaceNameLength, 6]),
                  let port = NftablesKey.interfaceName(from: fields[0]), NftElementOwner.isSafe(port),
                  let mac = MACAddress(bytes: fields[1]) else { return nil }
            self = .allowed(port: port, mac: mac)
        default:
            return nil
        }
    }
}

extension MacSpoofRuleset {
    /// Our two sets, in listing order.
    static let sets = ["guarded", "allowed"].map(set(named:))

    static func set(named name: String) -> NftablesSet {
        NftablesSet(family: kernelFamily, table: self.name, name: name)
    }
}
