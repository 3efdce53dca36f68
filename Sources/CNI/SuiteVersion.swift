/// The suite's version, one place for every binary (`swift-flanneld --version`, the
/// plugins' `--version` and self-introduction) and for the Debian package
/// (packaging/build-deb.sh reads the string literal below: keep it on one line).
package enum SuiteVersion {
    package static let string = "0.4.0"

    /// What a plugin started by hand (no `CNI_COMMAND`) prints on stderr, in the reference
    /// plugins' words: what it is, its version, and the CNI versions it speaks.
    package static func introduction(plugin: String) -> String {
        "CNI \(plugin) plugin (swift-cni) v\(string)\n"
            + "CNI protocol versions supported: \(SpecVersion.allCases.map(\.rawValue).joined(separator: ", "))\n"
    }
}
