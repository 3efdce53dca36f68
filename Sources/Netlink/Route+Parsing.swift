import CMnl
import NetTypes

extension Route {
    /// Parses an RTM_NEWROUTE message; nil for cached clones, multipath and unknown families.
    init?(_ message: ReceivedMessage) {
        guard message.messageType == UInt16(RTM_NEWROUTE),
              let header = loadStruct(rtmsg.self, from: message.payload),
              header.rtm_flags & UInt32(RTM_F_CLONED) == 0,
              let family = IPAddress.Family(socketFamily: header.rtm_family) else { return nil }
        let attributes = message.attributes(after: rtmsg.self)
        let unspecified: IPAddress = family == .v4 ? .v4(0) : .v6(0, 0)
        let destinationAddress = attributes[RTA_DST.rawValue].flatMap { IPAddress(bytes: $0) } ?? unspecified
        guard let destination = IPPrefix(address: destinationAddress, length: Int(header.rtm_dst_len)) else {
            return nil
        }
        let metrics = attributes.nested(RTA_METRICS.rawValue)
        self.init(
            destination: destination,
            gateway: attributes[RTA_GATEWAY.rawValue].flatMap { IPAddress(bytes: $0) },
            outputIndex: attributes.int32(RTA_OIF.rawValue),
            table: attributes.uint32(RTA_TABLE.rawValue) ?? UInt32(header.rtm_table),
            scope: Scope(rawValue: header.rtm_scope),
            routeProtocol: RouteProtocol(rawValue: header.rtm_protocol),
            priority: attributes.uint32(RTA_PRIORITY.rawValue),
            preferredSource: attributes[RTA_PREFSRC.rawValue].flatMap { IPAddress(bytes: $0) },
            mtu: metrics?.uint32(RTAX_MTU),
            advmss: metrics?.uint32(RTAX_ADVMSS),
            onlink: header.rtm_flags & UInt32(RTNH_F_ONLINK) != 0,
            type: RouteType(rawValue: header.rtm_type))
    }
}
