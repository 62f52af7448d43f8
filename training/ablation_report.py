"""The ablation's comparison report: ``report.json`` for machines, ``report.md`` and ``report.html`` for people.

Per variant, for held-out bits per byte and each benchmark: the seeds' values, mean, sample standard
deviation and range. For every pair of variants and every score: the difference of means and whether it
exceeds the seed spread, meaning the two variants' ranges over seeds do not overlap (with 2-3 seeds the only
honest test; the difference over its standard error is given beside it). The data funnel of each variant
(documents and characters after each stage, training tokens per source and how many epochs of each the token
budget takes) stands next to its scores, and the learning curves (held-out bits per byte at every
evaluation, mean over seeds) are drawn.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import statistics
from pathlib import Path
from typing import Any

from contracts.ablation import Ablation
from contracts.fsio import atomic_write

BPB = "bits_per_byte"


def spread(values: list[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (0 for one value), min, max and the values themselves."""
    return {"values": values, "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0, "min": min(values), "max": max(values),
            "n": len(values)}


def scores_of(result: dict[str, Any]) -> dict[str, float]:
    """{score name: value} of one run: bits per byte (lower is better), each benchmark, CORE."""
    final = result["final"]
    scores = {BPB: final[BPB]}
    for name, task in (final.get("benchmarks") or {}).items():
        scores[name] = task["value"]
    if final.get("core") is not None:
        scores["core_of_subset"] = final["core"]  # CORE over the subset's CORE tasks only, not DCLM's CORE
    return scores


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Difference of means of two spreads, and whether it exceeds the seed spread (ranges disjoint)."""
    diff = a["mean"] - b["mean"]
    se = math.sqrt(a["std"] ** 2 / a["n"] + b["std"] ** 2 / b["n"])
    return {"difference": diff, "beyond_seed_spread": a["max"] < b["min"] or b["max"] < a["min"],
            "difference_over_standard_error": diff / se if se > 0 else None}


def mean_curve(curves: list[list[list[float]]]) -> list[list[float]]:
    """Step-wise mean over seeds, at the steps every seed has."""
    by_step: dict[float, list[float]] = {}
    for curve in curves:
        for step, value in curve:
            by_step.setdefault(step, []).append(value)
    return [[step, statistics.fmean(v)] for step, v in sorted(by_step.items()) if len(v) == len(curves)]


def epochs(ablation: Ablation, data: dict[str, Any], variant: str) -> dict[str, float | None]:
    """Epochs of each source's training tokens that the token budget takes under the run's mixture."""
    index = json.loads((Path(data["variants"][variant]["dataset"]) / "index.json").read_text())
    t = ablation.model.training
    weights = ablation.model.variants[variant].weights or t.weights or {n: s["weight"] for n, s in
                                                                        index["sources"].items()}
    total = sum(weights.values())
    out: dict[str, float | None] = {}
    for name, w in weights.items():
        tokens = index["sources"].get(name, {}).get("train", {}).get("tokens", 0)
        out[name] = (t.max_steps * t.optim.batch_tokens * w / total / tokens) if tokens else None
    return out


def build_report(ablation: Ablation, data: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    variants = ablation.variants
    by_variant = {v: [r for r in results if r["variant"] == v] for v in variants}
    names = sorted({n for r in results for n in scores_of(r)}, key=lambda n: (n != BPB, n))
    scores = {v: {n: spread([scores_of(r)[n] for r in rs if n in scores_of(r)]) for n in names}
              for v, rs in by_variant.items()}
    pairs = []
    for a, b in itertools.combinations(variants, 2):
        pairs.append({"a": a, "b": b, **{n: compare(scores[a][n], scores[b][n]) for n in names}})
    t = ablation.model.training
    return {
        "name": ablation.model.name, "ablation_file": str(ablation.path), "variants": variants,
        "model": t.model.model_dump(mode="json"), "params": results[0].get("params"),
        "token_budget": t.max_steps * t.optim.batch_tokens, "steps": t.max_steps, "seeds": t.seeds,
        "held_out": {k: data["held_out"][k] for k in ("documents", "by_source", "text_bytes", "sha256")},
        "held_out_removed_from_variants": data["held_out_scrub"],
        "benchmarks": {"tasks": ablation.model.benchmarks.tasks, "items_per_task": ablation.model.benchmarks.limit},
        "scores": scores, "lower_is_better": [BPB],
        "comparisons": pairs,
        "funnel": {v: data["variants"][v]["funnel"] for v in variants},
        "epochs_at_budget": {v: epochs(ablation, data, v) for v in variants},
        "plan": data["plan"],
        "curves": {v: {"bits_per_byte": mean_curve([r["curves"][BPB] for r in rs])} for v, rs in by_variant.items()},
        "runs": [{k: r[k] for k in ("variant", "seed", "steps", "tokens", "final")} for r in results],
    }


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(report: dict[str, Any]) -> str:
    names = list(report["scores"][report["variants"][0]])
    lines = [f"# Ablation `{report['name']}`", "",
             f"Model {report['model']['preset']} ({_fmt(report['params'])} parameters), {report['token_budget']:,} "
             f"training tokens per run ({report['steps']} steps), seeds {report['seeds']}. Held-out text: "
             f"{report['held_out']['documents']} documents ({report['held_out']['by_source']}), "
             f"{report['held_out']['text_bytes']:,} bytes, removed from every variant before tokenizing.", "",
             "## Scores (mean ± sample std over seeds; [min, max])", "",
             "| variant | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for variant in report["variants"]:
        s = report["scores"][variant]
        lines.append(f"| {variant} | " + " | ".join(
            f"{s[n]['mean']:.4f} ± {s[n]['std']:.4f} [{s[n]['min']:.4f}, {s[n]['max']:.4f}]" for n in names) + " |")
    lines += ["", f"Lower is better for {', '.join(report['lower_is_better'])}; higher for the benchmarks.", "",
              "## Differences (a - b) beyond the seed spread (seed ranges do not overlap)", "",
              "| a | b | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for pair in report["comparisons"]:
        cells = [f"{pair[n]['difference']:+.4f}{' **beyond**' if pair[n]['beyond_seed_spread'] else ''}"
                 for n in names]
        lines.append(f"| {pair['a']} | {pair['b']} | " + " | ".join(cells) + " |")
    lines += ["", "## Data funnel", "", "| variant | stage | docs in | docs out | chars out | train tokens |",
              "|---|---|---|---|---|---|"]
    for variant in report["variants"]:
        for row in report["funnel"][variant]:
            lines.append(f"| {variant} | {row['stage']} | {_fmt(row['docs_in'])} | {_fmt(row['docs_out'])} | "
                         f"{_fmt(row['chars_out'])} | {_fmt(row.get('tokens_train'))} |")
    lines += ["", "## Epochs of each source's training tokens at the token budget", "",
              "| variant | " + " | ".join(sorted({s for e in report['epochs_at_budget'].values() for s in e})) + " |"]
    sources = sorted({s for e in report["epochs_at_budget"].values() for s in e})
    lines.append("|---" * (len(sources) + 1) + "|")
    for variant in report["variants"]:
        e = report["epochs_at_budget"][variant]
        lines.append(f"| {variant} | " + " | ".join(_fmt(e.get(s), 2) for s in sources) + " |")
    lines += ["", "## Held-out bits per byte during training (mean over seeds)", "",
              "| variant | " + " | ".join(f"step {int(s)}" for s, _ in next(iter(report["curves"].values()))[BPB])
              + " |"]
    steps = len(next(iter(report["curves"].values()))[BPB])
    lines.append("|---" * (steps + 1) + "|")
    for variant in report["variants"]:
        c = report["curves"][variant]
        lines.append(f"| {variant} | " + " | ".join(f"{v:.4f}" for _, v in c[BPB]) + " |")
    return "\n".join(lines) + "\n"


def curve_png(report: dict[str, Any]) -> str:
    """The learning curves as an embedded PNG (data URI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for variant in report["variants"]:
        c = report["curves"][variant]
        ax.plot([s for s, _ in c[BPB]], [v for _, v in c[BPB]], marker="o", label=variant)
    ax.set_xlabel("step")
    ax.set_ylabel("held-out bits per byte")
    ax.set_title("Held-out bits per byte, mean over seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def html_page(report: dict[str, Any], md: str) -> str:
    """One offline page: the markdown tables as preformatted text and the learning curves."""
    return ("<!doctype html><html><head><meta charset='utf-8'><title>ablation "
            f"{html.escape(report['name'])}</title></head><body style='font-family:sans-serif;max-width:1100px'>"
            f"<h1>Ablation {html.escape(report['name'])}</h1><img alt='learning curves' src='{curve_png(report)}'>"
            f"<pre style='white-space:pre-wrap'>{html.escape(md)}</pre></body></html>\n")


def write_report(ablation: Ablation, data: dict[str, Any], results: list[dict[str, Any]]) -> list[Path]:
    report = build_report(ablation, data, results)
    folder = ablation.layout.report
    md = markdown(report)
    paths = [folder / "report.json", folder / "report.md", folder / "report.html"]
    for path, text in zip(paths, [json.dumps(report, indent=1, sort_keys=True), md, html_page(report, md)]):
        with atomic_write(path, "w") as fh:
            fh.write(text)
    return paths
