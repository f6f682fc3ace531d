#!/usr/bin/env bash
# The project's test command (README, .ci/run): provisions the free-threaded and
# regular CPython 3.13 builds (cached after the first run), then runs every test.
# Tests that need those interpreters find them through FTAUDIT_PYTHON_FT /
# FTAUDIT_PYTHON_GIL; with FTAUDIT_REQUIRE_PYTHON=1 (set here) they fail instead
# of skipping when the interpreters are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null; then
  echo "test.sh: cargo not found; install Rust (https://rustup.rs)" >&2
  exit 2
fi
eval "$(scripts/provision-python.sh | grep '^FTAUDIT_')"
export FTAUDIT_PYTHON_FT FTAUDIT_PYTHON_GIL FTAUDIT_CPYTHON_SRC
export FTAUDIT_REQUIRE_PYTHON=1
# The in-tree fuzzer (tests/fuzz.rs, CONTRIBUTING.md): 30 s per target, from a fixed
# seed so that a CI run is reproducible (the same inputs, as many as 30 s allow);
# exploratory runs leave the seed unset and get a new one each time.
export FTAUDIT_FUZZ_SECONDS="${FTAUDIT_FUZZ_SECONDS:-30}"
export FTAUDIT_FUZZ_SEED="${FTAUDIT_FUZZ_SEED:-20261202}"
# MinGW for the Windows (PE) tests of tests/wheel.rs; optional: without root or
# network the script warns and those tests skip.
mingw="$(scripts/provision-mingw.sh | grep '^FTAUDIT_MINGW_CC=' || true)"
if [ -n "$mingw" ]; then
  export "$mingw" FTAUDIT_REQUIRE_MINGW=1
fi
# Lints first: a formatting or clippy failure fails CI like a test does.
echo "test.sh: cargo fmt --check" >&2
cargo fmt --check
echo "test.sh: cargo clippy --all-targets -- -D warnings" >&2
cargo clippy --locked --all-targets -- -D warnings
# Tests that need the provisioned interpreters are #[ignore]d with a reason, so
# a plain `cargo test` reports them as ignored; here they run too.
cargo test --locked --all-targets "$@" -- --include-ignored
