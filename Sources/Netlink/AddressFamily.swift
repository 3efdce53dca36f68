import Glibc
import NetTypes

/// The AF_* numbers behind NetTypes' address families, for message headers.
extension IPAddress.Family {
    var socketFamily: UInt8 {
        switch self {
        case .v4: return UInt8(AF_INET)
        case .v6: return UInt8(AF_INET6)
        }
    }

    init?(socketFamily: UInt8) {
        switch Int32(socketFamily) {
        case AF_INET: self = .v4
        case AF_INET6: self = .v6
        default: return nil
        }
    }
}

/// The header family for a dump of one family or (nil) all of them.
func socketFamily(_ family: IPAddress.Family?) -> UInt8 {
    family?.socketFamily ?? UInt8(AF_UNSPEC)
}
