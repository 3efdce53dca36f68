// swift-tools-version:6.0
import PackageDescription

// Two kinds of executables live here:
// - CNI plugins (bridge, host-local, loopback, flannel-vxlan, host-gw, flannel-udp) are short-lived
//   processes started once per container: they depend on nothing but the Swift stdlib and
//   libc (libmnl's headers only, at build time), and `make build` links them as static
//   executables. No package dependency may reach them.
// - swift-flanneld, the node daemon, runs for the node's lifetime: it uses the well-kept
//   server packages (argument parsing, logging, metrics, HTTP/TLS, service lifecycle).
let package = Package(
    name: "swift-cni",
    products: [
        .executable(name: "bridge", targets: ["bridge"]),
        .executable(name: "host-local", targets: ["host-local"]),
        .executable(name: "loopback", targets: ["loopback"]),
        .executable(name: "flannel-vxlan", targets: ["flannel-vxlan"]),
        .executable(name: "host-gw", targets: ["host-gw"]),
        .executable(name: "flannel-udp", targets: ["flannel-udp"]),
        .executable(name: "swift-flanneld", targets: ["swift-flanneld"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // Header only (libmnl-dev's <libmnl/libmnl.h> and the uapi headers): nothing is
        // linked, so no pkg-config entry that would add -lmnl.
        .systemLibrary(name: "CMnl"),
        .target(name: "NetTypes"),
        .target(name: "Netlink", dependencies: ["CMnl", "NetTypes"]),
        .target(name: "NetNS", dependencies: ["CMnl"]),
        .target(name: "CNI", dependencies: ["CMnl", "NetTypes"]),
        // nftables tables and sets over nfnetlink, shared by the plugins' per-container
        // rules (Attach) and the node daemon's masquerade (Dataplane).
        .target(name: "Nftables", dependencies: ["CNI", "Netlink", "NetNS", "NetTypes"]),
        .target(name: "IPAM", dependencies: ["CNI", "NetTypes"]),
        .target(name: "Attach", dependencies: ["CNI", "IPAM", "Netlink", "NetNS", "NetTypes", "Nftables"]),
        // The flannel CNI face: subnet.env -> bridge + host-local, shared by the three
        // cross-host plugins (flannel-vxlan, host-gw, flannel-udp). Plugin-side: stdlib only.
        .target(name: "FlannelCNI", dependencies: ["Attach", "CNI", "IPAM", "NetTypes"]),
        // Cross-host registry: network config, leases, subnet allocation; directory and etcd
        // (etcd over async-http-client, TLS by swift-nio-ssl). Daemon-side only.
        .target(name: "SubnetRegistry", dependencies: [
            "CNI", "NetTypes",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Cross-host dataplane: vxlan and host-gw entries, the udp backend's device and peer
        // table, plans, reconcile, node masquerade.
        .target(name: "Dataplane", dependencies: ["CNI", "Netlink", "NetNS", "NetTypes", "Nftables", "SubnetRegistry", "UDPTunnel"]),
        // The node daemon's logic: options, start-up, main loop, health, metrics, forward rules.
        .target(name: "FlannelAgent", dependencies: [
            "CNI", "Dataplane", "FlannelCNI", "Netlink", "NetNS", "NetTypes", "Nftables", "SubnetRegistry", "UDPTunnel",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // flannel's UDP backend: the packet engine between the TUN device and the UDP socket
        // (offloads, batching, the ingress check). Daemon-side, but no package dependency:
        // its threads are plain pthreads with blocking system calls.
        .target(name: "UDPTunnel", dependencies: ["CMnl", "NetNS", "NetTypes"]),
        .executableTarget(name: "bridge", dependencies: ["Attach", "CNI"]),
        .executableTarget(name: "flannel-vxlan", dependencies: ["FlannelCNI", "CNI"]),
        .executableTarget(name: "host-gw", dependencies: ["FlannelCNI", "CNI"]),
        .executableTarget(name: "flannel-udp", dependencies: ["FlannelCNI", "CNI"]),
        .executableTarget(name: "host-local", dependencies: ["IPAM", "CNI"]),
        .executableTarget(name: "loopback", dependencies: ["Attach", "CNI"]),
        .executableTarget(name: "swift-flanneld", dependencies: ["FlannelAgent"]),
        // Helpers shared by test targets (test targets cannot import each other).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "NetTypes"]),
        .testTarget(name: "CNITests", dependencies: ["CNI", "NetTypes"]),
        .testTarget(name: "IPAMTests", dependencies: ["IPAM", "CNI", "NetTypes", "TestSupport"]),
        .testTarget(name: "AttachTests", dependencies: ["Attach", "CNI", "NetTypes", "Nftables", "TestSupport"]),
        .testTarget(name: "UDPTunnelTests", dependencies: ["UDPTunnel", "CNI", "NetNS", "NetTypes", "TestSupport"]),
        .testTarget(name: "FabricTests", dependencies: [
            "SubnetRegistry", "Dataplane", "FlannelCNI", "FlannelAgent", "Attach", "CNI", "Netlink", "NetNS",
            "NetTypes", "Nftables", "TestSupport",
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (Fuzz/<Name>/main.swift), one per parser of untrusted bytes: they exist
// only when SWIFT_CNI_FUZZ=1, so normal builds and `swift test` never see them. Built by
// Fuzz/run.sh (fuzzer and AddressSanitizer instrumentation, debug so that testable imports
// reach the internal parsers); docs/fuzzing.md.
if Context.environment["SWIFT_CNI_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, directory: String, dependencies: [Target.Dependency])] = [
        ("fuzz-json", "JSON", ["CNI"]),
        ("fuzz-cni-config", "CNIConfig", ["CNI", "NetTypes"]),
        ("fuzz-cni-args", "CNIArgs", ["CNI"]),
        ("fuzz-ipam-result", "IPAMResult", ["Attach", "CNI", "Netlink"]),
        ("fuzz-host-local-config", "HostLocalConfig", ["IPAM", "CNI"]),
        ("fuzz-reservation", "Reservation", ["IPAM", "CNI", "NetTypes"]),
        ("fuzz-netlink", "Netlink", ["Netlink", "NetTypes"]),
        ("fuzz-etcd-watch", "EtcdWatch", ["SubnetRegistry", "CNI"]),
        ("fuzz-etcd-reply", "EtcdReply", ["SubnetRegistry", "CNI"]),
        ("fuzz-lease", "Lease", ["SubnetRegistry", "CNI", "NetTypes"]),
        ("fuzz-flannel-config", "FlannelConfig", ["SubnetRegistry", "CNI"]),
        ("fuzz-subnet-env", "SubnetEnv", ["FlannelCNI", "CNI"]),
        ("fuzz-udp-packet", "UDPPacket", ["UDPTunnel", "NetTypes"]),
    ]
    for t in fuzzTargets {
        package.targets.append(.executableTarget(name: t.name, dependencies: t.dependencies, path: "Fuzz/\(t.directory)"))
        package.products.append(.executable(name: t.name, targets: [t.name]))
    }
}
