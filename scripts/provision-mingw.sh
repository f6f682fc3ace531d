#!/usr/bin/env bash
# Installs Debian's MinGW-w64 cross compiler (gcc-mingw-w64-x86-64, which brings
# binutils-mingw-w64 with x86_64-w64-mingw32-dlltool) so that tests/wheel.rs can build
# a real Windows extension DLL against stub python313t.dll / python313.dll import
# libraries. Idempotent; prints FTAUDIT_MINGW_CC=... on success. Needs root for apt-get;
# without it (or without network) it prints a warning and exits 0, and the Windows
# tests skip (or fail under FTAUDIT_REQUIRE_MINGW=1).
set -uo pipefail
CC=x86_64-w64-mingw32-gcc
say() { echo "provision-mingw: $*" >&2; }
if ! command -v "$CC" >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    say "warning: $CC missing and not root; install gcc-mingw-w64-x86-64"
    exit 0
  fi
  say "installing gcc-mingw-w64-x86-64 (apt-get)"
  apt-get update -qq >/dev/null 2>&1 || say "warning: apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 >/dev/null 2>&1 \
    || { say "warning: apt-get install gcc-mingw-w64-x86-64 failed"; exit 0; }
fi
command -v "$CC" >/dev/null 2>&1 || { say "warning: $CC still missing"; exit 0; }
echo "FTAUDIT_MINGW_CC=$(command -v "$CC")"
