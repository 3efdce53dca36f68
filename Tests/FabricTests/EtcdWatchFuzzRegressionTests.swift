import CNI
import Testing
@testable import SubnetRegistry

/// Inputs the fuzz-etcd-watch target found where the watch's fast scanner decided differently
/// from the full decoder (Fuzz/regressions/etcd-watch holds the raw files). The scanner must
/// give such lines up, so both paths agree.
struct EtcdWatchFuzzRegressionTests {
    static let prefix = "/coreos.com/network/subnets/"
    static let key = "L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjI0NC4xLjAtMjQ="  // <prefix>10.244.1.0-24

    static func line(value: [UInt8]) -> [UInt8] {
        Array(#"{"result":{"events":[{"kv":{"key":"\#(key)","mod_revision":"2","value":""#.utf8) + value
            + Array(#""}}]}}"#.utf8)
    }

    /// A byte outside UTF-8 in a string: the full decoder refuses the line, the scanner took
    /// it and read the lease as deleted.
    @Test func nonUTF8InValueIsLeftToTheFullDecoder() {
        let line = Self.line(value: Array("eyJQdWJsaWNJUCI6IjE5Mi4xNjg".utf8) + [0x8C, 0x91] + Array("MS4yIn0=".utf8))
        #expect(EtcdWatchScan.events(in: line) == nil)
        #expect(throws: PluginError.self) { _ = try EtcdWatchMessage.decode(line, subnetsPrefix: Self.prefix, after: 0) }
    }

    /// A bare token that is no JSON literal or number in a skipped field.
    @Test func invalidScalarIsLeftToTheFullDecoder() {
        for token in ["tru", "1.2.3", "nul", "-"] {
            let line = Array(#"{"result":{"header":{"x":\#(token)},"events":[{"kv":{"key":"\#(Self.key)","mod_revision":"2"}}]}}"#.utf8)
            #expect(EtcdWatchScan.events(in: line) == nil, "\(token)")
            #expect(throws: PluginError.self) { _ = try EtcdWatchMessage.decode(line, subnetsPrefix: Self.prefix, after: 0) }
        }
    }

    /// What etcd writes still takes the fast path, numbers and literals included.
    @Test func validScalarsStillScan() throws {
        let line = Array(#"{"result":{"header":{"n":12,"f":false,"z":null,"e":-1.5E3},"events":[{"kv":{"key":"\#(Self.key)","mod_revision":"2"}}]}}"#.utf8)
        let events = try #require(EtcdWatchScan.events(in: line))
        #expect(events.count == 1)
        let fast = try EtcdWatchMessage.decode(line, subnetsPrefix: Self.prefix, after: 0)
        #expect(fast == (try EtcdWatchMessage.decodeInFull(line, subnetsPrefix: Self.prefix, after: 0)))
    }
}

extension EtcdWatchFuzzRegressionTests {
    /// A key repeated in one object: the full decoder keeps the first value, the scanner kept
    /// the last (a lease put where the full decoder read a delete).
    @Test func repeatedKeyIsLeftToTheFullDecoder() throws {
        let lease = EtcdJSON.base64(#"{"PublicIP":"192.168.1.2"}"#)
        let line = Array(#"{"result":{"events":[{"kv":{"key":"\#(Self.key)","mod_revision":"2","value":"!","value":"\#(lease)"}}]}}"#.utf8)
        #expect(EtcdWatchScan.events(in: line) == nil)
        let decoded = try EtcdWatchMessage.decode(line, subnetsPrefix: Self.prefix, after: 0)
        #expect(decoded == (try EtcdWatchMessage.decodeInFull(line, subnetsPrefix: Self.prefix, after: 0)))
        guard case .events(let events, _, _) = decoded else { Issue.record("not events: \(decoded)"); return }
        #expect(events.count == 1)
        if case .put = events.first { Issue.record("the first value (not base64) must count: \(events)") }
    }
}
