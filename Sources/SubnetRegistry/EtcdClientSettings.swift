/// How to reach etcd: flanneld's `--etcd-*` flags, as given. `http://` endpoints are plain
/// TCP; `https://` endpoints are TLS, verified against `caFile` (or the system's trust store
/// when none is named), with a client certificate when `certFile`/`keyFile` are set. With
/// `username`/`password` the client authenticates (etcd's `/v3/auth/authenticate`) and sends
/// the token it gets with every request.
package struct EtcdClientSettings: Sendable, Equatable {
    package var endpoints: [String]
    package var caFile: String?
    package var certFile: String?
    package var keyFile: String?
    package var username: String?
    package var password: String?

    package init(endpoints: [String], caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                username: String? = nil, password: String? = nil) {
        self.endpoints = endpoints
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.username = username
        self.password = password
    }
}
