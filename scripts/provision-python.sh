#!/usr/bin/env bash
# Builds CPython 3.13 twice from Debian trixie's python3.13 source package:
#   - free-threaded (./configure --disable-gil)  -> $PREFIX/ft/bin/python3.13t
#   - regular GIL build                          -> $PREFIX/gil/bin/python3.13
# The result is cached under $FTAUDIT_CACHE (default ~/.cache/ftaudit); a second run
# takes a second. The system's apt configuration is never modified: the deb-src line
# lives in an apt configuration of our own, next to the cache.
#
# Usage: scripts/provision-python.sh [--print-env]
#   --print-env   only print FTAUDIT_PYTHON_FT / FTAUDIT_PYTHON_GIL lines (for eval)
set -euo pipefail

CACHE="${FTAUDIT_CACHE:-$HOME/.cache/ftaudit}"
PREFIX="$CACHE/cpython"
FT_PY="$PREFIX/ft/bin/python3.13t"
GIL_PY="$PREFIX/gil/bin/python3.13"
SRC_PKG="python3.13"
SUITE="trixie"
JOBS="$(nproc 2>/dev/null || echo 2)"

die() { echo "provision-python: error: $*" >&2; exit 1; }
say() { echo "provision-python: $*" >&2; }

print_env() {
  echo "FTAUDIT_PYTHON_FT=$FT_PY"
  echo "FTAUDIT_PYTHON_GIL=$GIL_PY"
  echo "FTAUDIT_CPYTHON_SRC=$PREFIX/src"
}

built() { [ -x "$FT_PY" ] && [ -x "$GIL_PY" ] && [ -f "$PREFIX/.complete" ]; }

if built; then
  say "cached: $FT_PY and $GIL_PY"
  print_env
  exit 0
fi
[ "${1:-}" = "--print-env" ] && die "interpreters not built yet; run scripts/provision-python.sh"

need_root() { [ "$(id -u)" = 0 ] || die "installing build dependencies needs root (apt-get); run as root or install: $*"; }

# 1. Build dependencies from Debian.
DEPS=(build-essential pkg-config zlib1g-dev libffi-dev libbz2-dev liblzma-dev xz-utils ca-certificates)
missing=()
for p in "${DEPS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  need_root "${missing[*]}"
  say "installing build dependencies: ${missing[*]}"
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

# 2. Fetch the source package through an apt configuration of our own.
APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/etc" "$PREFIX/download"
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror=$(awk '/^URIs:/ {print $2; exit}' "$f" | grep -v security || true)
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || die "could not find a Debian mirror URI in /etc/apt/sources.list(.d)"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "missing $keyring (package debian-archive-keyring)"
echo "deb-src [signed-by=$keyring] $mirror $SUITE main" > "$APT/etc/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$APT/etc/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache::Archives=$APT/archives"
          -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root")

orig=$(ls "$PREFIX"/download/${SRC_PKG}_*.orig.tar.* 2>/dev/null | head -n1 || true)
if [ -z "$orig" ]; then
  say "fetching $SRC_PKG source from $mirror ($SUITE)"
  apt-get "${APT_OPTS[@]}" update -qq || die "apt-get update with the $SUITE deb-src line failed"
  (cd "$PREFIX/download" && apt-get "${APT_OPTS[@]}" source --download-only -qq "$SRC_PKG") \
    || die "apt-get source --download-only $SRC_PKG failed"
  orig=$(ls "$PREFIX"/download/${SRC_PKG}_*.orig.tar.* 2>/dev/null | head -n1 || true)
  [ -n "$orig" ] || die "no upstream tarball (${SRC_PKG}_*.orig.tar.*) in the downloaded source package"
fi
say "upstream tarball: $orig"

# 3. Unpack once (kept as a corpus of real C code: Modules/, Objects/, Python/).
if [ ! -f "$PREFIX/src/configure" ]; then
  rm -rf "$PREFIX/src" && mkdir -p "$PREFIX/src"
  tar -xf "$orig" -C "$PREFIX/src" --strip-components=1 || die "could not unpack $orig"
fi

# 4. Build both interpreters out of tree.
build() { # name, configure flags...
  local name=$1; shift
  local bdir="$PREFIX/build-$name"
  if [ -f "$PREFIX/$name/.complete" ]; then say "$name: already built"; return; fi
  say "$name: configuring (${*:-default})"
  rm -rf "$bdir" "$PREFIX/$name" && mkdir -p "$bdir"
  (cd "$bdir" && "$PREFIX/src/configure" --prefix="$PREFIX/$name" --without-ensurepip --disable-test-modules "$@" \
      >"$bdir/configure.log" 2>&1) || die "$name: configure failed, see $bdir/configure.log"
  say "$name: building with $JOBS jobs (a few minutes)"
  (cd "$bdir" && make -j"$JOBS" >"$bdir/make.log" 2>&1) || die "$name: make failed, see $bdir/make.log"
  (cd "$bdir" && make install >"$bdir/install.log" 2>&1) || die "$name: make install failed, see $bdir/install.log"
  touch "$PREFIX/$name/.complete"
  rm -rf "$bdir"
}
build ft --disable-gil
build gil

"$FT_PY" -c 'import sysconfig,sys; assert sysconfig.get_config_var("Py_GIL_DISABLED")==1; assert not sys._is_gil_enabled()' \
  || die "$FT_PY is not a free-threaded interpreter"
"$GIL_PY" -c 'import sysconfig; assert not sysconfig.get_config_var("Py_GIL_DISABLED")' \
  || die "$GIL_PY is not a regular GIL build"
touch "$PREFIX/.complete"
say "free-threaded: $FT_PY"
say "regular GIL:   $GIL_PY"
print_env
