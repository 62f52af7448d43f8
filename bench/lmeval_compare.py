"""Our evaluation vs EleutherAI's lm-evaluation-harness on the same model and the same local data.

A tiny GPT (random weights unless --checkpoint; GPT-2 tokenizer) is exported to a transformers GPT-2
folder (``model.hf_interop``, plus GPT-2's vocab.json/merges.txt from ../shared/data/tokenizers), which
both sides load: ours through ``python -m training.evaluate``'s importer, lm-eval through its ``hf``
model. Each task's local file is written in the Hugging Face dataset's layout for lm-eval's own task
YAML (bench/lmeval_side.py, in .bench-venv-lmeval made by bench/make_lmeval_venv.sh). Both sides score
the first --limit items on one thread, pinned to the same core, one after the other, each with its model
already loaded. Printed per task: each side's metrics, the largest per-item log-likelihood difference,
the items whose choice differs, and items/s: ours end to end (items read, prompted, tokenized, scored)
over lm-eval's end to end (``simple_evaluate``), and over lm-eval's time in the model's scoring alone.

    bash bench/make_lmeval_venv.sh
    .venv/bin/python bench/lmeval_compare.py --tasks lambada_openai,arc_easy,piqa --limit 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.hf_interop import export_checkpoint  # noqa: E402
from tests.tiny_checkpoint import save_tiny_checkpoint  # noqa: E402
from training.benchmarks.harness import evaluate_task  # noqa: E402
from training.benchmarks.model_source import load_model  # noqa: E402
from training.benchmarks.prompts import DEFAULT_SEED, item_requests  # noqa: E402
from training.benchmarks.scoring import encode_pair, score_groups  # noqa: E402
from training.benchmarks.tasks import load_registry  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
VENV_PYTHON = REPO / ".bench-venv-lmeval" / "bin" / "python"
HEADLINE = {"lambada_openai": ("acc", "perplexity"), "arc_easy": ("acc", "acc_norm"), "piqa": ("acc", "acc_norm"),
            "arc_challenge": ("acc", "acc_norm")}


def hf_records(name: str, limit: int) -> list[dict]:
    """The first ``limit`` items of our local file in the field layout lm-eval's YAML for ``name`` reads."""
    eval_dir = SHARED / "eval"
    if name == "lambada_openai":
        lines = (eval_dir / "lambada_openai" / "lambada_test.jsonl").read_text(encoding="utf-8").splitlines()
        return [{"text": json.loads(line)["text"]} for line in lines[:limit]]
    if name in ("arc_easy", "arc_challenge"):
        file = "ARC-Easy-Test.jsonl" if name == "arc_easy" else "ARC-Challenge-Test.jsonl"
        out = []
        for line in (eval_dir / "arc" / file).read_text(encoding="utf-8").splitlines()[:limit]:
            r = json.loads(line)
            out.append({"id": r["id"], "question": r["question"]["stem"], "answerKey": r["answerKey"],
                        "choices": {"text": [c["text"] for c in r["question"]["choices"]],
                                    "label": [c["label"] for c in r["question"]["choices"]]}})
        return out
    if name == "piqa":
        lines = (eval_dir / "piqa" / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:limit]
        labels = (eval_dir / "piqa" / "dev-labels.lst").read_text(encoding="utf-8").split()
        return [{**{k: json.loads(line)[k] for k in ("goal", "sol1", "sol2")}, "label": int(label)}
                for line, label in zip(lines, labels)]
    raise SystemExit(f"no local-data layout for {name}; known: {sorted(HEADLINE)}")


def our_loglikelihoods(loaded, spec, limit: int) -> list[list[float]]:
    items = spec.load_items()
    groups = [[encode_pair(loaded.encode, r.context, r.continuation, loaded.end_of_text)
               for r in item_requests(spec.type, items, i, spec.shots, DEFAULT_SEED, spec.continuation_delimiter,
                                      spec.example_delimiter)] for i in range(min(limit, len(items)))]
    return [[s.logprob for s in scores] for scores in score_groups(loaded, groups, device="cpu")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None, help="GPT-2-tokenizer checkpoint (default: random)")
    parser.add_argument("--tasks", default="lambada_openai,arc_easy,piqa")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--core", type=int, default=0, help="CPU both sides are pinned to")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    if not VENV_PYTHON.is_file():
        raise SystemExit(f"{VENV_PYTHON} missing: run bash bench/make_lmeval_venv.sh first")
    os.sched_setaffinity(0, {args.core})
    torch.set_num_threads(1)
    names = args.tasks.split(",")
    registry = load_registry(data_dir=SHARED / "eval")
    with tempfile.TemporaryDirectory(prefix="lmeval-bench-") as tmp:
        tmp = Path(tmp)
        checkpoint = args.checkpoint
        if checkpoint is None:
            checkpoint = tmp / "tiny.pt"
            save_tiny_checkpoint(checkpoint, SHARED, seed=0, context_length=1024)
        hf_dir = export_checkpoint(checkpoint, tmp / "hf")
        shutil.copy(SHARED / "tokenizers" / "gpt2-encoder.json", hf_dir / "vocab.json")
        shutil.copy(SHARED / "tokenizers" / "gpt2-vocab.bpe", hf_dir / "merges.txt")
        data_dir = tmp / "data"
        data_dir.mkdir()
        for name in names:
            with open(data_dir / f"{name}.jsonl", "w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(r) + "\n" for r in hf_records(name, args.limit))
        theirs_path = tmp / "lmeval.json"
        subprocess.run(["taskset", "-c", str(args.core), str(VENV_PYTHON), str(REPO / "bench" / "lmeval_side.py"),
                        str(hf_dir), str(data_dir), str(theirs_path), "--tasks", args.tasks,
                        "--limit", str(args.limit), "--threads", "1"], check=True,
                       env={**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
                            "TOKENIZERS_PARALLELISM": "false"})
        theirs = json.loads(theirs_path.read_text())
        loaded = load_model(hf_dir)  # through the importer, as `python -m training.evaluate HF_DIR` loads it
        figures = {"lm_eval_version": theirs["lm_eval_version"], "limit": args.limit, "tasks": {}}
        for name in names:
            spec = registry.tasks[name]
            started = time.perf_counter()
            ours = evaluate_task(loaded, spec, limit=args.limit)
            seconds = time.perf_counter() - started
            lls = our_loglikelihoods(loaded, spec, args.limit)
            other = theirs["tasks"][name]
            assert len(lls) == len(other["loglikelihoods"]), (name, len(lls), len(other["loglikelihoods"]))
            worst = max(abs(a - b) for mine, them in zip(lls, other["loglikelihoods"]) for a, b in zip(mine, them))
            choice_differs = sum(max(range(len(m)), key=m.__getitem__) != max(range(len(t)), key=t.__getitem__)
                                 for m, t in zip(lls, other["loglikelihoods"]))
            row = {"ours": {k: ours.metrics.get(k) for k in HEADLINE[name]},
                   "lm_eval": {k: other["metrics"].get(k) for k in HEADLINE[name]},
                   "max_abs_loglikelihood_diff": worst, "items_choice_differs": choice_differs,
                   "items": ours.items, "ours_items_per_s": ours.items / seconds,
                   "lm_eval_items_per_s": other["items"] / other["seconds"],
                   "lm_eval_scoring_items_per_s": other["items"] / other["scoring_seconds"]}
            row["speed_ratio"] = row["ours_items_per_s"] / row["lm_eval_items_per_s"]
            row["speed_ratio_vs_scoring_only"] = row["ours_items_per_s"] / row["lm_eval_scoring_items_per_s"]
            figures["tasks"][name] = row
            print(f"{name}: ours {row['ours']} lm-eval {row['lm_eval']}; max |ll diff| {worst:.2e}, "
                  f"{choice_differs} of {ours.items} items choose differently; {row['ours_items_per_s']:.1f} vs "
                  f"{row['lm_eval_items_per_s']:.1f} items/s ({row['speed_ratio']:.2f}x; "
                  f"{row['speed_ratio_vs_scoring_only']:.2f}x lm-eval's scoring alone)", flush=True)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
