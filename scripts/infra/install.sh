#!/usr/bin/env bash
# Installs the infrastructure checkers, cfn-lint and checkov, pinned with hashes, into an ignored
# virtual environment:
#
#   bash scripts/infra/install.sh        prints the venv's bin folder on stdout (logs go to stderr)
#
#   scripts/infra/requirements.in        the two direct pins
#   scripts/infra/requirements.txt       every transitive dependency, pinned with --hash (pip-compile)
#   .cache/infra/venv/                   the venv; .requirements.sha256 in it is the stamp
#
# A second run with the same requirements.txt returns at once. Wheels only (--only-binary :all:), so
# no build backend is fetched without a hash. To change a pin: edit requirements.in, then
#   python3 -m venv /tmp/pt && /tmp/pt/bin/pip install pip-tools==7.6.2 && cd scripts/infra &&
#   /tmp/pt/bin/pip-compile --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
#     --no-emit-find-links --output-file requirements.txt requirements.in
# The file was compiled with Python 3.11 (environment markers are resolved for it): set
# INFRA_PYTHON to use another interpreter.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REQS="$ROOT/scripts/infra/requirements.txt"
CACHE="$ROOT/.cache/infra"
VENV="$CACHE/venv"
STAMP="$VENV/.requirements.sha256"

log() { printf '[infra:install] %s\n' "$*" >&2; }
die() { printf '[infra:install] error: %s\n' "$*" >&2; exit 1; }

if [[ -n "${INFRA_PYTHON:-}" ]]; then PY="$INFRA_PYTHON"
elif command -v python3.11 >/dev/null 2>&1; then PY=python3.11
else PY=python3
fi
command -v "$PY" >/dev/null 2>&1 || die "'$PY' is not on PATH; install Python 3.11 (apt-get install python3 python3-venv) or set INFRA_PYTHON"

want="$(sha256sum "$REQS" | cut -d' ' -f1)"
installed() {
  [[ -x "$VENV/bin/cfn-lint" && -x "$VENV/bin/checkov" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]
}

install() {
  if installed; then
    log "cfn-lint and checkov already installed in .cache/infra/venv"
    return 0
  fi
  local t0=$SECONDS
  log "creating .cache/infra/venv with $("$PY" --version 2>&1)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV" || die "'$PY -m venv' failed; on Debian: apt-get install python3-venv"
  log "pip install --require-hashes -r scripts/infra/requirements.txt (wheels only)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary :all: -r "$REQS" >&2 \
    || die "pip install failed (see above); the pins are in scripts/infra/requirements.txt"
  "$VENV/bin/cfn-lint" --version >&2 || die "cfn-lint does not start"
  BC_SKIP_MAPPING=TRUE "$VENV/bin/checkov" --version >&2 || die "checkov does not start"
  echo "$want" >"$STAMP"
  log "installed in $((SECONDS - t0)) s"
}

# One installer at a time: two test processes must not build the same venv at once.
mkdir -p "$CACHE"
exec {lock_fd}>"$CACHE/install.lock"
flock "$lock_fd"
install
exec {lock_fd}>&-
echo "$VENV/bin"
