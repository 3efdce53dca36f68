import NetTypes

/// A plugin's ADD result, version-independent. `CNIResult+JSON` reads and writes it in each
/// spec version's shape.
package struct CNIResult: Sendable, Equatable {
    package struct Interface: Sendable, Equatable {
        package var name: String
        package var mac: MACAddress?
        package var mtu: UInt32?
        /// The netns path for interfaces inside a container; nil on the host.
        package var sandbox: String?

        package init(name: String, mac: MACAddress? = nil, mtu: UInt32? = nil, sandbox: String? = nil) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.sandbox = sandbox
        }
    }

    package struct IPConfig: Sendable, Equatable {
        /// The interface address with its subnet's prefix length.
        package var address: IPPrefix
        package var gateway: IPAddress?
        /// Index into `interfaces`.
        package var interface: Int?

        package init(address: IPPrefix, gateway: IPAddress? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    package struct Route: Sendable, Equatable {
        package var destination: IPPrefix
        package var gateway: IPAddress?
        // The types netlink carries them in (RTAX_MTU, RTAX_ADVMSS, RTA_PRIORITY and
        // RTA_TABLE are u32, rtm_scope a u8): a result is checked against them once, when read.
        package var mtu: UInt32?
        package var advmss: UInt32?
        package var priority: UInt32?
        package var table: UInt32?
        package var scope: UInt8?

        package init(destination: IPPrefix, gateway: IPAddress? = nil, mtu: UInt32? = nil, advmss: UInt32? = nil,
                    priority: UInt32? = nil, table: UInt32? = nil, scope: UInt8? = nil) {
            self.destination = destination
            self.gateway = gateway
            self.mtu = mtu
            self.advmss = advmss
            self.priority = priority
            self.table = table
            self.scope = scope
        }
    }

    package struct DNS: Sendable, Equatable {
        package var nameservers: [String]
        package var domain: String?
        package var search: [String]
        package var options: [String]

        package init(nameservers: [String] = [], domain: String? = nil, search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers
            self.domain = domain
            self.search = search
            self.options = options
        }

        package var isEmpty: Bool { nameservers.isEmpty && domain == nil && search.isEmpty && options.isEmpty }
    }

    package var interfaces: [Interface]
    package var ips: [IPConfig]
    package var routes: [Route]
    package var dns: DNS

    package init(interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS = DNS()) {
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }
}
