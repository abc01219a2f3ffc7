#!/usr/bin/env bash
# Installs Debian's prometheus-alertmanager for the integration tests.
# Idempotent: does nothing when the binary is already there.
set -euo pipefail

BIN=/usr/bin/prometheus-alertmanager

if [ -x "$BIN" ]; then
  echo "alertmanager: $("$BIN" --version 2>&1 | head -n1)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
# policy-rc.d stops the package's post-install from starting the service on :9093
# on machines that do have an init system; the tests start their own instance.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
cleanup() {
  if [ "$CREATED_POLICY" -eq 1 ]; then $SUDO rm -f "$POLICY"; fi
}
trap cleanup EXIT

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus-alertmanager

echo "alertmanager: $("$BIN" --version 2>&1 | head -n1)"
