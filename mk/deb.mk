# The Debian package (packaging/): the plugins in /opt/cni/bin, swift-flanneld in /usr/bin
# with its systemd unit and /etc/default/swift-flanneld, the example conflists as docs.
# Offline: it packages what `make build` built. The version is Sources/CNI/SuiteVersion.swift's.
DEB_ARCH    = $(shell dpkg --print-architecture)
DEB_VERSION = $(shell sed -n 's/^ *package static let string = "\([^"]*\)"$$/\1/p' Sources/CNI/SuiteVersion.swift)
DEB         = .build/swift-cni_$(DEB_VERSION)_$(DEB_ARCH).deb

.PHONY: deb deb-lint
deb: build
	bash packaging/build-deb.sh $(BIN_DIR) .build
	@dpkg-deb --info $(DEB) | sed -n 's/^ \(Package\|Version\|Installed-Size\|Depends\):/  \1:/p'

# lintian's findings; the warnings kept on purpose are listed in integration/package.sh.
deb-lint: deb
	lintian --info --no-cfg $(DEB)
