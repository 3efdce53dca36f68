import Testing
import NetTypes
@testable import CNI

/// Numbers from JSON we do not control (configs, a delegated IPAM plugin's result,
/// prevResult): read within the range of what they become, refused as code 7 naming the
/// field, never trapping later and never rounded from `1e3`.
@Suite struct IntegerFieldTests {
    func fields(_ text: String) throws -> ConfigFields {
        try ConfigFields(JSONValue.parse(Array(text.utf8), what: "test"), path: "routes[0]", what: "fake result")
    }

    /// The error `body` throws; records an issue when it throws none.
    func refusal(_ body: () throws -> Void) -> PluginError? {
        do {
            try body()
            Issue.record("accepted")
        } catch let e as PluginError {
            return e
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    @Test func integersWithinTheRangeAreRead() throws {
        let f = try fields(#"{"mtu":1000,"zero":0,"max":4294967295,"neg":-3,"null":null}"#)
        #expect(try f.integer("mtu", as: UInt32.self) == 1000)
        #expect(try f.integer("zero", as: UInt32.self) == 0)
        #expect(try f.integer("max", as: UInt32.self) == UInt32.max)
        #expect(try f.integer("neg", in: -5...5) == -3)
        #expect(try f.int("neg") == -3)
        #expect(try f.integer("null", as: UInt32.self) == nil)
        #expect(try f.integer("absent", as: UInt8.self) == nil)
    }

    @Test(arguments: [
        (#"{"mtu":-1}"#, "fake result: routes[0].mtu: -1 is out of range 0...4294967295"),
        (#"{"mtu":4294967296}"#, "fake result: routes[0].mtu: 4294967296 is out of range 0...4294967295"),
        (#"{"mtu":4294967297}"#, "fake result: routes[0].mtu: 4294967297 is out of range 0...4294967295"),
        (#"{"mtu":99999999999999999999}"#, "fake result: routes[0].mtu: 1e+20 is out of range 0...4294967295"),
        (#"{"mtu":-1e300}"#, "fake result: routes[0].mtu: -1e+300 is out of range 0...4294967295"),
        (#"{"mtu":1e3}"#, "fake result: routes[0].mtu: 1000.0 is not an integer (it is written with a fraction or an exponent)"),
        (#"{"mtu":1000.0}"#, "fake result: routes[0].mtu: 1000.0 is not an integer (it is written with a fraction or an exponent)"),
        (#"{"mtu":1.5}"#, "fake result: routes[0].mtu: 1.5 is not an integer (it is written with a fraction or an exponent)"),
    ])
    func outOfRangeOrNotAnIntegerIsCode7NamingTheField(_ text: String, _ message: String) throws {
        let f = try fields(text)
        let e = refusal { _ = try f.integer("mtu", as: UInt32.self) }
        #expect(e?.kind == .invalidConfig)
        #expect(e?.message == message)
    }

    @Test func eachTypeHasItsOwnRange() throws {
        let f = try fields(#"{"scope":256,"port":65536,"small":-129,"big":9223372036854775807}"#)
        #expect(refusal { _ = try f.integer("scope", as: UInt8.self) }?.message == "fake result: routes[0].scope: 256 is out of range 0...255")
        #expect(refusal { _ = try f.integer("port", as: UInt16.self) }?.kind == .invalidConfig)
        #expect(refusal { _ = try f.integer("small", as: Int8.self) }?.kind == .invalidConfig)
        #expect(refusal { _ = try f.integer("big", as: Int32.self) }?.kind == .invalidConfig)
        #expect(try f.integer("big", as: Int.self) == Int.max)
        #expect(refusal { _ = try f.integer("scope", in: 0...200) }?.message == "fake result: routes[0].scope: 256 is out of range 0...200")
    }

    /// Not a number at all stays a decoding failure (code 6), as for every field of the wrong type.
    @Test func aStringIsStillCode6() throws {
        let e = refusal { _ = try fields(#"{"mtu":"1500"}"#).integer("mtu", as: UInt32.self) }
        #expect(e?.kind == .decode)
        #expect(e?.description.contains("at routes[0].mtu") == true)
    }

    @Test func theParserKeepsHowANumberIsWritten() throws {
        #expect(try JSONParser.parse(Array("1000".utf8)) == .int(1000))
        #expect(try JSONParser.parse(Array("1e3".utf8)) == .double(1000))
        #expect(try JSONParser.parse(Array("5.0".utf8)) == .double(5))
        #expect(try JSONParser.parse(Array("-0".utf8)) == .int(0))
        #expect(JSONValue.double(1000).intValue == nil)
        #expect(JSONValue.int(1000).intValue == 1000)
    }

    /// A result (a delegated IPAM plugin's stdout, or prevResult) with a hostile number in any
    /// numeric field is refused naming it; on main these were read and trapped in the bridge
    /// (mtu -1, priority -1) or were taken or dropped without a word.
    @Test(arguments: [
        (#""routes":[{"dst":"10.98.0.0/16","mtu":-1}]"#, "routes[0].mtu: -1 is out of range 0...4294967295"),
        (#""routes":[{"dst":"10.98.0.0/16","mtu":4294967297}]"#, "routes[0].mtu: 4294967297 is out of range 0...4294967295"),
        (#""routes":[{"dst":"10.98.0.0/16","mtu":1e3}]"#, "routes[0].mtu: 1000.0 is not an integer"),
        (#""routes":[{"dst":"10.98.0.0/16"},{"dst":"0.0.0.0/0","priority":-1}]"#, "routes[1].priority: -1 is out of range 0...4294967295"),
        (#""routes":[{"dst":"10.98.0.0/16","advmss":99999999999999999999}]"#, "routes[0].advmss: 1e+20 is out of range"),
        (#""routes":[{"dst":"10.98.0.0/16","table":-5}]"#, "routes[0].table: -5 is out of range 0...4294967295"),
        (#""routes":[{"dst":"10.98.0.0/16","scope":256}]"#, "routes[0].scope: 256 is out of range 0...255"),
        (#""interfaces":[{"name":"eth0","mtu":-1500}]"#, "interfaces[0].mtu: -1500 is out of range 0...4294967295"),
        (#""ips":[{"address":"10.99.0.5/24","interface":-1}]"#, "ips[0].interface: -1 is out of range 0...9223372036854775807"),
        (#""ips":[{"address":"10.99.0.5/24","interface":1e300}]"#, "ips[0].interface: 1e+300 is out of range"),
    ])
    func hostileNumbersInAResultAreCode7(_ body: String, _ named: String) throws {
        let json = try JSONValue.parse(Array(#"{"cniVersion":"1.1.0",\#(body)}"#.utf8), what: "test")
        let e = refusal { _ = try CNIResult(json: json, what: "fake-ipam result") }
        #expect(e?.kind == .invalidConfig)
        #expect(e?.message.hasPrefix("fake-ipam result: " + named) == true, "\(e?.message ?? "none")")
    }

    @Test func fullRangeRouteAttributesAreKept() throws {
        let text = #"{"cniVersion":"1.1.0","routes":[{"dst":"10.98.0.0/16","mtu":4294967295,"advmss":0,"priority":4294967295,"table":254,"scope":255}]}"#
        let result = try CNIResult(json: JSONValue.parse(Array(text.utf8), what: "test"), what: "test")
        #expect(result.routes == [.init(destination: IPPrefix("10.98.0.0/16")!, mtu: .max, advmss: 0, priority: .max, table: 254, scope: 255)])
        #expect(try CNIResult(json: result.json(version: .v1_1_0), what: "again") == result)
    }

    /// prevResult goes through the same reader: code 7 from the dispatcher, naming the field.
    @Test func prevResultWithAHostileNumberIsCode7() throws {
        let env = ["CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/run/netns/x", "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin"]
        let config = #"{"cniVersion":"1.1.0","name":"n","type":"echo","prevResult":{"routes":[{"dst":"0.0.0.0/0","priority":-1}]}}"#
        let (out, status) = Dispatcher.run(EchoPlugin(), environment: env, stdin: Array(config.utf8))
        let error = try JSONValue.parse(Array(try #require(out).utf8), what: "out")
        #expect(status != 0)
        #expect(error["code"] == .int(7))
        #expect(error["msg"]?.stringValue == "prevResult: routes[0].priority: -1 is out of range 0...4294967295")
    }
}
