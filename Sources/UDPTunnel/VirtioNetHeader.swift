import CMnl

/// The header TUN puts before every packet when opened with IFF_VNET_HDR (struct
/// virtio_net_hdr, 10 bytes, little-endian on the hosts we run on): whether the packet is a
/// GSO super-packet to be cut into `gsoSize` pieces, and where a checksum is left for us to
/// finish. Parsed by hand from bytes because a read is untrusted input for the splitter.
struct VirtioNetHeader: Equatable {
    static let size = 10
    static let needsChecksum = UInt8(VIRTIO_NET_HDR_F_NEEDS_CSUM)
    static let dataValid = UInt8(VIRTIO_NET_HDR_F_DATA_VALID)
    static let gsoNone = UInt8(VIRTIO_NET_HDR_GSO_NONE)
    static let gsoTCPv4 = UInt8(VIRTIO_NET_HDR_GSO_TCPV4)
    static let gsoTCPv6 = UInt8(VIRTIO_NET_HDR_GSO_TCPV6)
    static let gsoUDPL4 = cmnl_virtio_gso_udp_l4()
    static let gsoECN = UInt8(VIRTIO_NET_HDR_GSO_ECN)

    var flags: UInt8 = 0
    var gsoType: UInt8 = 0
    var headerLength: UInt16 = 0
    var gsoSize: UInt16 = 0
    var checksumStart: UInt16 = 0
    var checksumOffset: UInt16 = 0

    init(flags: UInt8 = 0, gsoType: UInt8 = 0, headerLength: UInt16 = 0, gsoSize: UInt16 = 0,
         checksumStart: UInt16 = 0, checksumOffset: UInt16 = 0) {
        self.flags = flags
        self.gsoType = gsoType
        self.headerLength = headerLength
        self.gsoSize = gsoSize
        self.checksumStart = checksumStart
        self.checksumOffset = checksumOffset
    }

    init(reading p: UnsafeRawPointer) {
        flags = p.byte(0)
        gsoType = p.byte(1)
        headerLength = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        gsoSize = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        checksumStart = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        checksumOffset = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
    }

    func write(to p: UnsafeMutableRawPointer) {
        p.setByte(0, flags)
        p.setByte(1, gsoType)
        p.storeBytes(of: headerLength.littleEndian, toByteOffset: 2, as: UInt16.self)
        p.storeBytes(of: gsoSize.littleEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: checksumStart.littleEndian, toByteOffset: 6, as: UInt16.self)
        p.storeBytes(of: checksumOffset.littleEndian, toByteOffset: 8, as: UInt16.self)
    }
}
