"""A small real ablation for the tests: the demo's web, Wikipedia and book samples, the demo's BPE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


def write_manifest(folder: Path, sources: tuple[str, ...] = ("web", "wiki", "books"), **stages: Any) -> Path:
    """A manifest over a few real sample files (about 120 documents; ``sources`` picks among web, wiki and
    books), tokenized with the demo's BPE."""
    manifest = {
        "run": {"name": "base", "output_dir": str(folder / "unused"), "seed": 7},
        "sources": [
            {"name": "web", "kind": "commoncrawl", "paths": [str(SAMPLES / "web/dolma-sample-0000.warc.gz"),
                                                             str(SAMPLES / "web/cc-whirlwind.warc.gz")],
             "weight": 0.5, "max_epochs": 50},
            {"name": "wiki", "kind": "wikipedia",
             "paths": [str(SAMPLES / "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")],
             "weight": 0.3, "max_epochs": 50},
            {"name": "books", "kind": "books", "paths": [str(SAMPLES / "books/the-verdict.txt")], "weight": 0.2,
             "max_epochs": 50},
        ],
        "stages": {"order": ["crawl", "filter", "dedup", "tokenize"],
                   "tokenize": {"tokenizer": {"kind": "tiktoken", "name": "refinery-bpe-4096",
                                              "ranks_path": str(REPO / "ablations/demo-bpe4096.tiktoken"),
                                              "special_tokens": {"<|endoftext|>": 4095}},
                                "shard_tokens": 100000, "validation": {"fraction": 0.05}},
                   **stages},
    }
    manifest["sources"] = [s for s in manifest["sources"] if s["name"] in sources]
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path


def ablation_data(folder: Path, variants: dict[str, Any] | None = None,
                  sources: tuple[str, ...] = ("web", "wiki", "books"), **over: Any) -> dict[str, Any]:
    """An ablation mapping over ``write_manifest``: 2 variants, 2 seeds, the tiny model, a few steps."""
    data = {
        "name": "t",
        "manifest": str(write_manifest(folder, sources)),
        "output_dir": str(folder / "out"),
        "variants": variants or {"raw": {"stages": {"order": ["crawl", "tokenize"]}}, "filtered+dedup": {}},
        "held_out": {"docs": {"wiki": 3}, "max_bytes": 20000},
        "training": {"model": {"preset": "tiny", "overrides": {"vocab_size": 4096}}, "token_budget": 12288,
                     "seeds": [1, 2], "optim": {"batch_tokens": 1024, "micro_batch": 8, "warmup_steps": 2},
                     "eval_every": 4, "eval_batches": 1, "system": {"device": "cpu", "threads": 1}},
        "benchmarks": {"tasks": ["core.copa"], "limit": 8},
        "runner": {"kind": "local", "pipeline": "in-process"},
    }
    data.update(over)
    return data


def write_ablation(folder: Path, variants: dict[str, Any] | None = None,
                   sources: tuple[str, ...] = ("web", "wiki", "books"), **over: Any) -> Path:
    path = folder / "ablation.yaml"
    path.write_text(yaml.safe_dump(ablation_data(folder, variants, sources, **over), sort_keys=False))
    return path
