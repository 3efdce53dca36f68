import CNI
import NetTypes
import Testing
@testable import SubnetRegistry
@testable import Dataplane
@testable import FlannelCNI
@testable import FlannelAgent

/// Watch messages as etcd 3.4's JSON gateway writes them (captured from a real etcd), decoded
/// without an etcd.
struct EtcdWatchMessageTests {
    static let prefix = "/p/subnets/"
    static let header = #""header":{"cluster_id":"2037210783374497686","member_id":"13195394291058371180","revision":"5","raft_term":"2"}"#

    /// Decodes `line` and checks that the fast path (when it takes the message) and the full
    /// decoder agree.
    static func decode(_ line: String, after: Int64 = 0) throws -> EtcdWatchMessage {
        let bytes = Array(line.utf8)
        let message = try EtcdWatchMessage.decode(bytes, subnetsPrefix: prefix, after: after)
        #expect(try message == EtcdWatchMessage.decodeInFull(bytes, subnetsPrefix: prefix, after: after))
        return message
    }

    static func b64(_ text: String) -> String { EtcdJSON.base64(text) }

    /// A PUT as etcd writes it: no "type" (proto3 leaves the zero value out).
    static func put(_ key: String, _ value: String, revision: Int) -> String {
        #"{"kv":{"key":"\#(b64(prefix + key))","create_revision":"\#(revision)","mod_revision":"\#(revision)","#
            + #""version":"1","value":"\#(b64(value))","lease":"7668682480528584198"}}"#
    }

    static func delete(_ key: String, revision: Int) -> String {
        #"{"type":"DELETE","kv":{"key":"\#(b64(prefix + key))","mod_revision":"\#(revision)"}}"#
    }

    static func events(_ events: [String]) -> String {
        #"{"result":{\#(header),"events":[\#(events.joined(separator: ","))]}}"#
    }

    static func lease(_ ip: String = "192.168.1.2") -> String {
        #"{"PublicIP":"\#(ip)","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:01"}}"#
    }

    @Test func createdAndBlankLines() throws {
        #expect(try Self.decode(#"{"result":{\#(Self.header),"created":true}}"#) == .created)
        #expect(try Self.decode("") == .other)
        #expect(try Self.decode(" \r") == .other)
    }

    @Test func putsOfOneTransactionAndADelete() throws {
        let message = try Self.decode(Self.events([
            Self.put("10.244.1.0-24", Self.lease(), revision: 5),
            Self.put("10.244.2.0-24", Self.lease("192.168.1.3"), revision: 5),
            Self.delete("10.244.3.0-24", revision: 6),
        ]))
        guard case .events(let events, let revision, _) = message else { Issue.record("\(message)"); return }
        #expect(revision == 6)
        #expect(events.count == 3)
        guard case .put(let first) = events[0], case .put(let second) = events[1] else { Issue.record("\(events)"); return }
        #expect(first.subnet == IPPrefix("10.244.1.0/24")! && first.publicIP == IPAddress("192.168.1.2")!)
        #expect(first.vtepMAC == MACAddress("aa:bb:cc:dd:ee:01")! && first.expiration == nil)
        #expect(second.publicIP == IPAddress("192.168.1.3")!)
        #expect(events[2] == .delete(storedKey: "10.244.3.0-24"))
    }

    /// An unreadable value and a key under subnets/ that is no lease key: no lease, and
    /// reported; keys outside subnets/ are not the registry's leases at all.
    @Test func unreadableEntriesAreNoLeaseAndReported() throws {
        let message = try Self.decode(Self.events([
            Self.put("10.244.4.0-24", "not json", revision: 7),
            Self.put("README", "hello", revision: 7),
            #"{"kv":{"key":"\#(Self.b64("/p/config"))","mod_revision":"7","value":"e30="}}"#,
        ]))
        guard case .events(let events, let revision, let skipped) = message else { Issue.record("\(message)"); return }
        #expect(events == [.delete(storedKey: "10.244.4.0-24"), .delete(storedKey: "README")])
        #expect(revision == 7)
        #expect(skipped.map(\.storedKey) == ["10.244.4.0-24", "README"])
        #expect(skipped.allSatisfy { $0.reason == .unreadable })
    }

    /// Keys in another spelling or below extra segments reach the judge under their stored
    /// name (etcd keys are literal strings), with the create revision as their age.
    @Test func aliasKeysArePassedOnWithTheirStoredNameAndAge() throws {
        for key in ["evil/dir/10.244.7.0-24", "../../10.244.8.0-24", "10.244.9.0-024"] {
            let line = Self.events([#"{"kv":{"key":"\#(Self.b64("/p/subnets/" + key))","create_revision":"4","mod_revision":"7","version":"2","value":"\#(Self.b64(Self.lease()))"}}"#])
            #expect(EtcdWatchScan.events(in: Array(line.utf8)) != nil)  // the fast path reads create_revision too
            let decoded = try Self.decode(line)  // and agrees with the full decoder
            guard case .events(let events, _, let skipped) = decoded, case .put(let lease)? = events.first else {
                Issue.record("\(decoded)"); continue
            }
            #expect(lease.storedKey == key)
            #expect(lease.creationRank == 4)
            #expect(skipped.isEmpty)
        }
    }

    @Test func aDualStackKeysDeleteCarriesBothHalves() throws {
        let line = Self.events([Self.delete("10.244.1.0-24&fd00:0:0:1::-64", revision: 6)])
        #expect(try Self.decode(line, after: 5)
                == .events([.delete(storedKey: "10.244.1.0-24&fd00:0:0:1::-64")], revision: 6))
    }

    @Test func eventsAlreadyListedAreDropped() throws {
        let line = Self.events([Self.put("10.244.1.0-24", Self.lease(), revision: 5), Self.delete("10.244.1.0-24", revision: 6)])
        #expect(try Self.decode(line, after: 5) == .events([.delete(storedKey: "10.244.1.0-24")], revision: 6))
        #expect(try Self.decode(line, after: 6) == .events([], revision: 6))
    }

    @Test func compactionCancelsTheWatch() throws {
        let line = #"{"result":{"header":{"cluster_id":"2037210783374497686","member_id":"13195394291058371180","raft_term":"2"},"#
            + #""canceled":true,"compact_revision":"4"}}"#
        #expect(try Self.decode(line) == .canceled(reason: "history compacted up to revision 4"))
        #expect(try Self.decode(#"{"result":{"canceled":true}}"#) == .canceled(reason: "canceled by etcd"))
    }

    @Test func fastPathTakesEventMessagesOnlyAndGivesUpOnEscapes() throws {
        let plain = Self.events([Self.put("10.244.1.0-24", Self.lease(), revision: 5)])
        #expect(EtcdWatchScan.events(in: Array(plain.utf8))?.count == 1)
        for other in [#"{"result":{\#(Self.header),"created":true}}"#, #"{"result":{"canceled":true}}"#,
                      #"{"result":{\#(Self.header),"events":[]}}"#, #"{"error":{"message":"no leader"}}"#,
                      plain.replacingFirst("\"kv\"", with: "\"k\\u0076\""), plain + "x"] {
            #expect(EtcdWatchScan.events(in: Array(other.utf8)) == nil, "\(other)")
        }
        // An escaped key name is still decoded right, by the full decoder.
        let escaped = plain.replacingFirst("\"kv\"", with: "\"k\\u0076\"")
        #expect(try Self.decode(escaped, after: 0) == Self.decode(plain, after: 0))
    }

    @Test func base64FromBytesMatchesFoundation() {
        for text in ["", "Zg==", "Zm8=", "Zm9v", "L3Avc3VibmV0cy8xMC4xLjAuMC0yNA==", "eyJQdWJsaWNJUCI6IjEuMi4zLjQifQ=="] {
            #expect(EtcdJSON.decodeBase64(bytes: ArraySlice(text.utf8)) == EtcdJSON.decodeBase64(.string(text)), "\(text)")
        }
        for bad in ["Zg=", "Z===", "Zg=a", "Zm9v!A==", "=Zm9"] {
            #expect(EtcdJSON.decodeBase64(bytes: ArraySlice(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test func gatewayErrorsAreThrownWithEtcdsMessage() throws {
        #expect {
            _ = try Self.decode(#"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}}"#)
        } throws: { error in
            (error as? PluginError)?.message == "etcd watch on /p/subnets/: etcdserver: no leader"
        }
        #expect(throws: PluginError.self) { _ = try Self.decode("{\"result\":") }
    }
}

extension String {
    /// The text with its first occurrence of `target` replaced (FoundationEssentials-free).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }
}
