import CNI
import Testing

@testable import IPAM

/// The plugin commands end to end through the dispatcher, in-process.
@Suite struct HostLocalPluginTests {
    func run(_ command: String, _ id: String, _ dir: String, extra: String = "") -> (String?, Int32) {
        let config = #"{"cniVersion":"1.1.0","name":"net1","type":"host-local",\#(extra)"ipam":{"type":"host-local","dataDir":"\#(dir)","routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"10.9.0.0/30"}]]}}"#
        let env = [
            "CNI_COMMAND": command, "CNI_CONTAINERID": id, "CNI_IFNAME": "eth0",
            "CNI_NETNS": "/proc/self/ns/net", "CNI_PATH": "/usr/lib/cni",
        ]
        return Dispatcher.run(HostLocalPlugin(), environment: env, stdin: Array(config.utf8))
    }

    @Test func addCheckStatusGCDel() throws {
        try withTempDir { dir in
            let (added, status) = run("ADD", "c1", dir)
            #expect(status == 0)
            #expect(added?.contains(#""address":"10.9.0.2/30""#) == true, "\(added ?? "")")
            #expect(added?.contains(#""gateway":"10.9.0.1""#) == true)
            #expect(added?.contains(#""dst":"0.0.0.0/0""#) == true)
            #expect(run("CHECK", "c1", dir).1 == 0)
            #expect(run("CHECK", "c2", dir).1 == 1)
            // The /30 has one usable address: STATUS reports code 50 now.
            let (unavailable, code) = run("STATUS", "", dir)
            #expect(code == 1)
            #expect(unavailable?.contains(#""code":50"#) == true, "\(unavailable ?? "")")
            // GC keeping c1 keeps it; GC keeping nothing frees it.
            let keep = #""cni.dev/valid-attachments":[{"containerID":"c1","ifname":"eth0"}],"#
            #expect(run("GC", "", dir, extra: keep).1 == 0)
            #expect(run("CHECK", "c1", dir).1 == 0)
            #expect(run("GC", "", dir).1 == 0)
            #expect(run("CHECK", "c1", dir).1 == 1)
            #expect(run("STATUS", "", dir).1 == 0)
            #expect(run("DEL", "c1", dir).1 == 0)
        }
    }

    @Test func requestedIPFromRuntimeConfig() throws {
        try withTempDir { dir in
            let (added, status) = run("ADD", "c1", dir, extra: #""runtimeConfig":{"ips":["10.9.0.2"]},"#)
            #expect(status == 0)
            #expect(added?.contains("10.9.0.2/30") == true)
            let (refused, _) = run("ADD", "c2", dir, extra: #""runtimeConfig":{"ips":["10.9.0.2"]},"#)
            #expect(refused?.contains("already allocated to container c1") == true, "\(refused ?? "")")
        }
    }
}
