import CNI
import NetNS
import Netlink

/// The container's side of an invocation: its namespace and a netlink socket bound to it.
struct ContainerNamespace {
    let namespace: NetworkNamespace
    let socket: RouteSocket

    /// Opens `CNI_NETNS` and a route socket inside it. A missing path or a file that is not a
    /// network namespace is an environment error (code 4) naming the variable. `node` is the
    /// calling thread's namespace when the caller has it open already.
    init(path: String, node: NetworkNamespace? = nil) throws {
        do {
            namespace = try NetworkNamespace(path: path)
        } catch {
            throw PluginError(.invalidEnvironment, "CNI_NETNS \(path) is not usable", details: error.description)
        }
        // On this thread: a plugin is single-threaded, and a thread per entry is slow (see
        // `runOnCallingThread`).
        socket = try namespace.runOnCallingThread(returningTo: node) { try RouteSocket() }
    }

    /// For DEL: nil when the namespace is already gone (nothing left inside to clean up).
    static func ifStillPresent(path: String) throws -> ContainerNamespace? {
        guard !path.isEmpty else { return nil }
        do {
            return try ContainerNamespace(path: path)
        } catch let e as PluginError where e.kind == .invalidEnvironment {
            return nil
        }
    }
}
