#!/usr/bin/env bash
# Create .bench-venv-mutation/: cosmic-ray, the mutation-testing tool bench/mutation_bench.py drives, kept
# out of .venv (it is a bench tool, never a test or runtime dependency). The mutated copy's tests run with
# the project's own .venv (or $PROJECT_PYTHON), so only cosmic-ray itself lives here.
# Usage: bash bench/make_mutation_venv.sh   (idempotent; rerun to repair)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.bench-venv-mutation
PY=${PYTHON:-python3.11}
COSMIC_RAY_VERSION=${COSMIC_RAY_VERSION:-8.7.0}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "cosmic-ray==$COSMIC_RAY_VERSION"
"$VENV/bin/cosmic-ray" --version
