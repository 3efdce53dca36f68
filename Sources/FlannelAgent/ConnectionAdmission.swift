import NetTypes
import Synchronization

/// Who may open one more connection to one listener of the monitoring endpoints: at most
/// `maxConnections` at once, and, on a listener other hosts can reach, at most
/// `maxPerRemote` from one remote address. A flood on `--healthz-port` (100 idle
/// connections from another host) then takes neither that listener from everyone else nor
/// `--listen` on loopback, whose cap is its own.
final class ConnectionAdmission: Sendable {
    let maxConnections: Int
    /// Nil: no per-address cap (loopback: every client is this host).
    let maxPerRemote: Int?
    private let open = Mutex<(total: Int, byRemote: [String: Int])>((0, [:]))

    init(maxConnections: Int, maxPerRemote: Int?) {
        self.maxConnections = maxConnections
        self.maxPerRemote = maxPerRemote
    }

    /// The caps for a listener bound to `host`: the per-address one unless it is loopback.
    convenience init(host: IPAddress, limits: HealthServer.Limits) {
        self.init(maxConnections: limits.maxConnections,
                  maxPerRemote: Self.isLoopback(host) ? nil : limits.maxConnectionsPerRemote)
    }

    /// Counts a connection from `remote` (its address, nil when unknown) when both caps
    /// allow it; false: close it at once. Every admitted connection is released once.
    func admit(remote: String?) -> Bool {
        open.withLock { state in
            guard state.total < maxConnections else { return false }
            if let maxPerRemote, let remote {
                guard state.byRemote[remote, default: 0] < maxPerRemote else { return false }
                state.byRemote[remote, default: 0] += 1
            }
            state.total += 1
            return true
        }
    }

    func release(remote: String?) {
        open.withLock { state in
            state.total -= 1
            if maxPerRemote != nil, let remote, let n = state.byRemote[remote] {
                state.byRemote[remote] = n > 1 ? n - 1 : nil
            }
        }
    }

    static func isLoopback(_ address: IPAddress) -> Bool {
        address.family == .v4 ? address.bytes[0] == 127 : address == IPAddress("::1")
    }
}
