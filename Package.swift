// swift-tools-version:6.0
import PackageDescription

// Plugins are short-lived processes started once per container: they depend on nothing but
// the Swift stdlib, FoundationEssentials and libc (libmnl's headers only, at build time), and
// `make build` links the same-host plugins as static executables, the two node agents with a
// static Swift stdlib.
let package = Package(
    name: "swift-cni",
    products: [
        .executable(name: "bridge", targets: ["bridge"]),
        .executable(name: "host-local", targets: ["host-local"]),
        .executable(name: "loopback", targets: ["loopback"]),
        .executable(name: "flannel-vxlan", targets: ["flannel-vxlan"]),
        .executable(name: "host-gw", targets: ["host-gw"]),
    ],
    targets: [
        // Header only (libmnl-dev's <libmnl/libmnl.h> and the uapi headers): nothing is
        // linked, so no pkg-config entry that would add -lmnl.
        .systemLibrary(name: "CMnl"),
        .target(name: "NetTypes"),
        .target(name: "Netlink", dependencies: ["CMnl", "NetTypes"]),
        .target(name: "NetNS", dependencies: ["CMnl"]),
        .target(name: "CNI", dependencies: ["CMnl", "NetTypes"]),
        .target(name: "IPAM", dependencies: ["CNI", "NetTypes"]),
        .target(name: "Attach", dependencies: ["CNI", "IPAM", "Netlink", "NetNS", "NetTypes"]),
        // Cross-host: registry (directory or etcd), leases, vxlan/host-gw dataplane, node agent.
        .target(name: "Fabric", dependencies: ["Attach", "CNI", "IPAM", "Netlink", "NetNS", "NetTypes"]),
        .executableTarget(name: "bridge", dependencies: ["Attach", "CNI"]),
        .executableTarget(name: "flannel-vxlan", dependencies: ["Fabric", "CNI"]),
        .executableTarget(name: "host-gw", dependencies: ["Fabric", "CNI"]),
        .executableTarget(name: "host-local", dependencies: ["IPAM", "CNI"]),
        .executableTarget(name: "loopback", dependencies: ["Attach", "CNI"]),
        // Helpers shared by test targets (test targets cannot import each other).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "NetTypes"]),
        .testTarget(name: "CNITests", dependencies: ["CNI", "NetTypes"]),
        .testTarget(name: "IPAMTests", dependencies: ["IPAM", "CNI", "NetTypes", "TestSupport"]),
        .testTarget(name: "AttachTests", dependencies: ["Attach", "CNI", "NetTypes"]),
        .testTarget(name: "FabricTests", dependencies: ["Fabric", "Attach", "CNI", "Netlink", "NetNS", "NetTypes", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
