/// The suite's version, one place for every binary (`swift-flanneld --version`, the
/// plugins' self-introduction and the package build read it from here).
package enum SuiteVersion {
    package static let string = "0.4.0"
}
