#!/usr/bin/env bash
# Build the libcni driver offline against Debian's golang-github-appc-cni-dev.
# Output: integration/bin/driver (git-ignored, as is integration/.gopath).
set -euo pipefail
INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$INTEG_DIR"
[ -d /usr/share/gocode/src/github.com/containernetworking/cni/libcni ] ||
    { echo "libcni source missing: apt-get install golang-github-appc-cni-dev" >&2; exit 2; }
command -v go >/dev/null || { echo "go missing: apt-get install golang-go" >&2; exit 2; }
mkdir -p bin .gopath/cache
GO111MODULE=off GOPATH="$INTEG_DIR/.gopath:/usr/share/gocode" GOCACHE="$INTEG_DIR/.gopath/cache" \
    GOFLAGS= CGO_ENABLED=0 go build -o bin/driver ./driver
