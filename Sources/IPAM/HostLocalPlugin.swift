import CNI

/// The `host-local` plugin's commands on top of `HostLocalAllocator`: the executable's main
/// and the bridge plugin (in-process IPAM) both call it, so both behave identically.
package struct HostLocalPlugin: Plugin {
    /// Set by a caller that has already made sure the attachment is new (see
    /// `HostLocalAllocator.allocate(knownNew:)`); the executable always checks.
    let attachmentKnownNew: Bool

    package init(attachmentKnownNew: Bool = false) {
        self.attachmentKnownNew = attachmentKnownNew
    }

    func allocator(_ invocation: Invocation) throws -> HostLocalAllocator {
        HostLocalAllocator(config: try HostLocalConfig(networkConfig: invocation.config.raw))
    }

    /// One IP per range set, plus the configured routes and the DNS of `resolvConf`.
    package func add(_ invocation: Invocation) throws -> CNIResult {
        let env = invocation.environment
        let ipam = try allocator(invocation)
        // Read DNS first: a missing resolv.conf should fail before anything is reserved.
        let dns = try ipam.config.dns() ?? CNIResult.DNS()
        let requested = try invocation.config.requestedIPs(args: env.args)
        let allocations = try ipam.allocate(containerID: env.containerID, ifname: env.ifname, requested: requested,
                                            knownNew: attachmentKnownNew)
        return CNIResult(
            ips: allocations.map { CNIResult.IPConfig(address: $0.address, gateway: $0.gateway) },
            routes: ipam.config.routes, dns: dns)
    }

    package func del(_ invocation: Invocation) throws {
        let env = invocation.environment
        try allocator(invocation).release(containerID: env.containerID, ifname: env.ifname)
    }

    /// Like the reference: the attachment must still hold at least one address.
    package func check(_ invocation: Invocation) throws {
        let env = invocation.environment
        if try allocator(invocation).addresses(containerID: env.containerID, ifname: env.ifname).isEmpty {
            throw PluginError(
                .failed, "host-local holds no address for container \(env.containerID) interface \(env.ifname)")
        }
    }

    package func gc(_ invocation: Invocation) throws {
        try allocator(invocation).garbageCollect(keeping: Set(invocation.config.validAttachments))
    }

    /// Unavailable (code 50) when some range set has no free address: an ADD would fail.
    package func status(_ invocation: Invocation) throws {
        let ipam = try allocator(invocation)
        if let exhausted = try ipam.hasFreeAddress().firstIndex(of: false) {
            throw PluginError(
                .unavailable, "no free IP address in range set \(exhausted) (\(ipam.config.rangeSets[exhausted]))")
        }
    }
}
