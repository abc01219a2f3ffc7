#!/usr/bin/env bash
# Everything the integration tests need, installed or built once per machine and cached under
# ${BACKUP_BOT_CACHE:-~/.cache/backup-bot}: Alertmanager (Debian), restic and rest-server (Go
# modules), kube-apiserver, kubectl and etcd (Go modules). Each step is a no-op when done.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/alertmanager.sh"
bash "$here/restic.sh"
bash "$here/kube.sh"
