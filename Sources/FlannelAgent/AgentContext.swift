import FlannelCNI
import CNI
import Dataplane
import SubnetRegistry
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

    init(options: AgentOptions) throws {
        switch options.registry {
        case .directory(let dir): registry = DirectoryRegistry(root: dir, prefix: options.etcdPrefix)
        case .etcd(let settings): registry = try EtcdRegistry(settings: settings, prefix: options.etcdPrefix)
        }
        socket = try RouteSocket()
        underlay = try Underlay.resolve(choice: options.underlay, publicIP: options.publicIP, socket: socket)
        state = try AgentState(directory: options.stateDir)
    }
}
