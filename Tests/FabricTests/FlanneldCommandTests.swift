import Dataplane
import NetTypes
import SubnetRegistry
import Testing
@testable import FlannelAgent

/// flanneld's command line: names, defaults, Go spellings and FLANNELD_* as flanneld reads them.
struct FlanneldCommandTests {
    func options(_ arguments: [String], environment: [String: String] = [:]) throws -> AgentOptions {
        let given = GoFlagSyntax.normalize(arguments)
        let all = given + GoFlagSyntax.fromEnvironment(environment, flags: FlanneldCommand.flagNames, given: given)
        try FlanneldUnsupportedFlags.refuse(all)
        return try FlanneldCommand.parse(all).options()
    }

    @Test func defaultsAreFlanneldsExceptTheRegistry() throws {
        let o = try options([])
        #expect(o.registry == .directory(AgentDefaults.registryDir))
        #expect(o.etcdPrefix == "/coreos.com/network")
        #expect(o.subnetFile == "/run/flannel/subnet.env")
        #expect(o.ipMasq == false)
        #expect(o.forwardRules == true)
        #expect(o.forwardRulesResync == 5)
        #expect(o.renewMargin == 3600)
        #expect(o.healthz == nil)
        #expect(o.underlay == UnderlayChoice())
    }

    @Test func goSpellingsBecomeArgumentParserOnes() {
        #expect(GoFlagSyntax.normalize(["-iface=eth0", "-ip-masq", "--iptables-forward-rules=false", "-etcd-prefix", "/x"])
                == ["--iface=eth0", "--ip-masq", "--no-iptables-forward-rules", "--etcd-prefix", "/x"])
        #expect(GoFlagSyntax.normalize(["--ip-masq=T", "--ip-masq=0", "-h"]) == ["--ip-masq", "--no-ip-masq", "-h"])
        #expect(GoFlagSyntax.normalize(["--ip-masq=maybe"]) == ["--ip-masq=maybe"])
    }

    @Test func etcdSettingsFromFlags() throws {
        let o = try options(["--etcd-endpoints", "https://10.0.0.1:2379, https://10.0.0.2:2379",
                             "-etcd-cafile=/ca.pem", "--etcd-certfile", "/c.pem", "--etcd-keyfile", "/k.pem",
                             "--etcd-username", "flannel", "--etcd-password", "pw"])
        #expect(o.registry == .etcd(EtcdClientSettings(
            endpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"], caFile: "/ca.pem",
            certFile: "/c.pem", keyFile: "/k.pem", username: "flannel", password: "pw")))
    }

    @Test func environmentFillsOnlyWhatTheCommandLineLeftOpen() throws {
        let env = ["FLANNELD_ETCD_ENDPOINTS": "http://10.0.0.9:2379", "FLANNELD_IP_MASQ": "true",
                   "FLANNELD_IFACE": "eth1", "FLANNELD_SUBNET_LEASE_RENEW_MARGIN": "30", "FLANNELD_PUBLIC_IP": ""]
        let o = try options(["--iface", "eth0", "-ip-masq=false"], environment: env)
        #expect(o.registry == .etcd(EtcdClientSettings(endpoints: ["http://10.0.0.9:2379"])))
        #expect(o.ipMasq == false)
        #expect(o.underlay.interfaces == ["eth0"])
        #expect(o.renewMargin == 30 * 60)
        #expect(o.publicIP == nil)  // empty variables are ignored, as flanneld does
        #expect(GoFlagSyntax.variable(for: "iptables-forward-rules") == "FLANNELD_IPTABLES_FORWARD_RULES")
    }

    @Test func ifaceChoicesKeepTheirOrder() throws {
        let o = try options(["--iface", "nosuch0", "--iface", "10.1.2.3", "--iface-regex", "^eth", "--iface-regex", "^10\\.",
                             "--iface-can-reach", "10.9.9.9", "--public-ip", "203.0.113.7", "--public-ipv6", "2001:db8::7",
                             "--healthz-port", "8471"])
        #expect(o.underlay == UnderlayChoice(interfaces: ["nosuch0", "10.1.2.3"], patterns: ["^eth", "^10\\."],
                                             canReach: IPAddress("10.9.9.9")))
        #expect(o.publicIP == IPAddress("203.0.113.7"))
        #expect(o.publicIPv6 == IPAddress("2001:db8::7"))
        #expect(o.healthz == "0.0.0.0:8471")
    }

    @Test(arguments: [
        ["--subnet-lease-renew-margin", "0"], ["--subnet-lease-renew-margin", "1440"],
        ["--etcd-certfile", "/c.pem"], ["--etcd-username", "u"], ["--iface-regex", "(unclosed"],
        ["--public-ip", "fe80::1"], ["--public-ipv6", "10.0.0.1"], ["--iface-can-reach", "nowhere"], ["--healthz-port", "70000"],
        ["--etcd-endpoints", "http://e:2379", "--registry-dir", "/r"], ["--log-level", "chatty"],
        ["--etcd-endpoints", ","],
        // Numbers beyond what they become (file times, timeouts): refused, never a trap later.
        ["--resync-interval", "inf"], ["--resync-interval", "1e300"],
        ["--lease-ttl", "9223372036854775807"], ["--lease-ttl", "315360001"],
    ])
    func senselessValuesAreUsageErrors(_ arguments: [String]) {
        #expect(throws: UsageError.self) { try options(arguments) }
    }

    @Test func unknownFlagsAreParseErrors() {
        #expect(throws: (any Error).self) { try FlanneldCommand.parse(["--no-such-flag"]) }
        #expect(throws: (any Error).self) { try FlanneldCommand.parse(GoFlagSyntax.normalize(["--ip-masq=maybe"])) }
    }

    @Test(arguments: ["--kube-subnet-mgr", "-kube-subnet-mgr=true", "--kubeconfig-file=/etc/k.conf", "-net-config-path=/x",
                      "-persistent-mac"])
    func flanneldFlagsWeDoNotImplementAreRefusedByName(_ flag: String) {
        let name = String(flag.drop { $0 == "-" }.split(separator: "=")[0])
        #expect {
            try options([flag])
        } throws: { error in
            "\(error)".contains("--\(name): flanneld's flag is not supported")
        }
    }

    @Test func kubernetesFlagsSayWhatToUseInstead() {
        #expect { try options(["--kube-subnet-mgr"]) } throws: { "\($0)".contains("--etcd-endpoints") }
    }

    @Test func klogVerbositySetsTheLogLevel() throws {
        #expect(try options(["-v=2"]).logLevel == .debug)
        #expect(try options(["--v", "3", "--iface", "eth0"]).logLevel == .debug)
        #expect(try options(["-v", "0"]).logLevel == .info)
        #expect(try options(["-v=4", "--log-level", "warning"]).logLevel == .warning)
        #expect(try options(["--log-level", "error", "-v=4"]).logLevel == .error)
        #expect(throws: (any Error).self) { try options(["-v=loud"]) }
    }
}
