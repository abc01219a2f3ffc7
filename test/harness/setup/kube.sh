#!/usr/bin/env bash
# Builds (once per pinned version) the kube-apiserver, kubectl and etcd used by the integration
# tests, into ${BACKUP_BOT_CACHE:-$HOME/.cache/backup-bot}/kube/<version>/bin. Idempotent: a no-op
# when the binaries for the pinned versions are already there. Needs Go >= 1.25 (GO=/path/to/go).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
node="$repo/node_modules/node/bin/node"
if [[ ! -x "$node" ]]; then
  echo "kube.sh: $node is missing; run npm ci first" >&2
  exit 1
fi
exec "$node" "$repo/test/harness/kube/build-binaries.ts" "$@"
