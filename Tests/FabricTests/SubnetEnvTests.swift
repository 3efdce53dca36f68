import CNI
import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

@Suite struct SubnetEnvTests {
    @Test func rendersFlannelsFile() {
        let env = SubnetEnv(network: IPPrefix("10.244.0.0/16")!, lease: IPPrefix("10.244.1.0/24")!, mtu: 1450, ipMasq: true)
        #expect(env.rendered() == "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
        #expect(env.leasedSubnet == IPPrefix("10.244.1.0/24"))
        let dual = SubnetEnv(network: IPPrefix("10.244.0.0/16")!, lease: IPPrefix("10.244.1.0/24")!,
                             ipv6Network: IPPrefix("fd00:10::/48"), ipv6Lease: IPPrefix("fd00:10:0:1::/64"),
                             mtu: 1450, ipMasq: false)
        #expect(dual.rendered() == "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"
                + "FLANNEL_IPV6_NETWORK=fd00:10::/48\nFLANNEL_IPV6_SUBNET=fd00:10:0:1::1/64\n"
                + "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n")
    }

    @Test func roundTripThroughAFile() throws {
        let dir = RegistryTempDirectory("env")
        let path = dir.path + "/run/flannel/subnet.env"  // parents are created
        let env = SubnetEnv(network: IPPrefix("10.244.0.0/16")!, lease: IPPrefix("10.244.7.0/24")!, mtu: 1400, ipMasq: false)
        try env.write(to: path)
        #expect(try SubnetEnv.read(from: path) == env)
        // Rewriting replaces the file and leaves no temp files behind.
        var changed = env
        changed.mtu = 1450
        try changed.write(to: path)
        #expect(try SubnetEnv.read(from: path).mtu == 1450)
        #expect(try RegistryFiles.list(dir.path + "/run/flannel") == ["subnet.env"])
    }

    @Test func toleratesCommentsBlankLinesAndQuotes() throws {
        let text = "# written by hand\n\nexport FLANNEL_NETWORK=10.244.0.0/16\r\nFLANNEL_SUBNET = \"10.244.3.1/24\"\n"
            + "  FLANNEL_MTU=1450  \nFLANNEL_IPMASQ=TRUE\nOTHER=1\n"
        let env = try SubnetEnv.parse(text, path: "x")
        #expect(env.network == IPPrefix("10.244.0.0/16") && env.subnet == IPPrefix("10.244.3.1/24"))
        #expect(env.mtu == 1450 && env.ipMasq)
    }

    @Test func missingFileIsTryAgainNamingIt() {
        #expect {
            _ = try SubnetEnv.read(from: "/nonexistent/rgt/subnet.env")
        } throws: { error in
            let e = error as? PluginError
            return e?.kind == .tryAgainLater && e?.message.contains("/nonexistent/rgt/subnet.env") == true
        }
    }

    /// FLANNEL_MTU out of a link MTU's range (flannel takes any uint32 and lets the kernel
    /// refuse it later; 65536 used to be accepted here) is refused as out of range (code 7)
    /// naming the field; a non-number stays a decode error.
    @Test func mtuOutOfRangeIsInvalidConfigNamingTheField() {
        func mtuError(_ value: String) -> PluginError? {
            do {
                _ = try SubnetEnv.parse("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=\(value)\n", path: "/run/flannel/subnet.env")
                return nil
            } catch {
                return error
            }
        }
        for value in ["65536", "4294967297", "99999999999999999999999", "0"] {
            let e = mtuError(value)
            #expect(e?.kind == .invalidConfig, "FLANNEL_MTU=\(value): \(String(describing: e))")
            #expect(e?.message.contains("FLANNEL_MTU=\(value)") == true)
        }
        for value in ["-1", "1e3", "+1450", "14 50"] {
            #expect(mtuError(value)?.kind == .decode, "FLANNEL_MTU=\(value)")
        }
        #expect(mtuError("65535") == nil && mtuError("1") == nil)
    }

    @Test func badContentIsNamed() {
        for text in ["FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_MTU=1450\n",
                     "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n",
                     "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=nope\nFLANNEL_MTU=1\n",
                     "garbage line\n"] {
            #expect(throws: PluginError.self) { _ = try SubnetEnv.parse(text, path: "/run/flannel/subnet.env") }
        }
    }
}
