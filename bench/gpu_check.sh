#!/usr/bin/env bash
# The prepared GPU check: one command for a machine with one GPU, about 4 minutes on an H100.
#
#   OUT=/some/folder bash bench/gpu_check.sh                 # GPU: gpt2-124m, the demo's shards as GPT-2 tokens
#   bash bench/gpu_check.sh --out /tmp/gc --cpu --tokens DIR # CPU smoke mode (tiny model, few steps; CI runs it)
#
# It runs the trainer itself (python -m training.train) five times: the shipped gpt2-124m recipe for tokens/s
# and MFU against the datasheet peak; bf16 against fp32 on the same first steps; a run killed after a
# checkpoint and resumed. Without --tokens it first runs manifests/demo-gpt2.yaml (the demo's data, GPT-2
# tokens; the ranks come from samples/tokenizers/gpt2.tiktoken, or --ranks PATH). See bench/gpu_check.py
# for every option. Outputs go under --out (or $OUT): gpu_check.json, summary.txt, configs/, logs/, runs/.
# Exit status 0 when every check passes.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-}"
if [ -z "$python" ]; then
    if [ -x "$repo/.venv/bin/python" ]; then python="$repo/.venv/bin/python"; else python="$(command -v python3)"; fi
fi
cd "$repo"
if [ "${1:-}" != "--cpu" ] && [[ " $* " != *" --cpu "* ]]; then
    "$python" - <<'EOF'
import sys, torch
if not torch.cuda.is_available():
    sys.exit("bench/gpu_check.sh: torch sees no CUDA device (torch " + torch.__version__ + "); pass --cpu for the "
             "CPU smoke mode")
print(f"GPU: {torch.cuda.get_device_name()} x {torch.cuda.device_count()}, torch {torch.__version__}, "
      f"CUDA {torch.version.cuda}", flush=True)
EOF
fi
exec "$python" bench/gpu_check.py "$@"
