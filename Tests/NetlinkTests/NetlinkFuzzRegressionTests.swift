import Glibc
import Testing
@testable import Netlink

/// Inputs the fuzz-netlink target found crashing (Fuzz/regressions/netlink holds the raw files,
/// replayed by `make fuzz-smoke`).
@Suite struct NetlinkFuzzRegressionTests {
    /// An NLMSG_ERROR whose code is Int32.min: negating it trapped (arithmetic overflow). A
    /// code that is no negative errno is a malformed reply, reported as EPROTO.
    @Test func errorCodeWithoutNegation() throws {
        let datagram = hexBytes("14 00 00 00 02 00 00 00 07 00 00 00 00 00 00 00 00 00 00 80")
        let error = try #require(ReceivedMessage.split(datagram).first?.failure(operation: "dump"))
        #expect(error.errno == EPROTO)
    }

    @Test func positiveErrorCodeIsMalformed() throws {
        let datagram = hexBytes("14 00 00 00 02 00 00 00 07 00 00 00 00 00 00 00 11 00 00 00")
        let error = try #require(ReceivedMessage.split(datagram).first?.failure(operation: "dump"))
        #expect(error.errno == EPROTO)
    }

    @Test func negativeErrnoIsUnchanged() throws {
        let datagram = hexBytes("14 00 00 00 02 00 00 00 07 00 00 00 00 00 00 00 ef ff ff ff")
        let error = try #require(ReceivedMessage.split(datagram).first?.failure(operation: "dump"))
        #expect(error.errno == EEXIST)
    }
}
