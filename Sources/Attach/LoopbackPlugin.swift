import CNI
import Netlink
import NetTypes

/// The `loopback` plugin: brings `lo` up in the container. Chained after other plugins it
/// passes their result through.
package struct LoopbackPlugin: Plugin {
    package init() {}

    package func add(_ invocation: Invocation) throws -> CNIResult {
        let container = try ContainerNamespace(path: invocation.environment.netns)
        let lo = try loopback(container)
        if !lo.isUp { try container.socket.setLink(index: lo.index, up: true) }
        if let prev = invocation.config.prevResult { return prev }
        return CNIResult(
            interfaces: [.init(name: "lo", mac: lo.mac, sandbox: invocation.environment.netns)],
            ips: [.init(address: IPPrefix("127.0.0.1/8")!, interface: 0), .init(address: IPPrefix("::1/128")!, interface: 0)]
        )
    }

    package func del(_ invocation: Invocation) throws {
        // Taking lo down is pointless for a namespace being torn down, and harmful if it is
        // not; like the reference, DEL only needs to succeed, also when the netns is gone.
        guard let container = try ContainerNamespace.ifStillPresent(path: invocation.environment.netns) else { return }
        _ = try container.socket.link(named: "lo")
    }

    package func check(_ invocation: Invocation) throws {
        let container = try ContainerNamespace(path: invocation.environment.netns)
        guard try loopback(container).isUp else {
            throw PluginError(.failed, "CHECK: lo is down in \(invocation.environment.netns)")
        }
    }

    package func gc(_ invocation: Invocation) throws {}
    package func status(_ invocation: Invocation) throws {}

    private func loopback(_ container: ContainerNamespace) throws -> Link {
        guard let lo = try container.socket.link(named: "lo") else {
            throw PluginError(.failed, "no lo interface in \(container.namespace.path)")
        }
        return lo
    }
}
