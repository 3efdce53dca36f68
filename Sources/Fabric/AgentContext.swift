import CNI
import Netlink
import NetTypes

/// What the agent resolves once at start-up, before touching anything: the registry client,
/// the netlink socket, the underlay and the state dir. Failing here means nothing was
/// programmed, and the operator gets one clear error.
struct AgentContext {
    let registry: any Registry
    let socket: RouteSocket
    let underlay: Underlay
    let state: AgentState

    init(options: AgentOptions, kind: BackendKind) throws {
        switch options.registry {
        case .directory(let dir): registry = DirectoryRegistry(root: dir, prefix: options.etcdPrefix)
        case .etcd(let endpoints): registry = try EtcdRegistry(endpoints: endpoints, prefix: options.etcdPrefix)
        }
        socket = try RouteSocket()
        var publicIP: IPAddress?
        if let text = options.publicIP {
            guard let ip = IPAddress(text), ip.family == .v4 else { throw AgentError("--public-ip \(text) is not an IPv4 address") }
            publicIP = ip
        }
        underlay = try Underlay.resolve(interface: options.iface, publicIP: publicIP, socket: socket)
        state = try AgentState(directory: options.stateDir)
    }
}
