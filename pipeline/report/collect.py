"""Gather a run's statistics into one dict (the report's ``stats.json``), reading only small files.

Sources of every number: ``stats/<stage>.json`` (the stages' merged per-shard counts, keys described in
``contracts.corpus_stats``), ``stats/dedup_clusters.json``, ``tokens/index.json``, the run record and resolved
manifest, and the training metrics JSONL if any. Document texts are read only for a few examples per
filter rule and per dedup cluster, from the removal ledgers, with a bound on the files opened, so the
report of a large run takes seconds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from contracts.corpus_stats import split_source
from pipeline.filters.lang_params import CAUSES, LIBRARY_MISSING, NO_SEGMENTER, skip_reason
from pipeline.readers import KINDS, source_kind
from pipeline.report.training import collect_training
from pipeline.stages import DEFAULT_ORDER, get_stage

FORMAT = "refinery-report"
VERSION = 1
EXAMPLES_PER_RULE = 3
EXAMPLE_CLUSTERS = 5
EXAMPLE_CHARS = 400
MAX_LEDGER_FILES = 32  # per source: bounds the texts read for examples on a large run
TOP_DOMAINS_SHOWN = 20
PER_SOURCE_FIELDS = ("docs_in", "docs_out", "chars_in", "chars_out", "tokens_out", "tokens_train", "tokens_val")


def read_columns(path: Path, columns: list[str]) -> pa.Table:
    """Some columns of one Parquet file. ``ParquetFile`` rather than ``pq.read_table``: the same table
    without the dataset layer (its import alone costs ~0.05 CPU s, and ~3 ms more per small file)."""
    with pq.ParquetFile(path) as parquet:
        return parquet.read(columns=columns)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def truncate(text: str | None, limit: int = EXAMPLE_CHARS) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + f" … [{len(text) - limit:,} more characters]"


def stage_order(run_dir: Path, manifest: dict[str, Any]) -> list[str]:
    order = (manifest.get("stages") or {}).get("order") or list(DEFAULT_ORDER)
    return [s for s in order if (run_dir / "stats" / f"{s}.json").exists()]


def parse_stage_counts(counts: dict[str, int], sources: list[str]) -> dict[str, Any]:
    """Structure one stage's flat counts: per-source totals, histograms, languages, domains, skips."""
    per_source: dict[str, dict[str, int]] = defaultdict(dict)
    histograms: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    languages: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    domains: dict[str, dict[str, int]] = defaultdict(dict)
    domains_other: dict[str, int] = {}
    for key, value in counts.items():
        head, _, rest = key.partition(".")
        if head == "source":
            source, field = rest.rsplit(".", 1)
            per_source[source][field] = value
        elif head == "hist":
            measure, _, tail = rest.partition(".")
            source, edge = tail.rsplit(".", 1)
            histograms[measure][source][edge] = value
        elif head in ("language_in", "language_out"):
            source, code = rest.rsplit(".", 1)
            languages[head.removeprefix("language_")][source][code] = value
        elif head == "domains":
            parts = split_source(rest, sources)
            if parts:
                domains[parts[0]][parts[1]] = value
        elif head == "domains_other":
            domains_other[rest] = value
    # A source the stage read but wrote nothing of has no ``*_out`` counter (nothing was added to it); its
    # outputs are 0, not unknown, wherever the stage writes that measure for any source.
    out_fields = {f for c in per_source.values() for f in c if f.endswith("_out")}
    for c in per_source.values():
        if "docs_in" in c:
            for f in out_fields:
                c.setdefault(f, 0)
    for hist in histograms.values():  # numeric order of bucket edges
        for source in hist:
            hist[source] = dict(sorted(hist[source].items(), key=lambda kv: int(kv[0])))
    top = {source: {"top": sorted(hosts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DOMAINS_SHOWN],
                    "counted": sum(hosts.values()), "other": domains_other.get(source, 0)}
           for source, hosts in domains.items()}
    return {"per_source": {s: dict(sorted(v.items())) for s, v in sorted(per_source.items())},
            "histograms": {m: dict(sorted(h.items())) for m, h in histograms.items()},
            "languages": {side: {s: dict(sorted(c.items(), key=lambda kv: -kv[1])) for s, c in sorted(v.items())}
                          for side, v in languages.items()},
            "domains": top}


def stage_entry(run_dir: Path, stage: str, sources: list[str]) -> dict[str, Any]:
    data = json.loads((run_dir / "stats" / f"{stage}.json").read_text())
    counts: dict[str, int] = data.get("counts", {})
    skipped = {key.removeprefix("skipped."): {"count": value, "examples": data.get("examples", {}).get(
        key.removeprefix("skipped."), [])} for key, value in sorted(counts.items()) if key.startswith("skipped.")}
    parsed = parse_stage_counts(counts, sources)
    totals = {}
    for field in ("docs_in", "docs_out", "chars_in", "chars_out", "tokens_out"):
        # the stage's own total where it keeps one, else the sum of its per-source counts
        per_source = [c[field] for c in parsed["per_source"].values() if field in c]
        if field in counts or per_source:
            totals[field] = counts[field] if field in counts else sum(per_source)
    raw = {k: v for k, v in sorted(counts.items()) if not k.startswith("domains.")}
    return {"stage": stage, "tasks": data.get("tasks", 0), "outputs": len(data.get("outputs", [])),
            "totals": totals, **parsed, "skipped": skipped, "counts": raw}


# ------------------------------------------------------------------------------------------------ filter

def filter_order() -> list[str]:
    from pipeline.filters import FILTERS

    return list(FILTERS)


def ledger_files(run_dir: Path) -> dict[str, list[str]]:
    """The filter stage's removal ledgers of this run, by source (from the kept outputs it recorded, each
    mapped to its ledger by the stage's declared outputs)."""
    stage = get_stage("filter")
    outputs = json.loads((run_dir / stage.output("stats")).read_text()).get("outputs", [])
    by_source: dict[str, list[str]] = defaultdict(list)
    for kept in outputs:
        parts = stage.match("documents", kept)
        if parts is None:
            continue
        ledger = stage.output("ledger", hash=parts["hash"], source=parts["source"]) + parts["file"]
        if (run_dir / ledger).exists():
            by_source[parts["source"]].append(ledger)
    return by_source


def removed_examples(run_dir: Path, files: list[str], wanted: set[tuple[str, str]],
                     per_rule: int = EXAMPLES_PER_RULE) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Up to ``per_rule`` ledger rows per (filter, rule), reading texts only from files that supply one."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for relative in files[:MAX_LEDGER_FILES]:
        if all(len(found[w]) >= per_rule for w in wanted):
            break
        path = run_dir / relative
        keys = read_columns(path, ["filter", "rule"]).to_pydict()
        rows = []
        for i, key in enumerate(zip(keys["filter"], keys["rule"])):
            if key in wanted and len(found[key]) + sum(1 for r in rows if r[1] == key) < per_rule:
                rows.append((i, key))
        if not rows:
            continue
        table = read_columns(path, ["id", "url", "value", "threshold", "detail", "text"])
        taken = table.take([i for i, _ in rows]).to_pylist()
        for (_, key), row in zip(rows, taken):
            found[key].append({"id": row["id"], "url": row["url"], "value": row["value"],
                               "threshold": row["threshold"], "detail": row["detail"],
                               "chars": len(row["text"] or ""), "text": truncate(row["text"])})
    return found


def filter_section(run_dir: Path, stage: dict[str, Any], sources: list[str]) -> dict[str, Any]:
    """Per source: the funnel in chain order (removed per rule, what remains), with removed examples; documents a
    filter did not judge; and, only where there are some, rules off for a language (``rules_off``)."""
    counts = stage["counts"]
    order = {name: i for i, name in enumerate(filter_order())}
    rules: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rewritten: dict[str, dict[str, int]] = defaultdict(dict)
    skipped: dict[str, dict[str, int]] = defaultdict(dict)
    for key, value in counts.items():
        head, _, rest = key.partition(".")
        if head not in ("removed", "rewritten", "rules_skipped"):
            continue
        parts = split_source(rest, sources)
        if not parts or parts[1].count(".") != 1:
            continue
        source, tail = parts
        if head != "removed":
            (rewritten if head == "rewritten" else skipped)[source][tail] = value
            continue
        name, rule = tail.split(".")
        rules[source].append({"filter": name, "rule": rule, "docs": value,
                              "chars": counts.get(f"removed_chars.{source}.{tail}", 0)})
    ledgers = ledger_files(run_dir)
    funnel = {}
    for source in sorted(set(rules) | set(stage["per_source"])):
        entries = sorted(rules.get(source, []), key=lambda r: (order.get(r["filter"], len(order)), r["filter"],
                                                               r["rule"]))
        examples = removed_examples(run_dir, ledgers.get(source, []), {(r["filter"], r["rule"]) for r in entries})
        totals = stage["per_source"].get(source, {})
        remaining = totals.get("docs_in")
        for entry in entries:
            entry["examples"] = examples.get((entry["filter"], entry["rule"]), [])
            if remaining is not None:
                remaining -= entry["docs"]
                entry["remaining"] = remaining
        funnel[source] = {"docs_in": totals.get("docs_in"), "docs_out": totals.get("docs_out"),
                          "removed": sum(r["docs"] for r in entries), "rules": entries}
    section = {"funnel": funnel, "rewritten": {s: dict(sorted(v.items())) for s, v in sorted(rewritten.items())},
               "rules_skipped": {s: dict(sorted(v.items())) for s, v in sorted(skipped.items())}}
    off = rules_off(counts, sources)
    if off:  # only where a rule was off for a cause: a run without stays byte for byte what it was
        section["rules_off"] = off
    entries = script_entries(counts, sources)
    if entries:  # only where a language's entry for a script judged some documents, as rules_off
        section["script_entries"] = entries
    return section


def script_entries(counts: dict[str, int], sources: list[str]) -> dict[str, dict[str, int]]:
    """The filter stage's ``script_entries.<source>.<key>`` counts as source -> key ("sr-Latn": a language's entry
    for one script, ``lang_params.analysis_key``) -> documents judged with it, sorted."""
    out: dict[str, dict[str, int]] = {}
    for key, value in sorted(counts.items()):
        head, _, rest = key.partition(".")
        if head == "script_entries" and (parts := split_source(rest, sources)) and "." not in parts[1]:
            out.setdefault(parts[0], {})[parts[1]] = value
    return out


def rules_off(counts: dict[str, int], sources: list[str]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """The filter stage's ``rules_off.<source>.<language>.<cause>.<filter>.<rule>`` counts as source -> language ->
    cause -> {reason, install (the command, None where nothing can be installed), docs, rules: {filter.rule:
    docs}}, sorted. ``docs``: the language's documents judged without some rule for that cause (each rule counts
    the same documents of a source's chain; the most of them)."""
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for key, value in sorted(counts.items()):
        head, _, rest = key.partition(".")
        if head != "rules_off" or not (parts := split_source(rest, sources)):
            continue
        source, tail = parts
        fields = tail.split(".")
        if len(fields) != 4 or fields[1] not in CAUSES:
            continue
        language, cause, name, rule = fields
        entry = out.setdefault(source, {}).setdefault(language, {}).get(cause)
        if entry is None:
            reason, install = skip_reason(language, cause)
            entry = out[source][language][cause] = {"reason": reason, "install": install, "docs": 0, "rules": {}}
        entry["rules"][f"{name}.{rule}"] = value
        entry["docs"] = max(entry["docs"], value)
    return out


MISSING_CAUSES = (LIBRARY_MISSING, NO_SEGMENTER)  # the causes the run warns of (``warning_lines``)


def warning_lines(counts: dict[str, int], sources: list[str]) -> list[str]:
    """One line per source and language whose word rules were skipped for want of a segmenter, with the install
    command: what the run's summary prints and the report's warning section shows."""
    lines = []
    for source, languages in rules_off(counts, sources).items():
        for language, causes in languages.items():
            for cause in MISSING_CAUSES:
                if (entry := causes.get(cause)) is not None:
                    hint = f"; install: {entry['install']}" if entry["install"] else ""
                    lines.append(f"{source}: {entry['docs']:,} {language} documents judged without "
                                 f"{len(entry['rules'])} word rules ({entry['reason']}){hint}")
    return lines


# ------------------------------------------------------------------------------------------------- dedup

def dedup_section(run_dir: Path) -> dict[str, Any] | None:
    clusters = _read_json(run_dir / get_stage("dedup").output("clusters"))
    if clusters is None:
        return None
    examples = clusters.get("largest_clusters", [])[:EXAMPLE_CLUSTERS]
    texts = _cluster_texts(run_dir, {c["cluster_id"] for c in examples})
    for cluster in examples:
        for member in cluster.get("members", []):
            if member["id"] in texts:
                member["text"] = texts[member["id"]]
    return {"clusters": clusters.get("clusters", 0), "docs_in": clusters.get("docs_in", 0),
            "docs_out": clusters.get("docs_out", 0), "removed": clusters.get("removed", {}),
            "removed_within_source": clusters.get("removed_within_source", 0),
            "removed_across_source": clusters.get("removed_across_source", 0),
            "removed_by_source_and_kept_source": clusters.get("removed_by_source_and_kept_source", {}),
            "cluster_size_histogram": clusters.get("cluster_size_histogram", {}),
            "config": clusters.get("config", {}), "example_clusters": examples}


def _cluster_texts(run_dir: Path, cluster_ids: set[str]) -> dict[str, str]:
    """Texts of the removed members of the example clusters, from the dedup ledger (bounded)."""
    texts: dict[str, str] = {}
    if not cluster_ids:
        return texts
    files = sorted(run_dir.glob(get_stage("dedup").output("ledger", source="*") + "*.parquet"))[:MAX_LEDGER_FILES * 4]
    for path in files:
        table = read_columns(path, ["cluster_id", "id"])
        mask = pc.is_in(table.column("cluster_id"), value_set=pa.array(sorted(cluster_ids)))
        if not pc.any(mask).as_py():
            continue
        rows = read_columns(path, ["id", "text", "cluster_id"]).filter(mask).to_pylist()
        for row in rows:
            texts[row["id"]] = truncate(row["text"])
    return texts


# ------------------------------------------------------------------------------------------------ tokens

def tokens_section(run_dir: Path) -> dict[str, Any] | None:
    """Tokens per source and the requested mixture (manifest weights) beside the dataset's own shares."""
    index = _read_json(run_dir / get_stage("tokenize").output("index"))
    if index is None:
        return None
    sources = index.get("sources", {})
    total_weight = sum(s.get("weight", 0) for s in sources.values()) or 1.0
    total_train = sum(s["train"]["tokens"] for s in sources.values()) or 1
    per_source = {}
    for name, s in sorted(sources.items()):
        share = s.get("weight", 0) / total_weight
        train = s["train"]["tokens"]
        per_source[name] = {
            "train_tokens": train, "val_tokens": s["val"]["tokens"], "train_docs": s["train"]["docs"],
            "val_docs": s["val"]["docs"], "weight": s.get("weight", 0), "max_epochs": s.get("max_epochs"),
            "requested_share": share, "dataset_share": train / total_train,
            # training tokens after which this source has given max_epochs passes at its requested share
            "exhausted_after_tokens": (train * s["max_epochs"] / share) if share and s.get("max_epochs") else None,
            "languages": s.get("languages", {})}  # UTF-8 bytes, tokens and bytes per token of each language
    return {"tokenizer": {k: v for k, v in index.get("tokenizer", {}).items() if k != "pattern"},
            "train_tokens": sum(s["train"]["tokens"] for s in sources.values()),
            "val_tokens": sum(s["val"]["tokens"] for s in sources.values()),
            "shards": len(index.get("shards", [])), "per_source": per_source,
            "warnings": list(((index.get("settings") or {}).get("validation") or {}).get("warnings", []))}


# ------------------------------------------------------------------------------------------------- whole

def collect(run_dir: str | Path, train_dir: str | Path | None = None) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data."""
    run_dir = Path(run_dir)
    if not (run_dir / "stats").is_dir():
        raise FileNotFoundError(f"{run_dir} has no stats/ folder: is it a run folder (runs/<name>)? Run "
                                "`python -m pipeline run MANIFEST` first")
    record = _read_json(run_dir / "run.json") or {}
    manifest = _read_json(run_dir / "manifest.resolved.json") or {}
    sources_cfg = [{"name": s["name"], "kind": s.get("kind"), "weight": s.get("weight"),
                    "max_epochs": s.get("max_epochs")} for s in manifest.get("sources", [])]
    sources = [s["name"] for s in sources_cfg]
    stages = [stage_entry(run_dir, name, sources) for name in stage_order(run_dir, manifest)]
    by_name = {s["stage"]: s for s in stages}
    web = {s["name"] for s in sources_cfg if s["kind"] in KINDS and source_kind(s["kind"]).web}
    for stage in stages:
        stage["domains"] = {k: v for k, v in stage["domains"].items() if k in web}
    return {
        "format": FORMAT, "version": VERSION,
        "run": {"dir": str(run_dir.resolve()), "name": record.get("name", run_dir.name),
                "manifest_hash": record.get("manifest_hash"), "seed": record.get("seed")},
        "sources": sources_cfg,
        "stages": stages,
        "filter": filter_section(run_dir, by_name["filter"], sources) if "filter" in by_name else None,
        "dedup": dedup_section(run_dir) if "dedup" in by_name else None,
        "tokens": tokens_section(run_dir) if "tokenize" in by_name else None,
        "training": collect_training(run_dir, train_dir, sources),
        "settings": effective_settings(manifest, run_dir),
        "files_flagged": flagged_files(run_dir),
    }


def flagged_files(run_dir: Path) -> dict[str, Any] | None:
    """The crawl stage's files that yielded nothing or little (``pipeline.file_accounting``), if any."""
    crawl = _read_json(run_dir / "stats" / "crawl.json") or {}
    return crawl.get("files_flagged")


def effective_settings(manifest: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The stage settings, with each source's filter chain resolved (kind defaults, then overrides), so
    two runs' settings differ exactly where their behaviour does. The overrides come from the verbatim
    manifest: the resolved one lists every key, which would read as "all set"."""
    import yaml

    stages = dict(manifest.get("stages", {}))
    if "filter" not in stages or not (run_dir / "manifest.yaml").exists():
        return stages
    from pipeline.filters.chain import resolve

    stages.pop("filter")
    verbatim = yaml.safe_load((run_dir / "manifest.yaml").read_text()) or {}
    options = get_stage("filter").options.model_validate((verbatim.get("stages") or {}).get("filter") or {})
    stages["filter"] = {"analysis_max_chars": options.analysis_max_chars, "chains": {
        s["name"]: resolve(s["kind"], options.defaults_by_kind, options.per_source.get(s["name"])).model_dump(
            mode="json") for s in manifest.get("sources", [])}}
    return stages
