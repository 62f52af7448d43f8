#!/usr/bin/env bash
# Create .bench-venv-lmeval/: EleutherAI's lm-evaluation-harness (`lm-eval`) with transformers and the
# same CPU torch as .venv, isolated from .venv because lm-eval pins its own datasets/transformers/evaluate
# stack. Only bench/lmeval_compare.py uses it; the project and its tests never import lm_eval.
# Usage: bash bench/make_lmeval_venv.sh   (idempotent; rerun to repair)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.bench-venv-lmeval
PY=${PYTHON:-python3.11}
LM_EVAL_VERSION=${LM_EVAL_VERSION:-0.4.13}
TORCH=${TORCH:-torch==2.13.0}   # the CPU build this machine serves from local disk (see Makefile)
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "$TORCH"
# [hf]: the transformers model backend; lm-eval >= 0.4.10 moved it out of the base install
"$VENV/bin/pip" install --quiet "lm-eval[hf]==$LM_EVAL_VERSION" || "$VENV/bin/pip" install --quiet "lm-eval==$LM_EVAL_VERSION" transformers
"$VENV/bin/python" - <<'PY'
import lm_eval, torch, transformers
from lm_eval.models.huggingface import HFLM
print("lm-eval OK:", getattr(lm_eval, "__version__", "?"), "torch", torch.__version__, "transformers", transformers.__version__)
PY
