import CNI
import NetNS
import Netlink

/// Where masquerade and the MAC spoof check get their in-process nf_tables socket.
///
/// Production uses one socket in the node's namespace (the calling process's) for the whole
/// process: it is closed at exit, after the veth deletion has let the grace period of our
/// element deletion pass, so the close costs nothing (see `NftablesSocket`). Tests open one
/// inside their throwaway namespace.
package struct NftablesConnection: Sendable {
    package let open: @Sendable () throws -> NftablesSocket

    package static let node = NftablesConnection { try nodeSocket.get() }

    /// A socket inside the namespace at `path` (e.g. `/run/netns/<name>`).
    package static func namespace(path: String) -> NftablesConnection {
        NftablesConnection { try NetworkNamespace(path: path).run { try NftablesSocket() } }
    }
}

/// Opened on first use, on the thread that first asks (the plugin's main thread, in the node's
/// namespace), and never closed before exit.
private let nodeSocket = Result { () throws(NetlinkError) -> NftablesSocket in try NftablesSocket() }
