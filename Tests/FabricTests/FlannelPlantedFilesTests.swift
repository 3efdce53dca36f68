import CNI
import Glibc
import Testing
import TestSupport
@testable import FlannelCNI

/// The flannel CNI face's own files where others can plant entries: `subnetFile` (the
/// operator's path; flannel follows a symlink there, so do we, to a regular file only) and
/// the saved delegate configs under `dataDir` with their temporaries. The delegate is a
/// stand-in script on a private CNI_PATH, so no command touches the network.
@Suite struct FlannelPlantedFilesTests {
    let dir = RegistryTempDirectory("plant")

    init() throws {
        try Posix.makeDirectories(dir.path + "/bin", mode: 0o755)
        try Posix.makeDirectories(dir.path + "/data", mode: 0o755)
        // Answers every command with an empty 1.1.0 result, after reading its config.
        try writeText(dir.path + "/bin/stand-in", "#!/bin/sh\ncat >/dev/null\necho '{\"cniVersion\":\"1.1.0\"}'\n")
        chmod(dir.path + "/bin/stand-in", 0o755)
        try writeText(dir.path + "/subnet.env", "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
    }

    func writeText(_ path: String, _ text: String) throws {
        guard let fd = try Posix.openRegularFile(path, O_WRONLY | O_CREAT | O_TRUNC) else { throw PluginError(.io, path) }
        defer { close(fd) }
        try Posix.writeAll(fd, Array(text.utf8), path: path)
    }

    func text(_ path: String) -> String? {
        (try? Posix.readRegularFile(path, limit: 1 << 20)).flatMap { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    static func configJSON(_ root: String, subnetFile: String?) -> String {
        #"{"cniVersion":"1.1.0","name":"cbr0","type":"flannel-vxlan","subnetFile":"\#(subnetFile ?? root + "/subnet.env")","dataDir":"\#(root)/data","delegate":{"type":"stand-in"}}"#
    }

    static func environment(_ command: String, _ id: String, _ root: String) -> [String: String] {
        ["CNI_COMMAND": command, "CNI_CONTAINERID": id, "CNI_IFNAME": "eth0",
         "CNI_NETNS": "/proc/self/ns/net", "CNI_PATH": root + "/bin"]
    }

    /// One command through the dispatcher, in-process: its stdout and exit status.
    static func run(_ command: String, _ id: String, _ root: String, subnetFile: String?) -> (out: String, status: Int32) {
        let (out, status) = Dispatcher.run(FlannelCNIPlugin(), environment: environment(command, id, root),
                                           stdin: Array(configJSON(root, subnetFile: subnetFile).utf8))
        return (out ?? "", status)
    }

    func run(_ command: String, _ id: String, subnetFile: String? = nil) -> (out: String, status: Int32) {
        Self.run(command, id, dir.path, subnetFile: subnetFile)
    }

    /// `run` on its own thread: nil when it did not return within 5 s (the FIFOs are then
    /// opened to release it, so the suite goes on).
    func runWithDeadline(_ command: String, _ id: String, subnetFile: String? = nil, fifos: [String]) -> (out: String, status: Int32)? {
        let root = dir.path
        return resultWithin(5, unblocking: fifos) { Self.run(command, id, root, subnetFile: subnetFile) }
    }

    /// flannel (and we before) wrote `<dataDir>/<id>.tmp.<pid>` with O_TRUNC through
    /// whatever was there, then renamed it in: a planted symlink got its target overwritten
    /// with the config and became the saved config. Now the temporary is a fresh random name.
    @Test func symlinkAtTheTemporaryNameIsNeitherWrittenThroughNorRenamedIn() throws {
        try writeText(dir.path + "/victim", "precious content")
        let planted = dir.path + "/data/c1.tmp.\(getpid())"
        #expect(symlink(dir.path + "/victim", planted) == 0)
        let (out, status) = run("ADD", "c1")
        #expect(status == 0, "\(out)")
        #expect(text(dir.path + "/victim") == "precious content")
        #expect(fileType(dir.path + "/data/c1") == S_IFREG)
        #expect(text(dir.path + "/data/c1")?.contains(#""type":"stand-in""#) == true)
        #expect(fileType(planted) == S_IFLNK, "the planted link was left alone")
        #expect(run("DEL", "c1").status == 0)
        #expect(fileType(dir.path + "/data/c1") == nil && fileType(planted) == nil, "DEL removes both")
        #expect(text(dir.path + "/victim") == "precious content")
    }

    /// A FIFO as subnet.env hung ADD in `open` (as it hangs flannel's `os.Open`). A symlink
    /// there is still followed, to a regular file.
    @Test func subnetFileFIFOFailsADDAtOnceAndASymlinkIsFollowed() throws {
        #expect(symlink(dir.path + "/subnet.env", dir.path + "/subnet.link") == 0)
        let linked = run("ADD", "c1", subnetFile: dir.path + "/subnet.link")
        #expect(linked.status == 0, "\(linked.out)")

        let fifo = dir.path + "/subnet.fifo"
        #expect(plantFIFO(fifo))
        let result = runWithDeadline("ADD", "c2", subnetFile: fifo, fifos: [fifo])
        #expect(result != nil, "ADD blocked on the FIFO")
        #expect(result?.status == 1)
        #expect(result?.out.contains("subnet.fifo") == true && result?.out.contains("FIFO") == true, "\(result?.out ?? "")")
        #expect(fileType(dir.path + "/data/c2") == nil, "nothing saved")
    }

    /// A FIFO at a saved config hung DEL, CHECK and GC in `open`. Each fails at once now,
    /// naming it (DEL cannot know what to undo without the config).
    @Test func savedConfigFIFOBlocksNoCommand() throws {
        let fifo = dir.path + "/data/c1"
        #expect(plantFIFO(fifo))
        for command in ["DEL", "CHECK", "GC"] {
            let result = runWithDeadline(command, command == "GC" ? "" : "c1", fifos: [fifo])
            #expect(result != nil, "\(command) blocked on the FIFO")
            if command == "GC" {
                #expect(result?.status == 0, "GC skips what it cannot read: \(result?.out ?? "")")
            } else {
                #expect(result?.status == 1)
                #expect(result?.out.contains("FIFO") == true, "\(command): \(result?.out ?? "")")
            }
        }
    }

    /// A symlink at a saved config was followed: DEL ran whatever config it pointed to.
    @Test func savedConfigSymlinkIsRefused() throws {
        try writeText(dir.path + "/elsewhere", #"{"cniVersion":"1.0.0","name":"cbr0","type":"stand-in"}"#)
        #expect(symlink(dir.path + "/elsewhere", dir.path + "/data/c1") == 0)
        let (out, status) = run("DEL", "c1")
        #expect(status == 1)
        #expect(out.contains(#""code":5"#) && out.contains("data/c1") && out.contains("symbolic link"), "\(out)")
        #expect(text(dir.path + "/elsewhere") != nil)
    }

    /// /dev/zero as subnet.env, or a symlink to it as a saved config: the plugin read it into
    /// memory without end. Run as the built `flannel-vxlan` under a 512 MiB address-space cap.
    @Test func zeroDeviceNeverFillsMemory() throws {
        let plugin = builtProduct("flannel-vxlan")
        try #require(access(plugin, X_OK) == 0, "\(plugin) is not built")
        func binary(_ command: String, _ id: String, subnetFile: String? = nil) throws -> (ChildProcessOutput, String) {
            let out = try ChildProcess.run(
                "/bin/sh", arguments: cappedCommand(plugin, memoryMiB: 512, seconds: 20),
                environment: Self.environment(command, id, dir.path).map { "\($0.key)=\($0.value)" },
                stdin: Array(Self.configJSON(dir.path, subnetFile: subnetFile).utf8))
            return (out, String(decoding: out.stdout, as: UTF8.self))
        }
        let (add, addText) = try binary("ADD", "c1", subnetFile: "/dev/zero")
        #expect(add.termination == .exited(1))
        #expect(addText.contains("/dev/zero") && addText.contains("character device"), "\(add.termination) \(addText)")

        #expect(symlink("/dev/zero", dir.path + "/data/c2") == 0)
        let (del, delText) = try binary("DEL", "c2")
        #expect(del.termination == .exited(1))
        #expect(delText.contains("data/c2") && delText.contains("symbolic link"), "\(del.termination) \(delText)")
    }

    /// A `subnetFile` of another JSON type silently fell back to /run/flannel/subnet.env;
    /// now it is a decode error (code 6), as flannel's Go decoding makes it. (`dataDir` takes
    /// the same path; not run here, as the old code would have written to the host's
    /// /var/lib/cni/flannel.)
    @Test func subnetFileOfTheWrongTypeIsADecodeError() throws {
        let config = #"{"cniVersion":"1.1.0","name":"cbr0","type":"flannel-vxlan","subnetFile":5,"delegate":{"type":"stand-in"}}"#
        for command in ["ADD", "STATUS"] {
            let (out, status) = Dispatcher.run(FlannelCNIPlugin(), environment: Self.environment(command, "c1", dir.path),
                                               stdin: Array(config.utf8))
            #expect(status == 1)
            #expect(out?.contains(#""code":6"#) == true && out?.contains("subnetFile") == true, "\(command): \(out ?? "")")
        }
    }

    /// A saved config the face could not read back is refused at ADD, before anything runs.
    /// A delegate that succeeded but printed a result we cannot use (a route `mtu` of -1):
    /// ADD fails with code 7 naming the field, and the delegate is sent a DEL so what it set
    /// up is released (before, the face parsed the result itself and released nothing).
    @Test func unusableDelegateResultIsReleased() throws {
        let log = dir.path + "/stand-in.log"
        try writeText(dir.path + "/bin/stand-in", """
            #!/bin/sh
            cat >/dev/null
            echo "$CNI_COMMAND" >>\(log)
            if [ "$CNI_COMMAND" = ADD ]; then
              echo '{"cniVersion":"1.1.0","ips":[{"address":"10.244.7.5/24"}],"routes":[{"dst":"0.0.0.0/0","mtu":-1}]}'
            else
              echo '{"cniVersion":"1.1.0"}'
            fi

            """)
        let (out, status) = run("ADD", "c1")
        #expect(status != 0)
        #expect(out.contains(#""code":7"#) && out.contains("mtu"), "\(out)")
        #expect(text(log) == "ADD\nDEL\n", "the delegate's ADD was released with a DEL")
    }

    @Test func delegateConfigOverTheSaveLimitIsRefused() throws {
        let store = try SavedDelegateConfigs(directory: dir.path + "/data")
        let huge = JSONValue.object(["type": .string("stand-in"), "pad": .string(String(repeating: "x", count: SavedDelegateConfigs.sizeLimit))])
        #expect {
            try store.save(huge, containerID: "c1")
        } throws: { error in
            (error as? PluginError)?.kind == .invalidConfig
        }
        #expect(fileType(dir.path + "/data/c1") == nil)
    }
}
