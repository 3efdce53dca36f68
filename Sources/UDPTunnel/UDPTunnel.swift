import CMnl
import Glibc
import NetTypes
import Synchronization

/// flannel's UDP backend: the persistent TUN device `flannel0` and the UDP socket on port
/// 8285, with threads that move packets between them (docs/udp-tunnel.md).
///
/// Calling order for the agent: create it on a thread inside the node's network namespace
/// (the device and sockets belong to the namespace they are created in), configure the link
/// over netlink (MTU = underlay - 28, the subnet address as /32, the network's route, up),
/// `replacePeers`, `start()`; `replacePeers` on every lease change; `stop()` on shutdown
/// leaves the device, its address and route in place for the next agent.
package final class UDPTunnel: Sendable {
    package let configuration: UDPTunnelConfiguration
    /// What was negotiated, for the log.
    package let pathDescription: String
    private let device: TunDevice
    private let sockets: [Int32]
    private let virtioHeader: Bool
    private let gso: Bool
    private let coalesce: Bool
    private let shared: TunnelShared
    private let counters: [WorkerCounters]
    private let stopWriteFD: Int32
    private let state = Mutex(State.created)

    private enum State { case created, running([pthread_t]), stopped }

    /// The default worker pairs when the configuration leaves it open (measured, see
    /// docs/udp-tunnel.md).
    package static let defaultWorkers = 1
    /// Messages per recvmmsg on the offload path, each up to a 64 KiB UDP_GRO train. 64
    /// measured no better than 8 here (docs/udp-tunnel.md): the trains already carry ~45
    /// segments each.
    static let receiveBatch = 8

    /// Opens (creating if needed) the persistent TUN device in the calling thread's network
    /// namespace and binds the UDP socket(s). Does not set MTU, address, route or up.
    package init(_ configuration: UDPTunnelConfiguration) throws(UDPTunnelError) {
        self.configuration = configuration
        guard case .v4(let bind) = configuration.publicAddress else {
            throw UDPTunnelError("public address \(configuration.publicAddress)", advice: "flannel's UDP backend is IPv4 only")
        }
        guard configuration.network.family == .v4, configuration.ownSubnet.family == .v4,
              configuration.network.overlaps(configuration.ownSubnet),
              configuration.ownSubnet.length >= configuration.network.length else {
            throw UDPTunnelError("subnet \(configuration.ownSubnet) in network \(configuration.network)",
                                 advice: "both IPv4, the subnet inside the network")
        }
        let workers = configuration.workers ?? Self.defaultWorkers
        guard workers >= 1, workers <= 16 else { throw UDPTunnelError("workers \(workers)", advice: "1 to 16") }
        let wantOffload = configuration.path == .automatic
        var pipeFDs: [Int32] = [0, 0]
        guard cmnl_pipe2(&pipeFDs, O_CLOEXEC) == 0 else { throw UDPTunnelError("create the stop pipe", errno: errno) }

        var device: TunDevice
        do {
            device = try TunDevice.open(name: configuration.deviceName, queues: workers, virtioHeader: wantOffload,
                                        segmentation: configuration.offloads.contains(.tunSegmentation))
            if wantOffload && device.offloads == 0 {
                // A vnet header without TSO buys nothing: take flannel's path.
                for fd in device.queues { close(fd) }
                device = try TunDevice.open(name: configuration.deviceName, queues: workers, virtioHeader: false)
            }
        } catch {
            close(pipeFDs[0]); close(pipeFDs[1])
            throw error
        }
        var sockets: [Int32] = []
        do {
            for _ in device.queues {
                sockets.append(try UDPSocket.open(address: bind, port: configuration.port, reusePort: device.queues.count > 1))
            }
        } catch {
            for fd in sockets + device.queues + pipeFDs { close(fd) }
            throw error
        }
        let offload = device.virtioHeader
        var gro = offload && configuration.offloads.contains(.udpGRO)
        if gro { for fd in sockets { gro = UDPSocket.enableGRO(fd) && gro } }
        let gso = offload && configuration.offloads.contains(.udpGSO) && UDPSocket.supportsGSO(sockets[0])

        self.device = device
        self.sockets = sockets
        self.virtioHeader = offload
        self.gso = gso
        self.coalesce = gro
        self.stopWriteFD = pipeFDs[1]
        counters = (0..<(2 * device.queues.count)).map { _ in WorkerCounters() }
        let network = PeerTable.v4(configuration.network.address), networkMask = PeerTable.mask(configuration.network.length)
        let own = PeerTable.v4(configuration.ownSubnet.address), ownMask = PeerTable.mask(configuration.ownSubnet.length)
        shared = TunnelShared(egress: EgressRoute(network: network & networkMask, networkMask: networkMask,
                                                  ownNetwork: own & ownMask, ownMask: ownMask),
                              ingress: IngressCheck(ownNetwork: own, ownMask: ownMask),
                              stopFD: pipeFDs[0])
        pathDescription = offload
            ? Self.describe(offloads: device.offloads, gso: gso, gro: gro, queues: device.queues.count)
            : "plain, \(device.queues.count) queue\(device.queues.count == 1 ? "" : "s")"
    }

    static func describe(offloads: UInt32, gso: Bool, gro: Bool, queues: Int) -> String {
        var tun: [String] = offloads == UInt32(TUN_F_CSUM) ? ["CSUM"] : []
        if offloads & UInt32(TUN_F_TSO4) != 0 { tun.append("TSO4") }
        if offloads & UInt32(cmnl_tun_f_uso4()) != 0 { tun.append("USO4") }
        var udp: [String] = []
        if gso { udp.append("GSO") }
        if gro { udp.append("GRO") }
        return "offload: tun vnet_hdr \(tun.joined(separator: "+")), UDP \(udp.isEmpty ? "sendmmsg" : udp.joined(separator: "+")), "
            + "\(queues) queue\(queues == 1 ? "" : "s")"
    }

    deinit {
        stop()
    }

    /// Starts two forwarding threads per queue (TUN to UDP, UDP to TUN). Once only.
    package func start() {
        state.withLock { state in
            guard case .created = state else { return }
            var threads: [pthread_t] = []
            for (i, tun) in device.queues.enumerated() {
                let egress = EgressWorker(tun: tun, socket: sockets[i], virtioHeader: virtioHeader, gso: gso,
                                          shared: shared, counters: counters[2 * i])
                let ingress = IngressWorker(tun: tun, socket: sockets[i], deviceName: device.name, virtioHeader: virtioHeader,
                                            batch: virtioHeader ? Self.receiveBatch : 1, coalesce: coalesce, shared: shared, counters: counters[2 * i + 1])
                if let t = startThread({ egress.run() }) { threads.append(t) }
                if let t = startThread({ ingress.run() }) { threads.append(t) }
            }
            state = .running(threads)
        }
    }

    /// Swaps in a new peer table (one allocation, one lock, one atomic increment); the
    /// threads pick it up before their next batch.
    package func replacePeers(_ peers: [UDPPeer]) {
        shared.replace(peers)
    }

    /// Stops and joins the threads and closes the files. The device, its address and route
    /// stay (TUNSETPERSIST) for the next agent.
    package func stop() {
        let threads: [pthread_t]? = state.withLock { state in
            switch state {
            case .stopped: return nil
            case .created: state = .stopped; return []
            case .running(let threads): state = .stopped; return threads
            }
        }
        guard let threads else { return }
        shared.markStopping()
        var byte: UInt8 = 1
        _ = write(stopWriteFD, &byte, 1)
        for thread in threads { pthread_join(thread, nil) }
        for fd in device.queues + sockets + [shared.stopFD, stopWriteFD] { close(fd) }
    }

    package func statistics() -> UDPTunnelStatistics {
        var total = UDPTunnelStatistics()
        for worker in counters { total.add(worker.snapshot) }
        return total
    }
}
