import NetTypes
import Netlink
import Testing
@testable import Dataplane
@testable import Netlink

/// flanneld's underlay choice over read-back links, addresses and routes.
struct UnderlayChoiceTests {
    let links = [
        Link(index: 1, name: "lo"), Link(index: 2, name: "eth0"), Link(index: 3, name: "ens5"),
    ]
    let addresses = [
        InterfaceAddress(index: 1, prefix: IPPrefix("127.0.0.1/8")!, scope: .host),
        InterfaceAddress(index: 2, prefix: IPPrefix("192.168.50.11/24")!),
        InterfaceAddress(index: 3, prefix: IPPrefix("10.7.0.5/16")!),
    ]
    var routes: [Route] {
        [Route(destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("192.168.50.1"), outputIndex: 2),
         Route(destination: IPPrefix("10.7.0.0/16")!, outputIndex: 3),
         Route(destination: IPPrefix("192.168.50.0/24")!, outputIndex: 2)]
    }

    func resolve(_ choice: UnderlayChoice) throws -> Underlay {
        try Underlay.resolve(choice: choice, publicIP: nil, links: links, addresses: addresses, routes: routes)
    }

    @Test func firstExistingIfaceWins() throws {
        let u = try resolve(UnderlayChoice(interfaces: ["nosuch0", "ens5", "eth0"]))
        #expect(u.name == "ens5")
        #expect(u.localAddress == IPAddress("10.7.0.5"))
        #expect(try resolve(UnderlayChoice(interfaces: ["10.9.9.9", "192.168.50.11"])).name == "eth0")
    }

    @Test func noExistingIfaceNamesThemAll() {
        #expect(throws: DataplaneError.self) { try resolve(UnderlayChoice(interfaces: ["nosuch0", "nosuch1"])) }
        do {
            _ = try resolve(UnderlayChoice(interfaces: ["nosuch0", "nosuch1"]))
        } catch {
            #expect("\(error)".contains("nosuch0, nosuch1"))
        }
    }

    @Test func regexMatchesAddressesBeforeNames() throws {
        // "5" is in ens5's name and in 10.7.0.5: the address match comes first in flanneld.
        #expect(try resolve(UnderlayChoice(patterns: ["^192\\.168\\."])).name == "eth0")
        #expect(try resolve(UnderlayChoice(patterns: ["^ens"])).name == "ens5")
        #expect(try resolve(UnderlayChoice(patterns: ["^nomatch$", "eth"])).name == "eth0")
        #expect(throws: DataplaneError.self) { try resolve(UnderlayChoice(patterns: ["^wlan"])) }
        // lo has no usable address: never picked by name.
        #expect(throws: DataplaneError.self) { try resolve(UnderlayChoice(patterns: ["^lo$"])) }
    }

    @Test func canReachTakesTheMostSpecificRoute() throws {
        #expect(try resolve(UnderlayChoice(canReach: IPAddress("10.7.3.3"))).name == "ens5")
        #expect(try resolve(UnderlayChoice(canReach: IPAddress("8.8.8.8"))).name == "eth0")
    }

    @Test func defaultRouteWhenNothingIsGiven() throws {
        #expect(try resolve(UnderlayChoice()).name == "eth0")
    }
}
