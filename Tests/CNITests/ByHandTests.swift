import Testing
@testable import CNI

/// A plugin started by a person (no `CNI_COMMAND`, or `--version`) answers in words; a
/// runtime's calls are not affected.
@Suite struct ByHandTests {
    let protocols = "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"

    @Test(arguments: [[:], ["CNI_COMMAND": ""], ["CNI_PATH": "/opt/cni/bin"]])
    func noCommandIntroducesThePluginOnStderr(_ environment: [String: String]) throws {
        let answer = try #require(Dispatcher.byHand(arguments: ["/opt/cni/bin/bridge"], environment: environment))
        #expect(answer.fd == 2)
        #expect(answer.text == "CNI bridge plugin (swift-cni) v\(SuiteVersion.string)\nCNI protocol versions supported: \(protocols)\n")
    }

    /// The name is the executable's, so flannel-vxlan and host-gw (one plugin type) say
    /// which one they are.
    @Test(arguments: ["host-gw", "./flannel-vxlan", "/usr/lib/x/host-local"])
    func theNameIsTheExecutables(_ argv0: String) throws {
        let answer = try #require(Dispatcher.byHand(arguments: [argv0], environment: [:]))
        let name = String(argv0.split(separator: "/").last!)
        #expect(answer.text.hasPrefix("CNI \(name) plugin (swift-cni) v"))
    }

    @Test func theProtocolsAreTheOnesVersionReports() throws {
        let answer = try #require(Dispatcher.byHand(arguments: ["loopback"], environment: [:]))
        let (out, status) = Dispatcher.run(EchoPlugin(), environment: ["CNI_COMMAND": "VERSION"], stdin: [])
        #expect(status == 0)
        let json = try JSONValue.parse(Array(try #require(out).utf8), what: "VERSION")
        let listed = try #require(json["supportedVersions"]?.arrayValue)
        let words = listed.compactMap(\.stringValue).joined(separator: ", ")
        #expect(answer.text.hasSuffix("CNI protocol versions supported: \(words)\n"))
    }

    @Test(arguments: [[:], ["CNI_COMMAND": "ADD"]])
    func versionFlagPrintsTheSuiteVersionOnStdout(_ environment: [String: String]) throws {
        let answer = try #require(Dispatcher.byHand(arguments: ["bridge", "--version"], environment: environment))
        #expect(answer == (text: SuiteVersion.string + "\n", fd: 1))
    }

    /// A runtime always sets CNI_COMMAND and passes no arguments: dispatch as before, an
    /// unknown verb included (still code 4 from `run`).
    @Test(arguments: ["ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS", "FOO"])
    func aRuntimeCallIsNotByHand(_ command: String) {
        #expect(Dispatcher.byHand(arguments: ["/opt/cni/bin/bridge"], environment: ["CNI_COMMAND": command]) == nil)
    }

    @Test func otherArgumentsAreNotTheVersionFlag() {
        #expect(Dispatcher.byHand(arguments: ["bridge", "--version", "x"], environment: ["CNI_COMMAND": "ADD"]) == nil)
        #expect(Dispatcher.byHand(arguments: ["bridge", "-version"], environment: ["CNI_COMMAND": "ADD"]) == nil)
    }

    @Test func theSuiteVersionIsThreeNumbers() {
        let parts = SuiteVersion.string.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) })
    }
}
