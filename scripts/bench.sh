#!/usr/bin/env bash
# Benchmark: ftaudit check on CPython 3.13's Modules/, Objects/ and Python/ against a
# bare tree-sitter parse and a ripgrep search of the same files, measured in one run.
# Prints medians and ratios. Re-run any time; FTAUDIT_BENCH_RUNS sets the repetitions.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/provision-python.sh | grep '^FTAUDIT_')"
export FTAUDIT_CPYTHON_SRC
if ! command -v rg >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ripgrep >/dev/null) \
      || echo "bench.sh: could not install ripgrep; the ripgrep baseline is skipped" >&2
  else
    echo "bench.sh: ripgrep not found (apt-get install ripgrep); that baseline is skipped" >&2
  fi
fi
cargo bench --bench check
