# swift-cni — build, install, test and demo. Every target that needs Debian packages installs
# them itself (idempotently), so a fresh Debian 12 machine needs only `make demo` / `make test`.
# RUNLEVEL=1 keeps package scripts from starting services (etcd-server) on the host.

PREFIX      ?= /opt/cni/bin
BINDIR      ?= /usr/local/bin
DESTDIR     ?=
SWIFT       ?= swift
# CNI plugins: static executables (no shared library at all, like the reference Go plugins),
# stdlib only: no Foundation, no package dependency.
PLUGINS     := bridge host-local loopback flannel-vxlan host-gw flannel-udp
# The node daemon: the Swift stdlib linked statically, glibc dynamic (it resolves etcd host
# names through glibc's NSS, which a static glibc cannot load reliably).
DAEMON      := swift-flanneld
# Where `make build` puts all six: what install, the tests, the demo and the bench use.
BIN_DIR     := .build/cni-bin

# The toolchain's usual place on our machines, if it is not on PATH already.
export PATH := $(PATH):/opt/swift/usr/bin

# Build and runtime needs: libmnl's headers for netlink (nothing links the library), nft for masquerade, iproute2/ping for the
# tests, Go + libcni source for the libcni driver, the reference plugins for side-by-side
# tests, etcd for the cross-host registry tests, tcpdump/curl to observe the dataplane and
# the agent's endpoints; dpkg-dev, lintian, systemd (systemd-analyze) and python3 (a
# NOTIFY_SOCKET listener) to build and check the Debian package (mk/deb.mk).
DEBIAN_PACKAGES := libmnl-dev pkg-config iproute2 nftables iptables iputils-ping jq \
                   golang-go golang-github-appc-cni-dev containernetworking-plugins \
                   etcd-server etcd-client tcpdump curl openssl binutils \
                   dpkg-dev lintian systemd python3 gcc

.PHONY: all deps build install test unit-test integration-test demo clean

all: build

deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Build and link flags for the release binaries, chosen for process start (every CNI call is one
# process; bench/PROFILE.md section 1 has the measurements):
# - libstdc++ and libgcc linked statically: two fewer shared objects to map and relocate. The
#   Swift driver's `-lstdc++` finds libstdc++.a first in STATIC_CXX_DIR, which holds only a
#   link to GCC's static archive.
# - --no-export-dynamic: the driver's static-stdlib link exports every Swift symbol, which
#   only makes the dynamic symbol table large; nothing resolves symbols against the plugin.
# - -no-pie: no run-time relocation of the executable (about 36,000 relative relocations
#   and the copy-on-write faults of the pages they touch), as the reference Go plugins,
#   which are not PIE either.
# - --disable-local-rpath: no $ORIGIN run path, so ld.so does not try 13 paths under the
#   agent's directory before finding libm and libc where they are.
# - -cross-module-optimization: generic code of NetTypes/CNI/Netlink/IPAM gets specialized
#   in the plugin that calls it instead of going through the runtime's generic metadata and
#   protocol-conformance lookups at first use (those were ~15 % of an ADD's CPU); ADD
#   measured 3.7 ms against 4.0 ms without it, interleaved.
# - -static-executable for the same-host plugins (own scratch path, the flags differ):
#   no ld.so, no shared objects to map or relocate; VERSION 1.07 ms against 1.83 ms, ADD
#   0.27-0.29x the reference against 0.36-0.37x dynamic (three interleaved runs of 20).
STATIC_CXX_DIR := $(CURDIR)/.build/static-cxx
RELEASE_FLAGS := -Xswiftc -L$(STATIC_CXX_DIR) -Xswiftc -Xclang-linker -Xswiftc -static-libgcc \
                      -Xswiftc -Xclang-linker -Xswiftc -no-pie -Xlinker --no-export-dynamic \
                      --disable-local-rpath -Xswiftc -cross-module-optimization

build: deps
	@mkdir -p $(STATIC_CXX_DIR) && ln -sf "$$(cc -print-file-name=libstdc++.a)" $(STATIC_CXX_DIR)/libstdc++.a
	$(SWIFT) build -c release --static-swift-stdlib $(RELEASE_FLAGS) --product $(DAEMON)
	for p in $(PLUGINS); do \
	  $(SWIFT) build -c release --scratch-path .build/static -Xswiftc -static-executable \
	    -Xswiftc -cross-module-optimization --product $$p || exit 1; \
	done
	@mkdir -p $(BIN_DIR)
	@for p in $(PLUGINS); do cp -f .build/static/release/$$p $(BIN_DIR)/$$p; done
	@cp -f .build/release/$(DAEMON) $(BIN_DIR)/$(DAEMON)
	@# A plugin must be static and must not carry Foundation (it costs milliseconds at every
	@# container start, see bench/PROFILE.md): the build fails otherwise.
	@for p in $(PLUGINS); do \
	  if ldd $(BIN_DIR)/$$p >/dev/null 2>&1; then echo "$$p is not a static executable" >&2; exit 1; fi; \
	  if nm $(BIN_DIR)/$$p | grep -q 'Foundation'; then echo "$$p links Foundation/FoundationEssentials" >&2; exit 1; fi; \
	done
	@if ldd $(BIN_DIR)/$(DAEMON) | grep -q /opt/swift; then echo "$(DAEMON) links the Swift toolchain dynamically" >&2; exit 1; fi
	@if ldd $(BIN_DIR)/$(DAEMON) | grep -q 'libstdc++\|libgcc_s'; then echo "$(DAEMON) links libstdc++/libgcc_s dynamically" >&2; exit 1; fi
	@echo "in $(BIN_DIR): $(PLUGINS) $(DAEMON)"

# Installed stripped: symbols and debug info are half the file and no plugin run reads them.
install: build
	install -d $(DESTDIR)$(PREFIX) $(DESTDIR)$(BINDIR)
	for p in $(PLUGINS); do install -s -m 0755 $(BIN_DIR)/$$p $(DESTDIR)$(PREFIX)/$$p; done
	install -s -m 0755 $(BIN_DIR)/$(DAEMON) $(DESTDIR)$(BINDIR)/$(DAEMON)

unit-test: deps
	$(SWIFT) test

integration-test: build
	PLUGINS_DIR=$(CURDIR)/$(BIN_DIR) bash integration/run.sh

test: unit-test integration-test fuzz-smoke

# One node with three containers on a bridge, then two nodes joined by the vxlan overlay
# (embedded directory registry) with two containers each; each prints a ping matrix.
demo: build
	PLUGINS_DIR=$(CURDIR)/$(BIN_DIR) bash integration/demo.sh
	PLUGINS_DIR=$(CURDIR)/$(BIN_DIR) bash integration/demo-cross.sh

clean:
	rm -rf .build .build-fuzz .build-asan .build-tsan integration/bin integration/.gopath

# Benchmark against the reference plugins (not part of `make test`): writes bench/results.md
# and bench/results.json. About 15 minutes.
.PHONY: bench
bench: build
	BENCH_BIN=$(CURDIR)/$(BIN_DIR) bash bench/run.sh

include mk/deb.mk
include mk/fuzz.mk
