#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing (run by `npm test`
# before the tests, and by .ci/run):
#   mosquitto          a real MQTT broker: telemetry, agent and ACL tests start it on loopback
#   qemu-user-static   runs Debian's arm64/armhf Node 18 for the emulated Raspberry Pi test
#   debian-archive-keyring, util-linux (flock)   used by tools/pi/pi-node.sh
# Needs root (or passwordless sudo) only when something is missing; says what to do otherwise.
set -euo pipefail
need=()
[ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
command -v flock >/dev/null 2>&1 || need+=(util-linux)
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "edgenn tests need: ${need[*]} (Debian package names); install them with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "edgenn tests need: ${need[*]}; run: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
echo "installing ${need[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
