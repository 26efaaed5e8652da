#!/usr/bin/env bash
# tools/pi/pi-node.sh - run node under Raspberry-Pi-class Node.js: Debian bookworm's own nodejs 18
# (the one Raspberry Pi OS bookworm ships) for arm64 or armhf, emulated with qemu-user-static.
# Used by test/tools/bundle/emulated-pi.test.ts to prove the bundle runs on a Pi's Node 18.
# Adapted from the team's shared recipe; this copy is the project's own so a clean clone works.
#
# It is not a Pi image: no init, no systemd, no /etc - just node's dependency closure unpacked
# into a folder (~120 MB arm64, ~95 MB armhf), nothing else.
#
# Usage:  tools/pi/pi-node.sh <rootfs-dir> [node arguments...]
#   <rootfs-dir>  created on first use and reused afterwards (the repo's tests use
#                 .cache/pi-<arch>, gitignored). A rootfs is built in <rootfs-dir>.partial and
#                 renamed when complete, so an interrupted download never leaves a half root.
#   node args     passed to the emulated node as they are (flags, a script, its arguments).
#                 Without them: set up the rootfs and print "<arch> <version> openssl <v>".
# Environment:
#   ARCH=arm64 (default; 64-bit Pi OS) | armhf (32-bit Pi OS, ARMv7 hard-float)
#        | amd64 (not emulated: the same Debian nodejs 18 package built for x86-64, run natively
#          through the root's own loader and libraries; what the RSS test and tools/pi/measure.ts
#          use to measure a Pi's Node 18 at native speed, because qemu's own memory would
#          dominate an emulated process's RSS)
#   DEBIAN_MIRROR=<URI>  default: the host's first non-security Debian URI (deb822 or
#                        sources.list), else http://deb.debian.org/debian.   SUITE=bookworm
#   QEMU_CPU=cortex-a72 (Pi 4) | cortex-a53 (Pi 3 / Zero 2 W) | cortex-a7 (armhf, Pi 2): read by
#                        qemu itself; default is qemu's "max" CPU model.
#   KEEP_DEBS=1          keep the downloaded .debs and the private apt state under .setup
# Exit status: the emulated node's; 1 with a one-line "pi-node.sh: ..." message when the rootfs
# cannot be built (e.g. the Debian mirror is unreachable) or qemu is missing.
#
# How it works (never changes the host's dpkg architectures or apt state: adding armhf as a
# foreign architecture broke the host's `apt-get update` once):
#   1. a private apt configuration (APT::Architecture=$ARCH) indexes $SUITE main (+updates,
#      +security) for $ARCH only;
#   2. the Depends/Pre-Depends closure of `nodejs` (first alternative of each group) is resolved
#      with apt-cache, fetched with `apt-get download` and unpacked with `dpkg -x` (no
#      maintainer scripts run);
#   3. /lib is folded into /usr/lib (merged-usr, as on a real bookworm system) - without it the
#      armhf loader does not find libc.so.6;
#   4. node runs as  qemu-<arch>-static -L <rootfs-dir> <rootfs-dir>/usr/bin/node ...  (-L makes
#      the guest's absolute paths, e.g. /lib/ld-linux-*.so, resolve inside the rootfs first, then
#      on the host, so host files such as a temp dir's model.json are visible as they are).
#      amd64 runs  <rootfs-dir>/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path
#      <the root's lib dirs> <rootfs-dir>/usr/bin/node ...  (exec'd: the pid is node's own, so
#      /proc/<pid>/status is node's memory; libnode, ICU, OpenSSL are the root's, not the host's).
# Needs: apt-get, apt-cache, dpkg, flock, debian-archive-keyring, qemu-user-static (the last two
# are installed with apt-get when missing and running as root). binfmt_misc is not needed.
set -euo pipefail

die() { echo "pi-node.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: $0 <rootfs-dir> [node arguments...]"

ARCH="${ARCH:-arm64}"
case "$ARCH" in
  arm64) QEMU=qemu-aarch64-static ;;
  armhf) QEMU=qemu-arm-static ;;
  amd64) QEMU="" ;;
  *) die "ARCH must be arm64, armhf or amd64 (got '$ARCH')" ;;
esac
SUITE="${SUITE:-bookworm}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

host_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m="$(awk '/^deb / && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  echo "${m:-http://deb.debian.org/debian}"
}
MIRROR="${DEBIAN_MIRROR:-$(host_mirror)}"
MIRROR="${MIRROR%/}"

mkdir -p "$(dirname "$1")"
ROOT="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
MARKER="$ROOT/.arm-node-ready"

as_root_apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  echo "pi-node.sh: installing $*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 && return 0
  # a clean CI image may have no package lists yet
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# run_node ROOT args...: the root's node, emulated (arm64, armhf) or through its own loader (amd64)
run_node() {
  local R="$1"; shift
  if [ -z "$QEMU" ]; then
    # NOTE: Debian's libnode loads some builtins (cjs-module-lexer, undici, acorn) from absolute
    # paths under /usr/share/nodejs: a private mount namespace shows the root's /usr/share there
    # (for this process only; the host's mounts are untouched). unshare and sh exec, so the pid
    # the caller sees is node's. Needs root (CAP_SYS_ADMIN), as apt-get does.
    command -v unshare >/dev/null 2>&1 || die "unshare not found (apt-get install -y util-linux)"
    exec unshare --mount --propagation private sh -c 'mount --bind "$0/usr/share" /usr/share && exec "$0/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$0/usr/lib/x86_64-linux-gnu:$0/usr/lib" "$0/usr/bin/node" "$@"' "$R" "$@"
  fi
  exec "$QEMU" -L "$R" "$R/usr/bin/node" "$@"
}

ensure_qemu() {
  [ -n "$QEMU" ] || return 0
  command -v "$QEMU" >/dev/null 2>&1 && return 0
  as_root_apt_install qemu-user-static || true
  command -v "$QEMU" >/dev/null 2>&1 || die "$QEMU not found; install it with: apt-get install -y qemu-user-static"
}

# Builds the rootfs in $1 (an empty directory).
build_rootfs() {
  local R="$1" S A
  S="$R/.setup"; A="$S/apt"
  [ -f "$KEYRING" ] || as_root_apt_install debian-archive-keyring || true
  [ -f "$KEYRING" ] || die "$KEYRING missing (apt-get install -y debian-archive-keyring)"
  mkdir -p "$A/etc/apt/sources.list.d" "$A/etc/apt/apt.conf.d" "$A/etc/apt/preferences.d" \
           "$A/etc/apt/trusted.gpg.d" "$A/state/lists/partial" "$A/cache/archives/partial" "$S/debs"
  : > "$A/state/status"
  local sec="${MIRROR%/debian}/debian-security"
  cat > "$A/etc/apt/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR $SUITE main
deb [signed-by=$KEYRING] $MIRROR $SUITE-updates main
deb [signed-by=$KEYRING] $sec $SUITE-security main
EOF
  local O=(-o "Dir::Etc=$A/etc/apt" -o "Dir::State=$A/state" -o "Dir::State::status=$A/state/status"
           -o "Dir::Cache=$A/cache" -o "APT::Architecture=$ARCH" -o "APT::Architectures::=$ARCH"
           -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
           -o "Acquire::Retries=2" -o "Acquire::http::Timeout=30" -o "Acquire::https::Timeout=30")
  echo "pi-node.sh: building a $ARCH Node 18 root from $MIRROR $SUITE into $ROOT (one-time download, ~30 MB)" >&2
  # An index that fails to download (a mirror mid-sync, an unreachable security host) is tolerated
  # as long as nodejs still has a candidate afterwards.
  apt-get "${O[@]}" -qq update >&2 || echo "pi-node.sh: warning: apt-get update reported errors" >&2
  local pol
  pol="$(apt-cache "${O[@]}" policy nodejs 2>/dev/null || true)"
  case "$pol" in
    *"Candidate: "[0-9]*) ;;
    *) die "cannot index Debian $SUITE for $ARCH at $MIRROR (no network to the mirror? set DEBIAN_MIRROR): no nodejs candidate" ;;
  esac

  # Dependency closure of nodejs (Depends + Pre-Depends, first alternative of each group).
  local queue="nodejs" seen=" " p deps d
  while [ -n "${queue// /}" ]; do
    # shellcheck disable=SC2086
    set -- $queue; p=$1; shift; queue="$*"
    case "$seen" in *" $p "*) continue ;; esac
    seen="$seen$p "
    deps=$(apt-cache "${O[@]}" depends --no-recommends --no-suggests --no-conflicts \
             --no-breaks --no-replaces --no-enhances "$p" 2>/dev/null |
           awk '/^ [ |](Pre)?Depends:/ { if (!inor) print $2; inor = ($0 ~ /^ \|/) }' |
           grep -v '^<' | sed -e 's/:any$//' -e "s/:$ARCH\$//" || true)
    for d in $deps; do queue="$queue $d"; done
  done
  echo "pi-node.sh: packages:$seen" >&2
  # shellcheck disable=SC2086
  (cd "$S/debs" && apt-get "${O[@]}" -qq download $seen >&2) \
    || die "apt-get download failed for $ARCH from $MIRROR (no network to the mirror? set DEBIAN_MIRROR)"
  local deb
  for deb in "$S"/debs/*.deb; do dpkg -x "$deb" "$R"; done

  # merged-usr: fold /lib into /usr/lib (the armhf loader only searches /usr/lib/<triplet>)
  if [ -d "$R/lib" ] && [ ! -L "$R/lib" ]; then
    mkdir -p "$R/usr/lib"
    cp -a "$R/lib/." "$R/usr/lib/"
    rm -rf "$R/lib"
    ln -s usr/lib "$R/lib"
  fi
  [ -x "$R/usr/bin/node" ] || die "usr/bin/node missing after unpacking"
  [ "${KEEP_DEBS:-0}" = 1 ] || rm -rf "$S"
  # smoke test before the rootfs is published
  (run_node "$R" -e 'process.exit(process.version.startsWith("v18.") ? 0 : 1)') \
    || die "the emulated node does not start or is not Node 18"
  echo "$ARCH" > "$R/.arm-node-ready"
}

ensure_qemu
if [ ! -f "$MARKER" ]; then
  # One builder at a time per root (parallel test workers, two CI jobs on one cache).
  command -v flock >/dev/null 2>&1 || die "flock not found (apt-get install -y util-linux)"
  exec 9>"$ROOT.lock"
  flock 9
  if [ ! -f "$MARKER" ]; then
    [ ! -e "$ROOT" ] || [ -z "$(ls -A "$ROOT")" ] \
      || die "$ROOT is not empty and has no $(basename "$MARKER"); remove it or use a new directory"
    rm -rf "$ROOT.partial"
    mkdir -p "$ROOT.partial"
    build_rootfs "$ROOT.partial"
    rmdir "$ROOT" 2>/dev/null || true
    mv "$ROOT.partial" "$ROOT"
  fi
  flock -u 9
  exec 9>&-
fi
have="$(cat "$MARKER")"
[ "$have" = "$ARCH" ] || die "$ROOT holds an $have rootfs (ARCH=$ARCH requested)"

if [ $# -eq 0 ]; then
  run_node "$ROOT" -e 'console.log(process.arch, process.version, "openssl " + process.versions.openssl)'
fi
run_node "$ROOT" "$@"
