import CNI

/// etcd's refusals, as the JSON gateway reports them (`{"error":…,"code":<gRPC code>,
/// "message":…}`) or a watch cancels with (`cancel_reason`), sorted by what the client
/// does about them. etcd's texts (`rpctypes`) are its API: they are read here, once.
enum EtcdErrorReply: Equatable {
    /// The token is unknown to etcd (expired simple token, restarted etcd, auth store
    /// changed): authenticate again and retry once.
    case tokenRejected
    /// Wrong user name or password.
    case credentialsRejected
    /// Auth is on and the request carried no token.
    case credentialsMissing
    /// The user's roles do not cover the key.
    case permissionDenied
    /// `/v3/auth/authenticate` while auth is off: no token is needed.
    case authNotEnabled
    /// With auth on, etcd's gateway refuses client certificates that carry a CommonName (it
    /// cannot map the CN to a user as the gRPC API does): the certificate must have none.
    case certificateHasCommonName
    /// Anything else, with etcd's text.
    case other(String)

    /// gRPC code 16 (Unauthenticated) is what etcd uses for bad tokens.
    static func classify(code: Int?, message: String) -> EtcdErrorReply {
        let text = message.lowercased()
        if text.contains("invalid auth token") || text.contains("token is expired") || text.contains("auth store is old") {
            return .tokenRejected
        }
        if text.contains("authentication failed") || text.contains("invalid user id or password") { return .credentialsRejected }
        if text.contains("user name is empty") || text.contains("user name not found") { return .credentialsMissing }
        if text.contains("permission denied") { return .permissionDenied }
        if text.contains("authentication is not enabled") { return .authNotEnabled }
        if text.contains("commonname of client sending a request against gateway") { return .certificateHasCommonName }
        if code == 16 { return .tokenRejected }
        return .other(message)
    }

    /// A non-2xx or `error` reply's reason: the decoded JSON's message, else the raw text.
    static func decode(status: Int, body: [UInt8]) -> (code: Int?, message: String) {
        let json = try? JSONValue.parse(body, what: "etcd reply")
        let message = json?["message"]?.stringValue ?? json?["error"]?.stringValue
            ?? json?["error"]?["message"]?.stringValue
            ?? String(decoding: body.prefix(200), as: UTF8.self)
        let code = json?["code"].map { Int(EtcdJSON.int64($0)) } ?? json?["error"]?["grpc_code"].map { Int(EtcdJSON.int64($0)) }
        return (code, message.isEmpty ? "HTTP \(status)" : message)
    }

    /// The error the operator sees: what etcd said, and what to change.
    func registryError(endpoint: EtcdEndpoint, path: String, username: String?, prefix: String) -> RegistryError {
        switch self {
        case .tokenRejected:
            return RegistryError(.authentication, "etcd \(endpoint) \(path): the auth token was rejected again right after "
                                 + "authenticating as \(username ?? "?") (etcd's auth store keeps changing?)")
        case .credentialsRejected:
            return RegistryError(.authentication, "etcd \(endpoint) refused user \(username ?? "-"): wrong "
                                 + "--etcd-username or --etcd-password (or the user does not exist: etcdctl user add)")
        case .permissionDenied where username == nil:
            // etcd 3.4 says "permission denied" to a request without a token.
            return EtcdErrorReply.credentialsMissing.registryError(endpoint: endpoint, path: path, username: nil, prefix: prefix)
        case .credentialsMissing:
            return RegistryError(.authentication, "etcd \(endpoint) has authentication enabled: give --etcd-username and "
                                 + "--etcd-password of a user whose role has readwrite on \(prefix)/")
        case .permissionDenied:
            let user = username ?? "-"
            return RegistryError(.permissionDenied, "etcd \(endpoint) \(path): permission denied for user \(user) on \(prefix)/: "
                                 + "grant user \(user)'s role read/write on \(prefix)/ "
                                 + "(etcdctl role grant-permission --prefix=true <role> readwrite \(prefix)/)")
        case .authNotEnabled:
            return RegistryError(.badReply, "etcd \(endpoint) \(path): authentication is not enabled")
        case .certificateHasCommonName:
            return RegistryError(.authentication, "etcd \(endpoint) has authentication enabled and refuses client "
                                 + "certificates with a CommonName on its JSON gateway: issue the certificate in "
                                 + "--etcd-certfile without a CN (the user comes from --etcd-username)")
        case .other(let message):
            return RegistryError(.badReply, "etcd \(endpoint) \(path): \(message)")
        }
    }
}

/// Whether a refused request is sent again after authenticating anew: only for a rejected
/// token, only with credentials to get a new one, and only once per request (a second
/// rejection means something else is wrong and the caller hears of it).
enum EtcdAuthRetry {
    static func shouldAuthenticateAgain(_ reply: EtcdErrorReply, hasCredentials: Bool, alreadyRetried: Bool) -> Bool {
        hasCredentials && !alreadyRetried && reply == .tokenRejected
    }
}

extension EtcdErrorReply {
    /// Refusals that a fresh token may cure or that need the operator's credentials.
    var concernsAuth: Bool {
        switch self {
        case .tokenRejected, .credentialsMissing, .credentialsRejected, .permissionDenied, .certificateHasCommonName: return true
        case .authNotEnabled, .other: return false
        }
    }
}

extension EtcdAuthRetry {
    /// A watch refused or cancelled for auth is reopened once with a fresh token: etcd checks
    /// the token only when the watch is created, and reports a stale one as denied.
    static func shouldReopenWatch(_ reply: EtcdErrorReply, hasCredentials: Bool, alreadyRetried: Bool) -> Bool {
        guard hasCredentials, !alreadyRetried else { return false }
        return reply == .tokenRejected || reply == .permissionDenied || reply == .credentialsMissing
    }
}
