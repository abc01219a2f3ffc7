#!/usr/bin/env bash
# Builds the pinned restic (and rest-server, a local REST backend) for the tests.
# Debian's restic 0.14 is too old: no exit codes 10/11/12 and a different `unlock` output.
# Idempotent: a binary that exists and reports the pinned version is not rebuilt.
set -euo pipefail

RESTIC_VERSION="${RESTIC_VERSION:-v0.18.1}"
REST_SERVER_VERSION="${REST_SERVER_VERSION:-v0.14.0}"
CACHE="${BACKUP_BOT_CACHE:-$HOME/.cache/backup-bot}"

# Share the module/build caches with the other harness builds so CI caches one directory.
export GOMODCACHE="${GOMODCACHE:-$CACHE/go/mod}"
export GOCACHE="${GOCACHE:-$CACHE/go/build}"
# Static binaries: no libc dependency, so the same files also run in a distroless bot image.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -trimpath"

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; else
    echo "restic.sh: Go is required (https://go.dev/dl/); install it and re-run" >&2; exit 1
  fi
fi

# restic answers `restic version`, rest-server `rest-server --version`.
reported_version() {
  { "$1" version 2>/dev/null || "$1" --version 2>/dev/null; } | head -n1
}

build() { # name repo-module package version bindir
  local name="$1" repo="$2" module="$3" version="$4" bindir="$5"
  local bin="$bindir/$name"
  if [ -x "$bin" ] && reported_version "$bin" | grep -qF "${version#v}"; then
    echo "restic.sh: $name $version already built at $bin"
    return 0
  fi
  echo "restic.sh: building $name $version into $bindir (a few minutes on first run)"
  # Explicit `|| return 1`: `set -e` does not apply inside a function called from `if !`.
  mkdir -p "$bindir" || return 1
  # Not `go install module@version`: that also asks the proxy for the module's version list
  # (to look for deprecations), which proxy.golang.org refuses for restic. Download the pinned
  # module and build it as the main module, with its own go.mod and go.sum, as go install would.
  go mod download "$repo@$version" || return 1
  # The module cache layout is <GOMODCACHE>/<path>@<version> (these paths have no upper case to escape).
  local dir="$GOMODCACHE/$repo@$version"
  if [ ! -f "$dir/go.mod" ]; then
    echo "restic.sh: $repo@$version did not download into $dir" >&2; return 1
  fi
  (cd "$dir" && go build -o "$bin.tmp" "./${module#"$repo"/}") || return 1
  mv "$bin.tmp" "$bin" || return 1
  echo "restic.sh: built $(reported_version "$bin")"
}

build restic github.com/restic/restic github.com/restic/restic/cmd/restic "$RESTIC_VERSION" "$CACHE/restic/$RESTIC_VERSION/bin"

# rest-server is optional for the bot, but the integration tests use it when present.
if ! build rest-server github.com/restic/rest-server github.com/restic/rest-server/cmd/rest-server "$REST_SERVER_VERSION" \
    "$CACHE/rest-server/$REST_SERVER_VERSION/bin"; then
  echo "restic.sh: rest-server $REST_SERVER_VERSION did not build; the REST-backend test will be skipped outside CI" >&2
  [ -z "${CI:-}" ] || exit 1
fi
