"""Benchmark scores of two runs side by side, for ``python -m pipeline report RUN_A RUN_B``.

Each run's results files (``contracts.eval_results``: what ``python -m training.evaluate`` writes beside a
checkpoint) are paired by their path inside the run folder, e.g. ``train/checkpoint.eval.json`` with
``train/checkpoint.eval.json``; when each run holds exactly one, those two are paired whatever their
names. Per pair: every task's headline metric (A, B, B - A), CORE, and bits per byte of the same text
file or token split. Scores taken with different item limits or few-shot seeds are not comparable, which
the pair's ``caveats`` say.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts.eval_results import bpb_name, find_results, read_results
from pipeline.report import html as page


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def compare_results(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Task, CORE and bits-per-byte rows of two results objects (a task scored by one side only gets None
    on the other)."""
    tasks = []
    for name in sorted(set(a["tasks"]) | set(b["tasks"])):
        ta, tb = a["tasks"].get(name), b["tasks"].get(name)
        va, vb = (ta["value"] if ta else None), (tb["value"] if tb else None)
        tasks.append({"task": name, "metric": (ta or tb)["metric"], "a": va, "b": vb, "diff": _diff(va, vb),
                      "items_a": ta["items"] if ta else None, "items_b": tb["items"] if tb else None,
                      "random_baseline": (ta or tb)["random_baseline"]})
    core_a, core_b = (a.get("core") or {}).get("value"), (b.get("core") or {}).get("value")
    bpb_a = {bpb_name(e): e["bits_per_byte"] for e in a.get("bits_per_byte", [])}
    bpb_b = {bpb_name(e): e["bits_per_byte"] for e in b.get("bits_per_byte", [])}
    bpb = [{"name": n, "a": bpb_a.get(n), "b": bpb_b.get(n), "diff": _diff(bpb_a.get(n), bpb_b.get(n))}
           for n in sorted(set(bpb_a) | set(bpb_b))]
    caveats = [f"{key} differs: A {a.get(key)!r}, B {b.get(key)!r}" for key in ("limit", "seed")
               if a.get(key) != b.get(key)]
    return {"tasks": tasks, "core": {"a": core_a, "b": core_b, "diff": _diff(core_a, core_b)},
            "bits_per_byte": bpb, "caveats": caveats}


def evaluation_diffs(dir_a: Path, dir_b: Path) -> dict[str, Any]:
    """{"pairs": [{"a", "b" (paths), ...compare_results}], "only_a": [...], "only_b": [...]}."""
    files_a = {p.relative_to(dir_a).as_posix(): p for p in find_results(dir_a)}
    files_b = {p.relative_to(dir_b).as_posix(): p for p in find_results(dir_b)}
    names = sorted(set(files_a) & set(files_b))
    pairs = [(files_a[n], files_b[n]) for n in names]
    if not pairs and len(files_a) == 1 and len(files_b) == 1:
        pairs = [(next(iter(files_a.values())), next(iter(files_b.values())))]
    paired = {p for pair in pairs for p in pair}
    return {"pairs": [{"a": str(pa), "b": str(pb), **compare_results(read_results(pa), read_results(pb))}
                      for pa, pb in pairs],
            "only_a": [str(p) for p in files_a.values() if p not in paired],
            "only_b": [str(p) for p in files_b.values() if p not in paired]}


def render_evaluation(data: dict[str, Any]) -> str:
    """The HTML section: one table of tasks per paired results file, CORE and bits per byte under it."""
    parts = []
    for i, pair in enumerate(data["pairs"]):
        key = ("evaluation", "pairs", i)
        parts.append(f"<h3>{page.esc(pair['a'])} vs {page.esc(pair['b'])}</h3>")
        parts += [f"<p class=muted>Not comparable as they stand: {page.esc(c)}.</p>" for c in pair["caveats"]]
        rows = [page.text_cell(t["task"]) + page.text_cell(t["metric"]) + page.num(t["random_baseline"])
                + page.num(t["a"], *key, "tasks", j, "a") + page.num(t["b"], *key, "tasks", j, "b")
                + page.num(t["diff"], *key, "tasks", j, "diff") + page.num(t["items_a"]) + page.num(t["items_b"])
                for j, t in enumerate(pair["tasks"])]
        core = pair["core"]
        if core["a"] is not None or core["b"] is not None:
            rows.append(page.text_cell("CORE") + page.text_cell("centred mean") + page.num(0)
                        + page.num(core["a"], *key, "core", "a") + page.num(core["b"], *key, "core", "b")
                        + page.num(core["diff"], *key, "core", "diff") + "<td></td><td></td>")
        parts.append(page.table(["task", "metric", "random", "A", "B", "B − A", "items A", "items B"], rows))
        if pair["bits_per_byte"]:
            rows = [page.text_cell(e["name"]) + page.num(e["a"], *key, "bits_per_byte", j, "a")
                    + page.num(e["b"], *key, "bits_per_byte", j, "b")
                    + page.num(e["diff"], *key, "bits_per_byte", j, "diff")
                    for j, e in enumerate(pair["bits_per_byte"])]
            parts.append(page.table(["bits per byte of", "A", "B", "B − A"], rows))
    for side in ("a", "b"):
        if data[f"only_{side}"]:
            parts.append(f"<p class=muted>Only in {side.upper()}, nothing to pair with: "
                         f"{page.esc(', '.join(data[f'only_{side}']))}</p>")
    return "".join(parts) or ("<p>Neither run holds benchmark results (<code>python -m training.evaluate "
                              "CHECKPOINT --tasks core</code> writes them beside the checkpoint).</p>")
