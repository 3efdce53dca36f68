import Glibc

/// The name for a network namespace a test creates: `tag` behind the prefix in
/// `SWIFTCNI_TEST_NETNS_PREFIX` (empty when unset).
///
/// Several engineers and benches share one machine; a prefix of their own lets each find
/// (and clean up) exactly the namespaces its runs created.
public func testNamespaceName(_ tag: String) -> String {
    let prefix = getenv("SWIFTCNI_TEST_NETNS_PREFIX").map { String(cString: $0) } ?? ""
    return prefix + tag
}
