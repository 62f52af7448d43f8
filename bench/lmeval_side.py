"""The lm-evaluation-harness side of bench/lmeval_compare.py; runs in .bench-venv-lmeval, never in .venv.

    .bench-venv-lmeval/bin/python bench/lmeval_side.py HF_DIR DATA_DIR OUT.json --tasks arc_easy,piqa --limit 50

lm-eval's own task definitions (the installed YAML of each task, taken whole through ``include``) with
only the data source changed to the local JSONL files that bench/lmeval_compare.py wrote in DATA_DIR
(``<task>.jsonl``, in the Hugging Face dataset's field layout), so no network is needed. The model is
loaded once, before any timing, and the bootstrap of standard errors is off. Writes per task the
metrics, the per-item log-likelihoods of every choice, the wall time of ``simple_evaluate`` and the part
of it spent in the model's ``loglikelihood`` (scoring alone, without task building and prompting).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import lm_eval
import torch
from lm_eval.models.huggingface import HFLM
from lm_eval.tasks import TaskManager

SPLIT_KEY = {"arc_easy": "test_split", "arc_challenge": "test_split", "lambada_openai": "test_split",
             "piqa": "validation_split"}


def task_yaml(name: str, data_file: Path, out_dir: Path) -> None:
    """``<name>_local``: lm-eval's ``name`` YAML included whole, reading ``data_file`` instead of the hub."""
    source = TaskManager().task_index[name].yaml_path
    split = SPLIT_KEY[name]
    split_name = split.removesuffix("_split")
    text = (f"include: {source}\ntask: {name}_local\ntag: []\ndataset_path: json\ndataset_name: null\n"
            f"dataset_kwargs:\n  data_files:\n    {split_name}: {data_file}\n{split}: {split_name}\n")
    for other in ("training_split", "validation_split", "test_split", "fewshot_split"):
        if other != split:
            text += f"{other}: null\n"
    (out_dir / f"{name}_local.yaml").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("hf_dir")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--limit", type=int, required=True)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.tasks.split(",")
    yaml_dir = args.data_dir / "yaml"
    yaml_dir.mkdir(exist_ok=True)
    for name in names:
        task_yaml(name, (args.data_dir / f"{name}.jsonl").resolve(), yaml_dir)
    manager = TaskManager(include_path=str(yaml_dir))
    out = {"lm_eval_version": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "?", "tasks": {}}
    model = HFLM(pretrained=args.hf_dir, dtype="float32", device="cpu", batch_size=args.batch_size)
    scoring = [0.0]
    loglikelihood = model.loglikelihood

    def timed(*a, **k):
        started = time.perf_counter()
        try:
            return loglikelihood(*a, **k)
        finally:
            scoring[0] += time.perf_counter() - started

    model.loglikelihood = timed
    for name in names:
        scoring[0] = 0.0
        started = time.perf_counter()
        results = lm_eval.simple_evaluate(model=model, tasks=[f"{name}_local"], task_manager=manager,
                                          limit=args.limit, log_samples=True, bootstrap_iters=0)
        seconds = time.perf_counter() - started
        samples = sorted(results["samples"][f"{name}_local"], key=lambda s: s["doc_id"])
        out["tasks"][name] = {
            "seconds": seconds, "scoring_seconds": scoring[0], "items": len(samples),
            "metrics": {k.split(",")[0]: v for k, v in results["results"][f"{name}_local"].items()
                        if isinstance(v, float) and not k.split(",")[0].endswith("_stderr")},
            "loglikelihoods": [[float(r[0][0]) for r in s["resps"]] for s in samples],
            "greedy": [[bool(r[0][1]) for r in s["resps"]] for s in samples],
        }
        print(name, out["tasks"][name]["metrics"], f"{seconds:.1f}s ({scoring[0]:.1f}s scoring)", flush=True)
    args.out.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
