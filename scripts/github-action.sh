#!/usr/bin/env bash
# The two steps of action.yml, kept in a script so that they can be tested locally
# (tests/integrations.rs) and read without YAML quoting.
#
#   github-action.sh install   pip-installs ftaudit into a venv and puts it on GITHUB_PATH
#       INPUT_INSTALL   a pip requirement or path (default: ACTION_PATH, this checkout)
#       PYTHON          the interpreter that makes the venv (default: python3, else python)
#       FTAUDIT_VENV    where (default: $RUNNER_TEMP/ftaudit-venv)
#   github-action.sh run       runs `ftaudit check` and sets the step's outputs
#       INPUT_ARGS            paths and options (default "."), split on spaces
#       INPUT_OUTPUT_FORMAT   github | sarif
#       INPUT_SARIF_FILE      the SARIF file (default ftaudit.sarif)
#       INPUT_EXIT_ZERO       true: exit 0 on findings (an error still exits 2)
#       FTAUDIT               the executable (default: ftaudit on PATH)
# Outputs go to $GITHUB_OUTPUT: sarif-file=..., exit-code=N.
set -euo pipefail

die() { echo "::error title=ftaudit action::$*" >&2; exit 2; }

install() {
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    python=$(command -v python3 || command -v python || true)
  fi
  [ -n "$python" ] || die "no python3 on PATH (add actions/setup-python before this action)"
  local spec="${INPUT_INSTALL:-}"
  [ -n "$spec" ] || spec="${ACTION_PATH:?ACTION_PATH is not set}"
  # A venv: runner images mark the system Python as externally managed (PEP 668).
  local venv="${FTAUDIT_VENV:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ftaudit-venv}"
  "$python" -m venv "$venv"
  local bin="$venv/bin"
  [ -d "$venv/Scripts" ] && bin="$venv/Scripts"
  "$bin/python" -m pip install --disable-pip-version-check --quiet "$spec"
  "$bin/ftaudit" --version
  if [ -n "${GITHUB_PATH:-}" ]; then
    echo "$bin" >> "$GITHUB_PATH"
  fi
}

run() {
  local ftaudit="${FTAUDIT:-ftaudit}"
  local format="${INPUT_OUTPUT_FORMAT:-github}"
  local -a args
  read -r -a args <<< "${INPUT_ARGS:-.}"
  [ "${#args[@]}" -gt 0 ] || args=(.)
  local status=0
  case "$format" in
    github)
      "$ftaudit" check --output-format github "${args[@]}" || status=$?
      ;;
    sarif)
      local out="${INPUT_SARIF_FILE:-ftaudit.sarif}"
      "$ftaudit" check --output-format sarif "${args[@]}" > "$out" || status=$?
      echo "sarif-file=$out" >> "${GITHUB_OUTPUT:-/dev/null}"
      ;;
    *)
      die "output-format must be github or sarif, not '$format'"
      ;;
  esac
  echo "exit-code=$status" >> "${GITHUB_OUTPUT:-/dev/null}"
  if [ "$status" -eq 1 ] && [ "${INPUT_EXIT_ZERO:-false}" = "true" ]; then
    return 0
  fi
  return "$status"
}

case "${1:-}" in
  install) install ;;
  run) run ;;
  *) die "usage: github-action.sh install|run" ;;
esac
