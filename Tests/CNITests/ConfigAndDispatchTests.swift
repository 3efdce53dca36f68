import Testing
import NetTypes
@testable import CNI

/// A plugin that records what it was asked, for driving the dispatcher in-process.
struct EchoPlugin: Plugin {
    func add(_ i: Invocation) throws -> CNIResult {
        if i.config.name == "boom" { throw PluginError(.invalidConfig, "boom is not allowed") }
        return CNIResult(ips: [.init(address: IPPrefix("10.0.0.2/24")!)])
    }
    func del(_ i: Invocation) throws {}
    func check(_ i: Invocation) throws {}
    func gc(_ i: Invocation) throws {}
    func status(_ i: Invocation) throws { throw PluginError(.unavailable, "no addresses") }
}

@Suite struct ConfigAndDispatchTests {
    let env = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/run/netns/x",
               "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin"]

    func run(_ config: String, _ overrides: [String: String] = [:]) -> (JSONValue?, Int32) {
        let (out, status) = Dispatcher.run(EchoPlugin(), environment: env.merging(overrides) { $1 }, stdin: Array(config.utf8))
        return (out.flatMap { try? JSONValue.parse(Array($0.utf8), what: "out") }, status)
    }

    @Test(arguments: SpecVersion.allCases)
    func addPrintsResultInRequestedVersion(_ v: SpecVersion) {
        let (out, status) = run(#"{"cniVersion":"\#(v.rawValue)","name":"n","type":"echo"}"#)
        #expect(status == 0)
        #expect(out?["cniVersion"] == .string(v.rawValue))
    }

    @Test(arguments: ["0.1.0", "0.2.0", "9.9.9"])
    func unsupportedVersionIsCode1(_ v: String) {
        let (out, status) = run(#"{"cniVersion":"\#(v)","name":"n","type":"echo"}"#)
        #expect(status != 0)
        #expect(out?["code"] == .int(1))
    }

    @Test func cniVersionsPicksHighestSupported() throws {
        let c = try NetworkConfig(bytes: Array(#"{"cniVersions":["0.4.0","1.0.0","2.0.0"],"name":"n"}"#.utf8))
        #expect(c.version == .v1_0_0)
    }

    /// Names outside the spec's character set never reach a plugin (they become directory
    /// names under IPAM's data dir): code 7 from the dispatcher.
    @Test(arguments: ["fe80::1%eth0", "-net", "a b", "net/1", "..", "ünï"])
    func networkNamesOutsideTheSpecAreCode7(_ name: String) {
        let (out, status) = run(#"{"cniVersion":"1.0.0","name":"\#(name)","type":"bridge"}"#)
        #expect(status != 0)
        #expect(out?["code"] == .int(7), "\(name): \(String(describing: out))")
    }

    @Test(arguments: [#"{"cniVersion":"1.0.0","name":"#, "", "not json", #"[1,2]"#])
    func malformedJSONIsCode6(_ text: String) {
        let (out, status) = run(text)
        #expect(status != 0)
        #expect(out?["code"] == .int(6))
        #expect(out?["msg"]?.stringValue?.isEmpty == false)
    }

    @Test(arguments: ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"])
    func missingVariableIsCode4(_ name: String) {
        var e = env
        e.removeValue(forKey: name)
        let (out, status) = Dispatcher.run(EchoPlugin(), environment: e, stdin: Array(#"{"cniVersion":"1.0.0","name":"n"}"#.utf8))
        #expect(status != 0)
        let j = out.flatMap { try? JSONValue.parse(Array($0.utf8), what: "out") }
        #expect(j?["code"] == .int(4))
        #expect(j?["msg"]?.stringValue?.contains(name) == true)
    }

    @Test func delNeedsNoNetns() {
        let (_, status) = run(#"{"cniVersion":"1.0.0","name":"n"}"#, ["CNI_COMMAND": "DEL", "CNI_NETNS": ""])
        #expect(status == 0)
    }

    @Test(arguments: ["../etc", "a/b", "-lead", ""])
    func badContainerIDsAreRejected(_ id: String) {
        let (out, status) = run(#"{"cniVersion":"1.0.0","name":"n"}"#, ["CNI_CONTAINERID": id])
        #expect(status != 0)
        #expect(out?["code"] == .int(4))
    }

    @Test func pluginErrorKindsMapToSpecCodes() {
        let (out, _) = run(#"{"cniVersion":"1.0.0","name":"boom"}"#)
        #expect(out?["code"] == .int(7))
        #expect(out?["msg"] == .string("boom is not allowed"))
        let (st, _) = run(#"{"cniVersion":"1.1.0","name":"n"}"#, ["CNI_COMMAND": "STATUS"])
        #expect(st?["code"] == .int(50))
    }

    @Test func gcAndStatusNeed1_1_0AndCheckNeeds0_4_0() {
        #expect(run(#"{"cniVersion":"1.0.0","name":"n"}"#, ["CNI_COMMAND": "GC"]).0?["code"] == .int(1))
        #expect(run(#"{"cniVersion":"0.3.1","name":"n"}"#, ["CNI_COMMAND": "CHECK"]).0?["code"] == .int(1))
        #expect(run(#"{"cniVersion":"0.4.0","name":"n"}"#, ["CNI_COMMAND": "CHECK"]).1 == 0)
    }

    @Test func versionListsEverySupportedVersion() {
        let (out, status) = run(#"{"cniVersion":"0.4.0"}"#, ["CNI_COMMAND": "VERSION"])
        #expect(status == 0)
        #expect(out?["cniVersion"] == .string("0.4.0"))
        #expect(out?["supportedVersions"]?.arrayValue?.count == SpecVersion.allCases.count)
    }

    @Test func cniArgsUnknownKeyNeedsIgnoreUnknown() throws {
        #expect(throws: PluginError.self) { try CNIArgs("FOO=bar") }
        let a = try CNIArgs("IgnoreUnknown=1;FOO=bar;IP=10.1.1.5")
        #expect(a["IP"] == "10.1.1.5")
    }

    @Test func requestedIPsMergeAllSources() throws {
        let c = try NetworkConfig(bytes: Array(#"{"cniVersion":"1.0.0","name":"n","runtimeConfig":{"ips":["10.1.0.9/24"],"mac":"02:00:00:00:00:01"},"args":{"cni":{"ips":["fd00::9"]}}}"#.utf8))
        let ips = try c.requestedIPs(args: CNIArgs("IP=10.1.0.10"))
        #expect(ips == [IPAddress("10.1.0.9")!, IPAddress("fd00::9")!, IPAddress("10.1.0.10")!])
        #expect(try c.requestedMAC(args: CNIArgs("")) == MACAddress("02:00:00:00:00:01"))
    }

    @Test func prevResultAndValidAttachmentsAreParsed() throws {
        let c = try NetworkConfig(bytes: Array(#"{"cniVersion":"1.1.0","name":"n","prevResult":{"cniVersion":"1.1.0","ips":[{"address":"10.1.0.2/24"}]},"cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}]}"#.utf8))
        #expect(c.prevResult?.ips.first?.address == IPPrefix("10.1.0.2/24"))
        #expect(c.validAttachments == [Attachment(containerID: "a", ifname: "eth0")])
    }
}
