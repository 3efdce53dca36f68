import CNI
import Glibc
import Testing

/// The built `bridge` executable, run in a node namespace of its own against a fake IPAM
/// plugin (a shell script on CNI_PATH) whose result carries a hostile number. On main, mtu
/// -1 or 4294967297 and priority -1 trapped in VethAttachment (SIGILL, exit 132) with the
/// veth left in the container and the address still allocated; 1e3 was rounded and others
/// dropped without a word. Now: code 7 naming the field, a normal exit, nothing left behind,
/// the allocation released, and DEL and a sane ADD afterwards succeed.
@Suite(.enabled(if: MasqueradeFixture.privileged, "needs root and ip"))
struct BridgeHostileIPAMTests {
    /// `bridge` as `swift build` leaves it, next to the test runner.
    static var bridgeExecutable: String? {
        Delegate.executableDirectory.map { $0 + "/bridge" }.flatMap { access($0, X_OK) == 0 ? $0 : nil }
    }

    /// A result from the fake IPAM with `route` as the one route's extra fields (or the whole
    /// `ips` entry's, when `ipFields` is given).
    static func result(route: String = "", ipFields: String = "") -> String {
        #"{"cniVersion":"1.1.0","ips":[{"address":"10.99.0.5/24","gateway":"10.99.0.1"\#(ipFields)}],"#
            + #""routes":[{"dst":"10.98.0.0/16"\#(route)}]}"#
    }

    static let config = Array(#"{"cniVersion":"1.1.0","name":"hostile","type":"bridge","bridge":"br-hostile","isGateway":true,"ipam":{"type":"fake-ipam"}}"#.utf8)

    /// A CNI_PATH holding `fake-ipam`, which prints `result` on ADD and marks the address
    /// allocated until a DEL; removed afterwards.
    static func withFakeIPAM<R>(printing result: String, _ body: (String) throws -> R) throws -> R {
        var template = Array("/tmp/\(MasqueradeFixture.namePrefix)ipam-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PluginError(.io, "mkdtemp failed") }
        let dir = String(cString: made)
        defer { _ = try? ChildProcess.run("/bin/rm", arguments: ["-rf", dir]) }
        let script = """
            #!/bin/sh
            case "$CNI_COMMAND" in
            ADD) touch '\(dir)/allocated'; cat <<'RESULT'
            \(result)
            RESULT
            ;;
            DEL) rm -f '\(dir)/allocated'; echo DEL >>'\(dir)/calls' ;;
            esac
            """
        let fd = open(dir + "/fake-ipam", O_WRONLY | O_CREAT | O_EXCL, 0o755)
        guard fd >= 0 else { throw PluginError(.io, "cannot create the fake IPAM in \(dir)") }
        _ = Array(script.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return try body(dir)
    }

    static func bridge(_ command: String, node: String, container: String, cniPath: String) throws -> ChildProcessOutput {
        let bridge = try #require(bridgeExecutable, "build the bridge product first (swift build)")
        return try ChildProcess.run(MasqueradeFixture.ip, arguments: ["netns", "exec", node, bridge],
                                    environment: ["CNI_COMMAND=\(command)", "CNI_CONTAINERID=hostile1",
                                                  "CNI_NETNS=/run/netns/\(container)", "CNI_IFNAME=eth0", "CNI_PATH=\(cniPath)"],
                                    stdin: config)
    }

    /// The links in `ns` other than `lo`.
    static func links(in ns: String, type: String? = nil) throws -> [String] {
        let listing = try MasqueradeFixture.run(MasqueradeFixture.ip, ["-n", ns, "-o", "link", "show"] + (type.map { ["type", $0] } ?? []))
        return listing.split(separator: "\n").compactMap { line in
            let name = line.split(separator: ":", maxSplits: 2).dropFirst().first.map { String($0.drop { $0 == " " }.prefix { $0 != "@" }) }
            return name == "lo" ? nil : name
        }
    }

    @Test(arguments: [
        (result(route: #","mtu":-1"#), "routes[0].mtu: -1 is out of range 0...4294967295"),
        (result(route: #","mtu":4294967297"#), "routes[0].mtu: 4294967297 is out of range 0...4294967295"),
        (result(route: #","mtu":1e3"#), "routes[0].mtu: 1000.0 is not an integer"),
        (result(route: #","priority":-1"#), "routes[0].priority: -1 is out of range 0...4294967295"),
        (result(route: #","advmss":99999999999999999999"#), "routes[0].advmss: 1e+20 is out of range 0...4294967295"),
        (result(route: #","scope":256"#), "routes[0].scope: 256 is out of range 0...255"),
        (result(ipFields: #","interface":1e300"#), "ips[0].interface: 1e+300 is out of range"),
    ])
    func hostileNumberFailsAddCleanly(_ result: String, _ named: String) throws {
        try MasqueradeFixture.withNamespaces(2, prefix: "brh") { ns in
            let (node, container) = (ns[0], ns[1])
            try Self.withFakeIPAM(printing: result) { cniPath in
                let add = try Self.bridge("ADD", node: node, container: container, cniPath: cniPath)
                #expect(add.termination == .exited(1), "a CNI error, not a signal: \(add.termination)")
                let error = try JSONValue.parse(add.stdout, what: "bridge ADD output")
                #expect(error["code"] == .int(7))
                let message = error["msg"]?.stringValue ?? ""
                #expect(message.hasPrefix("fake-ipam result: " + named), "\(message)")

                #expect(try Self.links(in: container).isEmpty, "nothing left in the container")
                #expect(try Self.links(in: node, type: "veth").isEmpty, "no host end left")
                #expect(access(cniPath + "/allocated", F_OK) != 0, "the allocation was released")

                let del = try Self.bridge("DEL", node: node, container: container, cniPath: cniPath)
                #expect(del.succeeded, "DEL: \(del.termination) \(String(decoding: del.stdout, as: UTF8.self))")
            }
            // The same container then attaches with a sane result: nothing in the way.
            try Self.withFakeIPAM(printing: Self.result(route: #","mtu":1400"#)) { cniPath in
                let add = try Self.bridge("ADD", node: node, container: container, cniPath: cniPath)
                #expect(add.succeeded, "\(add.termination) \(String(decoding: add.stdout, as: UTF8.self))")
                let routes = try MasqueradeFixture.run(MasqueradeFixture.ip, ["-n", container, "route", "show", "10.98.0.0/16"])
                #expect(routes.contains("mtu 1400"), "\(routes)")
            }
        }
    }
}
