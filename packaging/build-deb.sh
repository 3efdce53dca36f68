#!/usr/bin/env bash
# Builds the swift-cni Debian package from already built binaries, offline and without root:
#
#   bash packaging/build-deb.sh <bin-dir> [<out-dir>]
#
# <bin-dir> holds the five plugins and swift-flanneld as `make build` leaves them in
# .build/cni-bin. The package is written to <out-dir> (default: <bin-dir>/..) as
# swift-cni_<version>_<arch>.deb and its path printed on stdout.
#
# The version is read from one place, Sources/CNI/SuiteVersion.swift; the build stops when
# packaging/changelog's top entry or any binary's --version says something else.
set -euo pipefail

PKG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$PKG_DIR/.." && pwd)
PLUGINS=(bridge host-local loopback flannel-vxlan host-gw flannel-udp)
DAEMON=swift-flanneld
NAME=swift-cni

die() { echo "build-deb: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: build-deb.sh <bin-dir> [<out-dir>]"
BIN_DIR=$(cd "$1" && pwd) || die "no directory $1"
OUT_DIR=${2:-$BIN_DIR/..}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
for t in dpkg-deb dpkg-shlibdeps dpkg-parsechangelog strip gzip; do
    command -v "$t" >/dev/null || die "missing tool: $t (apt-get install dpkg-dev binutils)"
done

VERSION=$(sed -n 's/^ *package static let string = "\([^"]*\)"$/\1/p' "$REPO_DIR/Sources/CNI/SuiteVersion.swift")
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "no version in Sources/CNI/SuiteVersion.swift (got '$VERSION')"
CHANGELOG_VERSION=$(dpkg-parsechangelog -l "$PKG_DIR/changelog" -S Version)
[ "$CHANGELOG_VERSION" = "$VERSION" ] ||
    die "packaging/changelog's top entry is $CHANGELOG_VERSION, the suite is $VERSION: add a changelog entry"
ARCH=$(dpkg --print-architecture)
# Every file's time is the changelog entry's, so the same inputs give the same package.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$PKG_DIR/changelog" -S Timestamp)
export SOURCE_DATE_EPOCH

for b in "${PLUGINS[@]}" "$DAEMON"; do
    [ -x "$BIN_DIR/$b" ] || die "missing binary $BIN_DIR/$b (make build)"
    v=$("$BIN_DIR/$b" --version </dev/null 2>/dev/null) || die "$b --version failed"
    [ "$v" = "$VERSION" ] || die "$BIN_DIR/$b --version says '$v', the suite is $VERSION: stale binary?"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-deb.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
ROOT=$WORK/root
DOC=$ROOT/usr/share/doc/$NAME

# ---- the tree
install -d -m 0755 "$ROOT/DEBIAN" "$ROOT/opt/cni/bin" "$ROOT/usr/bin" "$ROOT/lib/systemd/system" \
    "$ROOT/etc/default" "$DOC/examples" "$ROOT/usr/share/lintian/overrides"
# Stripped as by dh_strip (symbols and debug info are half the file; no run reads them).
for p in "${PLUGINS[@]}"; do
    install -m 0755 "$BIN_DIR/$p" "$ROOT/opt/cni/bin/$p"
    strip --remove-section=.comment --remove-section=.note "$ROOT/opt/cni/bin/$p"
done
install -m 0755 "$BIN_DIR/$DAEMON" "$ROOT/usr/bin/$DAEMON"
strip --remove-section=.comment --remove-section=.note "$ROOT/usr/bin/$DAEMON"
install -m 0644 "$PKG_DIR/swift-flanneld.service" "$ROOT/lib/systemd/system/swift-flanneld.service"
install -m 0644 "$PKG_DIR/swift-flanneld.default" "$ROOT/etc/default/swift-flanneld"
install -m 0644 "$PKG_DIR/copyright" "$DOC/copyright"
gzip -9n <"$PKG_DIR/changelog" >"$DOC/changelog.gz" && chmod 0644 "$DOC/changelog.gz"
install -m 0644 "$REPO_DIR/README.md" "$DOC/README.md"
install -m 0644 "$REPO_DIR/docs/cross-host.md" "$DOC/cross-host.md"
# Examples only: an active conflist in /etc/cni/net.d would change every container's network.
for c in "$REPO_DIR"/cni-conf/*.conflist; do install -m 0644 "$c" "$DOC/examples/"; done
install -m 0644 "$REPO_DIR/cni-conf/README.md" "$DOC/examples/README.md"
install -m 0644 "$PKG_DIR/lintian-overrides" "$ROOT/usr/share/lintian/overrides/$NAME"

# ---- control
install -m 0644 "$PKG_DIR/conffiles" "$ROOT/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "$PKG_DIR/$s" "$ROOT/DEBIAN/$s"; done
# Shared-library dependencies of the daemon (the plugins are static and need none).
mkdir -p "$WORK/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$NAME" "$NAME" >"$WORK/shlibs/debian/control"
DEPENDS=$(cd "$WORK/shlibs" && dpkg-shlibdeps -O -e"$ROOT/usr/bin/$DAEMON" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$DEPENDS" ] || die "dpkg-shlibdeps found no dependencies of $DAEMON"
# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up, plus one per directory.
SIZE=$(find "$ROOT" -path "$ROOT/DEBIAN" -prune -o \( -type f -printf '%s\n' \) -o \( -type d -printf '1024\n' \) |
    awk '{ s += int(($1 + 1023) / 1024) } END { print s }')
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$SIZE/" -e "s/@DEPENDS@/$DEPENDS/" \
    "$PKG_DIR/control.in" >"$ROOT/DEBIAN/control"
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum) >"$ROOT/DEBIAN/md5sums"
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/md5sums"

find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
DEB="$OUT_DIR/${NAME}_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
