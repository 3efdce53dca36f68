import NetTypes

/// A plugin's ADD result, version-independent. `CNIResult+JSON` reads and writes it in each
/// spec version's shape.
public struct CNIResult: Sendable, Equatable {
    public struct Interface: Sendable, Equatable {
        public var name: String
        public var mac: MACAddress?
        public var mtu: Int?
        /// The netns path for interfaces inside a container; nil on the host.
        public var sandbox: String?

        public init(name: String, mac: MACAddress? = nil, mtu: Int? = nil, sandbox: String? = nil) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.sandbox = sandbox
        }
    }

    public struct IPConfig: Sendable, Equatable {
        /// The interface address with its subnet's prefix length.
        public var address: IPPrefix
        public var gateway: IPAddress?
        /// Index into `interfaces`.
        public var interface: Int?

        public init(address: IPPrefix, gateway: IPAddress? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    public struct Route: Sendable, Equatable {
        public var destination: IPPrefix
        public var gateway: IPAddress?
        public var mtu: Int?
        public var advmss: Int?
        public var priority: Int?
        public var table: Int?
        public var scope: Int?

        public init(destination: IPPrefix, gateway: IPAddress? = nil, mtu: Int? = nil, advmss: Int? = nil,
                    priority: Int? = nil, table: Int? = nil, scope: Int? = nil) {
            self.destination = destination
            self.gateway = gateway
            self.mtu = mtu
            self.advmss = advmss
            self.priority = priority
            self.table = table
            self.scope = scope
        }
    }

    public struct DNS: Sendable, Equatable {
        public var nameservers: [String]
        public var domain: String?
        public var search: [String]
        public var options: [String]

        public init(nameservers: [String] = [], domain: String? = nil, search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers
            self.domain = domain
            self.search = search
            self.options = options
        }

        public var isEmpty: Bool { nameservers.isEmpty && domain == nil && search.isEmpty && options.isEmpty }
    }

    public var interfaces: [Interface]
    public var ips: [IPConfig]
    public var routes: [Route]
    public var dns: DNS

    public init(interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS = DNS()) {
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }
}
