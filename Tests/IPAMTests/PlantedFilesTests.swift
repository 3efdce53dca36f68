import CNI
import Glibc
import NetTypes
import Testing
import TestSupport

@testable import IPAM

/// What a runtime, an operator or another tenant can plant in host-local's directory (or at
/// `resolvConf`): a symlink, a symlink loop, a FIFO, a unix socket, a /dev/zero node or a
/// huge file where the plugin expects its own small files. Nothing planted may redirect a
/// write, block a command, blow up memory, or get its address handed out; the plugin's
/// entry points are run in-process (the ones that could block under a deadline) or, where a
/// regression would read /dev/zero without end, as the built binary under a memory cap.
@Suite struct PlantedFilesTests {
    /// 10.9.0.2 ... 10.9.0.6 are handed out (.1 is the gateway, .7 the broadcast).
    func configJSON(_ dir: String, _ extraIPAM: String = "", extra: String = "") -> String {
        #"{"cniVersion":"1.1.0","name":"net1","type":"host-local",\#(extra)"ipam":{"type":"host-local","dataDir":"\#(dir)",\#(extraIPAM)"ranges":[[{"subnet":"10.9.0.0/29"}]]}}"#
    }

    func environment(_ command: String, _ id: String) -> [String: String] {
        ["CNI_COMMAND": command, "CNI_CONTAINERID": id, "CNI_IFNAME": "eth0",
         "CNI_NETNS": "/proc/self/ns/net", "CNI_PATH": "/nonexistent"]
    }

    /// One command through the dispatcher: its stdout and exit status.
    func run(_ command: String, _ id: String, _ dir: String, _ extraIPAM: String = "", extra: String = "") -> (out: String, status: Int32) {
        let (out, status) = Dispatcher.run(HostLocalPlugin(), environment: environment(command, id),
                                           stdin: Array(configJSON(dir, extraIPAM, extra: extra).utf8))
        return (out ?? "", status)
    }

    /// `run` on its own thread: nil when it did not return within 5 s (then the FIFOs are
    /// opened to release it, so the suite goes on).
    func runWithDeadline(_ command: String, _ id: String, _ dir: String, _ extraIPAM: String = "", extra: String = "",
                         fifos: [String]) -> (out: String, status: Int32)? {
        resultWithin(5, unblocking: fifos) { run(command, id, dir, extraIPAM, extra: extra) }
    }

    func network(_ dir: String) throws -> String {
        let path = dir + "/net1"
        try Posix.makeDirectories(path, mode: 0o755)
        return path
    }

    // MARK: - last_reserved_ip.N

    /// The reference's `os.WriteFile` (and ours before) truncates and overwrites a symlink's
    /// target; a dangling one makes `O_CREAT` create a file wherever it points.
    @Test func cursorSymlinkIsReplacedNotWrittenThrough() throws {
        try withTempDir { dir in
            let net = try network(dir)
            try writeFile(dir + "/victim", "precious content")
            #expect(symlink(dir + "/victim", net + "/last_reserved_ip.0") == 0)
            let (out, status) = run("ADD", "c1", dir)
            #expect(status == 0, "\(out)")
            #expect(fileText(dir + "/victim") == "precious content")
            #expect(fileType(net + "/last_reserved_ip.0") == S_IFREG)
            #expect(fileText(net + "/last_reserved_ip.0") == "10.9.0.2")

            // Dangling: nothing is created at the target.
            #expect(unlink(net + "/last_reserved_ip.0") == 0)
            #expect(symlink(dir + "/created-through-link", net + "/last_reserved_ip.0") == 0)
            #expect(run("ADD", "c2", dir).status == 0)
            #expect(fileType(dir + "/created-through-link") == nil)
            #expect(fileText(net + "/last_reserved_ip.0") == "10.9.0.3")
        }
    }

    // MARK: - reservations

    /// A FIFO named like an address blocked every scan in `open` (DEL while holding the
    /// network lock, so every other ADD and DEL of the network queued behind it). Each
    /// command returns at once now, and the FIFO's address is never handed out.
    @Test func reservationFIFOBlocksNoCommand() throws {
        try withTempDir { dir in
            let net = try network(dir)
            #expect(run("ADD", "c1", dir).status == 0)  // 10.9.0.2
            let fifo = net + "/10.9.0.3"
            #expect(plantFIFO(fifo))
            let keepC1 = #""cni.dev/valid-attachments":[{"containerID":"c1","ifname":"eth0"},{"containerID":"c2","ifname":"eth0"}],"#
            let steps: [(String, String, String)] = [("DEL", "gone", ""), ("CHECK", "c1", ""), ("ADD", "c2", ""),
                                                     ("STATUS", "", ""), ("GC", "", keepC1), ("DEL", "c1", "")]
            for (command, id, extra) in steps {
                let result = runWithDeadline(command, id, dir, extra: extra, fifos: [fifo])
                #expect(result != nil, "\(command) blocked on the FIFO")
                #expect(result?.status == 0, "\(command): \(result?.out ?? "")")
                if command == "ADD" { #expect(result?.out.contains("10.9.0.4/29") == true, "\(result?.out ?? "")") }
            }
            #expect(fileType(fifo) == S_IFIFO, "a planted entry is not the plugin's to remove")
            #expect(try Posix.listDirectory(net).sorted() == ["10.9.0.3", "10.9.0.4", "last_reserved_ip.0", "lock"])

            // Asking for its address names what is there.
            let asked = runWithDeadline("ADD", "c3", dir, extra: #""runtimeConfig":{"ips":["10.9.0.3"]},"#, fifos: [fifo])
            #expect(asked?.status == 1)
            #expect(asked?.out.contains("an entry that is no reservation") == true, "\(asked?.out ?? "")")
            #expect(asked?.out.contains("FIFO") == true)
        }
    }

    /// A unix socket or a symlink loop named like an address made every scan throw (open's
    /// ENXIO, ELOOP): no ADD, DEL or GC of the network worked. A symlink to a file holding
    /// c1's holder line made the address count as c1's (and DEL removed the link). Now each
    /// is set aside: its address stays taken, nobody holds it, nothing removes it.
    @Test func socketLoopAndSymlinkEntriesAreSetAside() throws {
        try withTempDir { dir in
            let net = try network(dir)
            #expect(plantSocket(net + "/10.9.0.3"))
            #expect(symlink("10.9.0.4", net + "/10.9.0.4") == 0)  // a loop of one
            try writeFile(dir + "/claim", "c1\r\neth0")
            #expect(symlink(dir + "/claim", net + "/10.9.0.5") == 0)

            let (added, status) = run("ADD", "c1", dir)
            #expect(status == 0, "\(added)")
            #expect(added.contains("10.9.0.2/29"))
            let second = run("ADD", "c2", dir)
            #expect(second.out.contains("10.9.0.6/29"), "\(second.out)")
            let a = HostLocalAllocator(config: try HostLocalConfig(networkConfig: Array(configJSON(dir).utf8)))
            #expect(try a.addresses(containerID: "c1", ifname: "eth0") == [ip("10.9.0.2")])
            #expect(run("CHECK", "c1", dir).status == 0)
            #expect(run("DEL", "c1", dir).status == 0)
            #expect(run("GC", "", dir).status == 0)
            #expect(fileType(net + "/10.9.0.3") == S_IFSOCK)
            #expect(fileType(net + "/10.9.0.4") == S_IFLNK)
            #expect(fileType(net + "/10.9.0.5") == S_IFLNK)
            #expect(fileText(dir + "/claim") == "c1\r\neth0")
            #expect(fileType(net + "/10.9.0.2") == nil && fileType(net + "/10.9.0.6") == nil)
        }
    }

    /// A file larger than any reservation can be (8 MiB of zeros) was read whole and then,
    /// holding no holder, removed as residue and its address handed out. Now it is not
    /// read past the cap, and its address stays taken.
    @Test func oversizedReservationKeepsItsAddress() throws {
        try withTempDir { dir in
            let net = try network(dir)
            #expect(plantLargeFile(net + "/10.9.0.2", size: 8 << 20))
            let (added, status) = run("ADD", "c1", dir)
            #expect(status == 0, "\(added)")
            #expect(added.contains("10.9.0.3/29"), "\(added)")
            #expect(run("DEL", "c1", dir).status == 0)
            #expect(run("GC", "", dir).status == 0)
            #expect(fileType(net + "/10.9.0.2") == S_IFREG)
        }
    }

    // MARK: - lock

    /// A dangling symlink at `lock` made `O_CREAT` create its target (a file created as root
    /// wherever the link points). Now the command fails naming the lock, and nothing is created.
    @Test func lockSymlinkIsRefused() throws {
        try withTempDir { dir in
            let net = try network(dir)
            #expect(symlink(dir + "/created-through-lock", net + "/lock") == 0)
            let (out, status) = run("ADD", "c1", dir)
            #expect(status == 1)
            #expect(out.contains(#""code":5"#) && out.contains("lock") && out.contains("symbolic link"), "\(out)")
            #expect(fileType(dir + "/created-through-lock") == nil)
            #expect(try Posix.listDirectory(net) == ["lock"], "nothing reserved")
        }
    }

    // MARK: - resolvConf

    /// resolvConf is the operator's path: a symlink is followed (as the reference does), but
    /// a FIFO hung ADD in `open`. Now it is refused at once, before anything is reserved.
    @Test func resolvConfFIFOIsRefusedAndASymlinkFollowed() throws {
        try withTempDir { dir in
            try writeFile(dir + "/resolv.real", "nameserver 192.0.2.53\nsearch example.test\n")
            #expect(symlink(dir + "/resolv.real", dir + "/resolv.link") == 0)
            let linked = run("ADD", "c1", dir, #""resolvConf":"\#(dir)/resolv.link","#)
            #expect(linked.status == 0, "\(linked.out)")
            #expect(linked.out.contains("192.0.2.53"))

            let fifo = dir + "/resolv.fifo"
            #expect(plantFIFO(fifo))
            let result = runWithDeadline("ADD", "c2", dir, #""resolvConf":"\#(fifo)","#, fifos: [fifo])
            #expect(result != nil, "ADD blocked on the FIFO")
            #expect(result?.status == 1)
            #expect(result?.out.contains("resolv.fifo") == true && result?.out.contains("FIFO") == true, "\(result?.out ?? "")")
            #expect(try Posix.listDirectory(dir + "/net1").sorted() == ["10.9.0.2", "last_reserved_ip.0", "lock"])
        }
    }

    // MARK: - /dev/zero, through the built binary

    /// /dev/zero as a reservation (a symlink to it, or a device node) or as resolvConf: the
    /// plugin read it into memory until the machine ran out (~1 GB within seconds). Run as
    /// the built `host-local` under a 512 MiB address-space cap: it answers at once now.
    @Test func zeroDeviceNeverFillsMemory() throws {
        let plugin = builtProduct("host-local")
        try #require(access(plugin, X_OK) == 0, "\(plugin) is not built")
        try withTempDir { dir in
            let net = try network(dir)
            func binary(_ command: String, _ id: String, _ extraIPAM: String = "") throws -> ChildProcessOutput {
                try ChildProcess.run(
                    "/bin/sh", arguments: cappedCommand(plugin, memoryMiB: 512, seconds: 20),
                    environment: environment(command, id).map { "\($0.key)=\($0.value)" },
                    stdin: Array(configJSON(dir, extraIPAM).utf8))
            }
            #expect(try binary("ADD", "c1").succeeded)  // 10.9.0.2
            #expect(symlink("/dev/zero", net + "/10.9.0.3") == 0)
            #expect(plantZeroDevice(net + "/10.9.0.4"))
            for command in ["DEL", "ADD"] {
                let out = try binary(command, command == "DEL" ? "c1" : "c2")
                #expect(out.succeeded, "\(command): \(out.termination) \(String(decoding: out.stdout, as: UTF8.self))")
            }
            #expect(fileText(net + "/10.9.0.5") == "c2\r\neth0", "the planted addresses were skipped")

            let refused = try binary("ADD", "c3", #""resolvConf":"/dev/zero","#)
            #expect(refused.termination == .exited(1))
            let text = String(decoding: refused.stdout, as: UTF8.self)
            #expect(text.contains("/dev/zero") && text.contains("character device"), "\(refused.termination) \(text)")
        }
    }
}
