import Attach
import CNI
import IPAM
import NetTypes
#if canImport(Glibc)
import Glibc
#endif

/// The CNI face of `flannel-vxlan` and `host-gw`: turns the node's subnet.env into a bridge +
/// host-local configuration, the way flannel's CNI plugin does, and runs it. The generated
/// config is kept under `dataDir/<containerID>` so DEL and CHECK work after the agent and its
/// subnet.env are gone.
package struct FlannelCNIPlugin: Plugin {
    static let defaultSubnetFile = "/run/flannel/subnet.env"
    static let defaultDataDir = "/var/lib/cni/flannel"

    package init() {}

    package func add(_ invocation: Invocation) throws -> CNIResult {
        let env = try loadSubnetEnv(invocation.config)
        let delegate = try FlannelDelegateConfig.build(from: invocation.config, subnetEnv: env)
        let store = try savedConfigs(invocation.config)
        try store.save(delegate, containerID: invocation.environment.containerID)
        do {
            return try run(.add, delegate: delegate, invocation: invocation)
        } catch {
            store.remove(containerID: invocation.environment.containerID)
            throw error
        }
    }

    package func del(_ invocation: Invocation) throws {
        let store = try savedConfigs(invocation.config)
        // Nothing saved: ADD never got that far (a save killed midway may have left its
        // temporary, which `remove` takes too), or DEL already ran. Either way, done.
        guard let delegate = try store.load(containerID: invocation.environment.containerID) else {
            store.remove(containerID: invocation.environment.containerID)
            return
        }
        try run(.del, delegate: delegate, invocation: invocation)
        store.remove(containerID: invocation.environment.containerID)
    }

    package func check(_ invocation: Invocation) throws {
        let store = try savedConfigs(invocation.config)
        guard let delegate = try store.load(containerID: invocation.environment.containerID) else {
            throw PluginError(.failed, "CHECK: no saved configuration for container \(invocation.environment.containerID) in \(store.directory)")
        }
        try run(.check, delegate: delegate, invocation: invocation)
    }

    /// GC the bridge state (IP reservations, masquerade and MAC-check entries) with the
    /// runtime's valid list, through any saved delegate config (all share network and IPAM
    /// store), then forget the saved configs of containers that are gone.
    package func gc(_ invocation: Invocation) throws {
        let store = try savedConfigs(invocation.config)
        let valid = Set(invocation.config.validAttachments.map(\.containerID))
        let ids = store.containerIDs()
        if let any = ids.lazy.compactMap({ try? store.load(containerID: $0) }).first, case .object(var o) = any {
            o["cniVersion"] = .string(SpecVersion.latest.rawValue)
            o["cni.dev/valid-attachments"] = invocation.config.raw["cni.dev/valid-attachments"] ?? .array([])
            let inv = try Self.invocation(for: .object(o), command: .gc, base: invocation.environment)
            try BridgePlugin().gc(inv)
        }
        for id in ids where !valid.contains(id) { store.remove(containerID: id) }
        store.removeTemporaries(keeping: valid)
    }

    package func status(_ invocation: Invocation) throws {
        let path = try subnetFile(invocation.config)
        guard access(path, R_OK) == 0 else {
            throw PluginError(.unavailable, "subnet file \(path) does not exist yet: the node agent has not leased a subnet")
        }
    }

    // MARK: - plumbing

    /// `subnetFile`; a value that is no string is `.decode` (as flannel's Go decoding
    /// refuses it), not silently the default path.
    func subnetFile(_ config: NetworkConfig) throws -> String {
        try ConfigFields(config.raw).string("subnetFile") ?? Self.defaultSubnetFile
    }

    func loadSubnetEnv(_ config: NetworkConfig) throws -> SubnetEnv {
        let path = try subnetFile(config)
        guard access(path, R_OK) == 0 else {
            throw PluginError(.tryAgainLater, "subnet file \(path) does not exist: the node agent has not leased a subnet yet (is it running?)")
        }
        return try SubnetEnv.read(from: path)
    }

    func savedConfigs(_ config: NetworkConfig) throws -> SavedDelegateConfigs {
        try SavedDelegateConfigs(directory: ConfigFields(config.raw).string("dataDir") ?? Self.defaultDataDir)
    }

    /// Runs the delegate: our bridge in-process when the delegate is `bridge` and the `bridge`
    /// on CNI_PATH is ours; any other delegate is executed from CNI_PATH.
    @discardableResult
    func run(_ command: Command, delegate: JSONValue, invocation: Invocation) throws -> CNIResult {
        var config = delegate
        if command == .check, case .object(var o) = config, let prev = invocation.config.raw["prevResult"] {
            o["prevResult"] = prev
            config = .object(o)
        }
        let inv = try Self.invocation(for: config, command: command, base: invocation.environment)
        let type = config["type"]?.stringValue ?? "bridge"
        if type == "bridge" && Delegate.resolvesToSibling("bridge", in: invocation.environment) {
            switch command {
            case .add: return try BridgePlugin().add(inv)
            case .del: try BridgePlugin().del(inv)
            case .check: try BridgePlugin().check(inv)
            default: break
            }
            return CNIResult()
        }
        // ADD through Delegate.add: a result we cannot use is released before the error.
        if command == .add { return try Delegate.add(type: type, invocation: inv) }
        _ = try Delegate.exec(type: type, command: command, invocation: inv)
        return CNIResult()
    }

    static func invocation(for config: JSONValue, command: Command, base: Environment) throws -> Invocation {
        let bytes = Array(config.serialized().utf8)
        return Invocation(environment: base, config: try NetworkConfig(bytes: bytes), stdin: bytes)
    }
}
