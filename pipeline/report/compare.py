"""Two runs side by side (``python -m pipeline report RUN_A RUN_B``), e.g. two threshold settings.

Shows the settings that differ, every count that differs (stage by stage), the filter funnels next to each
other, documents that one run kept and the other removed, and the benchmark scores of the models trained
on each (``pipeline.report.evaluation``). Documents are matched by id, which depends
only on the source and the record (``pipeline.documents.doc_id``), and shards by name, which depends only
on the input file and split: runs over the same inputs line up shard by shard, so the examples come from
reading the id columns of a bounded number of shards instead of both corpora.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.fsio import atomic_write
from pipeline.report import html as page
from pipeline.report import plots
from pipeline.report.collect import collect, read_columns, truncate
from pipeline.report.evaluation import evaluation_diffs, render_evaluation

EXAMPLES = 5
MAX_SHARDS = 64  # shards scanned for kept-by-one, removed-by-the-other examples


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def settings_diff(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    fa, fb = _flatten(a), _flatten(b)
    return [{"key": k, "a": fa.get(k), "b": fb.get(k)} for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]


def count_diffs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per stage: every count that differs (with A, B, B - A) and how many are equal."""
    stages_a = {s["stage"]: s["counts"] for s in a["stages"]}
    stages_b = {s["stage"]: s["counts"] for s in b["stages"]}
    out = {}
    for stage in list(dict.fromkeys(list(stages_a) + list(stages_b))):
        ca, cb = stages_a.get(stage, {}), stages_b.get(stage, {})
        keys = sorted(set(ca) | set(cb))
        differ = [{"key": k, "a": ca.get(k, 0), "b": cb.get(k, 0), "diff": cb.get(k, 0) - ca.get(k, 0)}
                  for k in keys if ca.get(k, 0) != cb.get(k, 0)]
        out[stage] = {"differ": differ, "equal": len(keys) - len(differ)}
    return out


def funnel_diffs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    fa = (a.get("filter") or {}).get("funnel", {})
    fb = (b.get("filter") or {}).get("funnel", {})
    out = {}
    for source in sorted(set(fa) | set(fb)):
        rules: dict[str, dict[str, Any]] = {}
        for side, funnel in (("a", fa), ("b", fb)):
            for r in funnel.get(source, {}).get("rules", []):
                entry = rules.setdefault(f"{r['filter']}.{r['rule']}", {"rule": f"{r['filter']}.{r['rule']}",
                                                                        "a": 0, "b": 0})
                entry[side] = r["docs"]
        for entry in rules.values():
            entry["diff"] = entry["b"] - entry["a"]
        out[source] = list(rules.values())
    return out


# ---------------------------------------------------------------------------------- documents that differ

def _shard_key(relative: str) -> str:
    p = Path(relative)
    return f"{p.parent.name}/{p.name}"


def _final_outputs(run_dir: Path, stats: dict[str, Any]) -> dict[str, str]:
    """The last document stage's output shards (before tokenize), by ``<source>/<file name>``."""
    doc_stages = [s["stage"] for s in stats["stages"] if s["stage"] != "tokenize"]
    if not doc_stages:
        return {}
    outputs = json.loads((run_dir / "stats" / f"{doc_stages[-1]}.json").read_text()).get("outputs", [])
    return {_shard_key(o): o for o in outputs}


def _ledgers(run_dir: Path, stats: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Removal ledgers by shard key: ``[(stage, relative path)]`` from the filter and dedup stages."""
    from pipeline.report.collect import ledger_files
    from pipeline.stages import get_stage

    out: dict[str, list[tuple[str, str]]] = {}
    names = {s["stage"] for s in stats["stages"]}
    if "filter" in names:
        for files in ledger_files(run_dir).values():
            for rel in files:
                out.setdefault(_shard_key(rel), []).append(("filter", rel))
    if "dedup" in names:
        for path in sorted(run_dir.glob(get_stage("dedup").output("ledger", source="*") + "*.parquet")):
            rel = str(path.relative_to(run_dir))
            out.setdefault(_shard_key(rel), []).append(("dedup", rel))
    return out


def _removed(run_dir: Path, ledgers: list[tuple[str, str]]) -> dict[str, tuple[str, str, int]]:
    """Removed ids of one shard -> (stage, why, row) from its ledgers."""
    out: dict[str, tuple[str, str, int]] = {}
    for stage, rel in ledgers:
        path = run_dir / rel
        if stage == "filter":
            t = read_columns(path, ["id", "filter", "rule", "value", "threshold"]).to_pydict()
            for i, doc in enumerate(t["id"]):
                out[doc] = (rel, f"{t['filter'][i]}.{t['rule'][i]} (value {page.fmt(t['value'][i])}, threshold "
                                 f"{page.fmt(t['threshold'][i])})", i)
        else:
            t = read_columns(path, ["id", "reason", "kept_id"]).to_pydict()
            for i, doc in enumerate(t["id"]):
                out[doc] = (rel, f"dedup: {t['reason'][i]} duplicate of {t['kept_id'][i]}", i)
    return out


def _texts(run_dir: Path, wanted: list[tuple[str, int]]) -> list[str]:
    by_file: dict[str, list[int]] = {}
    for rel, row in wanted:
        by_file.setdefault(rel, []).append(row)
    texts: dict[tuple[str, int], str] = {}
    for rel, rows in by_file.items():
        column = read_columns(run_dir / rel, ["text"]).column("text").take(rows).to_pylist()
        texts.update({(rel, r): truncate(t) for r, t in zip(rows, column)})
    return [texts[w] for w in wanted]


def differing_documents(dir_a: Path, a: dict[str, Any], dir_b: Path, b: dict[str, Any]) -> dict[str, Any]:
    """Documents kept by one run and removed by the other, shard by shard, up to ``EXAMPLES`` each way."""
    kept_a, kept_b = _final_outputs(dir_a, a), _final_outputs(dir_b, b)
    led_a, led_b = _ledgers(dir_a, a), _ledgers(dir_b, b)
    keys = sorted((set(kept_a) | set(led_a)) & (set(kept_b) | set(led_b)))
    result: dict[str, Any] = {"shards_in_common": len(keys), "shards_scanned": 0,
                              "kept_by_a_removed_by_b": 0, "kept_by_b_removed_by_a": 0}
    picks: dict[str, list[dict[str, Any]]] = {"a_not_b": [], "b_not_a": []}
    for key in keys[:MAX_SHARDS]:
        result["shards_scanned"] += 1
        ids_a = set(read_columns(dir_a / kept_a[key], ["id"]).column("id").to_pylist()) if key in kept_a else set()
        ids_b = set(read_columns(dir_b / kept_b[key], ["id"]).column("id").to_pylist()) if key in kept_b else set()
        rem_a, rem_b = _removed(dir_a, led_a.get(key, [])), _removed(dir_b, led_b.get(key, []))
        for kept, removed, side, run_dir, counter in ((ids_a, rem_b, "a_not_b", dir_b, "kept_by_a_removed_by_b"),
                                                      (ids_b, rem_a, "b_not_a", dir_a, "kept_by_b_removed_by_a")):
            hits = sorted(kept & set(removed))
            result[counter] += len(hits)
            for doc in hits[:max(0, EXAMPLES - len(picks[side]))]:
                rel, why, row = removed[doc]
                picks[side].append({"id": doc, "shard": key, "removed_by": why, "_at": (str(run_dir), rel, row)})
    for side, items in picks.items():
        for item in items:
            run_dir, rel, row = item.pop("_at")
            item["text"] = _texts(Path(run_dir), [(rel, row)])[0]
        result[side] = items
    return result


# -------------------------------------------------------------------------------------------------- page

def compare(run_a: str | Path, run_b: str | Path) -> dict[str, Any]:
    dir_a, dir_b = Path(run_a), Path(run_b)
    a, b = collect(dir_a), collect(dir_b)
    per_source = []
    stages_b = {s["stage"]: s for s in b["stages"]}
    for sa in a["stages"]:
        sb = stages_b.get(sa["stage"], {"per_source": {}})
        for source in sorted(set(sa["per_source"]) | set(sb["per_source"])):
            va = sa["per_source"].get(source, {}).get("docs_out", 0)
            vb = sb["per_source"].get(source, {}).get("docs_out", 0)
            per_source.append({"stage": sa["stage"], "source": source, "a": va, "b": vb, "diff": vb - va})
    return {"a": a["run"], "b": b["run"],
            "settings_diff": settings_diff(a.get("settings", {}), b.get("settings", {})),
            "docs_out": per_source, "funnel": funnel_diffs(a, b), "counts": count_diffs(a, b),
            "documents": differing_documents(dir_a, a, dir_b, b), "evaluation": evaluation_diffs(dir_a, dir_b)}


def _diff_cell(value: int, *path: Any) -> str:
    return page.num(value, *path, cls="n up" if value > 0 else "n down" if value < 0 else "n")


def render(data: dict[str, Any]) -> str:
    a, b = data["a"]["name"], data["b"]["name"]
    intro = (f"<p class=muted>A = {page.esc(data['a']['dir'])}<br>B = {page.esc(data['b']['dir'])}<br>"
             f"Differences are B − A.</p>")
    rows = [page.text_cell(d["key"]) + page.text_cell(json.dumps(d["a"])) + page.text_cell(json.dumps(d["b"]))
            for d in data["settings_diff"]]
    sections = [("settings", "Settings that differ",
                 page.table(["setting", "A", "B"], rows) if rows else "<p>The stage settings are the same.</p>")]
    rows = [page.text_cell(d["stage"]) + page.text_cell(d["source"]) + page.num(d["a"], "docs_out", i, "a")
            + page.num(d["b"], "docs_out", i, "b") + _diff_cell(d["diff"], "docs_out", i, "diff")
            for i, d in enumerate(data["docs_out"])]
    sections.append(("docs", "Documents out per stage and source", page.table(["stage", "source", "A", "B", "B − A"], rows)))
    funnel_parts = []
    for source, rules in data["funnel"].items():
        if not rules:
            continue
        rows = [page.text_cell(r["rule"]) + page.num(r["a"], "funnel", source, j, "a")
                + page.num(r["b"], "funnel", source, j, "b") + _diff_cell(r["diff"], "funnel", source, j, "diff")
                for j, r in enumerate(rules)]
        funnel_parts.append(f"<h3>{page.esc(source)}</h3>" + page.table(["filter.rule", "A", "B", "B − A"], rows))
        funnel_parts.append(page.image(plots.horizontal_bars(
            [r["rule"] for r in rules], {f"A: {a}": [r["a"] for r in rules], f"B: {b}": [r["b"] for r in rules]},
            f"{source}: documents removed per rule", "documents"), f"funnel of {source}, A and B"))
    sections.append(("funnel", "Filter funnels", "".join(funnel_parts) or "<p>No filter removals.</p>"))
    docs = data["documents"]
    parts = [f"<p class=muted>{docs['shards_scanned']} of {docs['shards_in_common']} shards in common scanned: "
             f"<span data-key=\"/documents/kept_by_a_removed_by_b\">{page.fmt(docs['kept_by_a_removed_by_b'])}"
             f"</span> documents kept by A and removed by B, <span data-key=\"/documents/kept_by_b_removed_by_a\">"
             f"{page.fmt(docs['kept_by_b_removed_by_a'])}</span> kept by B and removed by A.</p>"]
    for side, title in (("a_not_b", "Kept by A, removed by B"), ("b_not_a", "Kept by B, removed by A")):
        items = "".join(f"<div><span class=muted>{page.esc(d['id'])} · {page.esc(d['shard'])} · "
                        f"{page.esc(d['removed_by'])}</span><pre>{page.esc(d['text'])}</pre></div>" for d in docs[side])
        parts.append(f"<h3>{title}</h3>" + (items or "<p>None found.</p>"))
    sections.append(("documents", "Documents kept by one run, removed by the other", "".join(parts)))
    count_parts = []
    for stage, c in data["counts"].items():
        rows = [page.text_cell(d["key"]) + page.num(d["a"], "counts", stage, "differ", j, "a")
                + page.num(d["b"], "counts", stage, "differ", j, "b")
                + _diff_cell(d["diff"], "counts", stage, "differ", j, "diff") for j, d in enumerate(c["differ"])]
        count_parts.append(f"<h3>{page.esc(stage)}: {len(c['differ'])} counts differ, {c['equal']} equal</h3>"
                           + (page.table(["count", "A", "B", "B − A"], rows) if rows else ""))
    sections.append(("counts", "Every count that differs", "".join(count_parts)))
    sections.append(("evaluation", "Benchmark scores", render_evaluation(data["evaluation"])))
    return page.document(f"Corpus report: {a} vs {b}", sections, intro)


def write_comparison(run_a: str | Path, run_b: str | Path, out_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Write ``compare.json`` and ``compare.html`` (default folder ``<run_a>/report/compare-<run_b name>``)."""
    data = compare(run_a, run_b)
    out = Path(out_dir) if out_dir else Path(run_a) / "report" / f"compare-{Path(run_b).resolve().name}"
    data_path, page_path = out / "compare.json", out / "compare.html"
    with atomic_write(data_path, "w") as fh:
        json.dump(data, fh, indent=1)
    with atomic_write(page_path, "w") as fh:
        fh.write(render(data))
    return data_path, page_path
