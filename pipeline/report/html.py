"""One self-contained HTML page from the report data: inline CSS, SVG figures as data URIs, no script.

Every piece of text from the corpus (documents, URLs, file names, rule details) goes through ``esc``, so a
removed document holding ``<script>`` shows as text. Every number shown from stats.json carries a
``data-key`` attribute: the JSON pointer (RFC 6901) of its value, which lets a test check that the page
shows exactly the numbers of stats.json.
"""

from __future__ import annotations

import html
from typing import Any, Callable, Iterable, Sequence

from contracts.corpus_stats import edge_range
from pipeline.report import plots
from pipeline.report.collect import MISSING_CAUSES

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;max-width:1100px;
color:#1d1d1f;padding:0 1em;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.88em}
th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.up{color:#0a6b2a}td.down{color:#a4161a}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f9;border:1px solid #e3e3e8;padding:.4em;
margin:.2em 0;font-size:.85em;max-height:14em;overflow:auto}
details{margin:.2em 0}summary{cursor:pointer}.muted{color:#666;font-size:.88em}img{max-width:100%}
nav a{margin-right:.8em}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def pointer(*parts: Any) -> str:
    """JSON pointer of a value in stats.json, e.g. ``/stages/0/per_source/web/docs_out``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def num(value: Any, *path: Any, cls: str = "n") -> str:
    """A numeric table cell bound to its stats.json pointer."""
    key = f' data-key="{esc(pointer(*path))}"' if path and value is not None else ""
    return f'<td class="{cls}"{key}>{esc(fmt(value))}</td>'


def pct(part: float | None, whole: float | None) -> str:
    if not whole or part is None:
        return '<td class="n">—</td>'
    return f'<td class="n">{100 * part / whole:.1f}%</td>'


def table(headers: Sequence[str], rows: Iterable[str]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><tr>{head}</tr>{''.join(f'<tr>{r}</tr>' for r in rows)}</table>"


def text_cell(value: Any) -> str:
    return f"<td>{esc(value)}</td>"


def image(uri: str, alt: str) -> str:
    return f'<p><img src="{uri}" alt="{esc(alt)}"></p>'


def document(title: str, sections: list[tuple[str, str, str]], intro: str = "") -> str:
    """The page: ``sections`` are ``(anchor, heading, body html)``."""
    nav = "".join(f'<a href="#{esc(a)}">{esc(h)}</a>' for a, h, _ in sections)
    body = "".join(f'<section id="{esc(a)}"><h2>{esc(h)}</h2>{b}</section>' for a, h, b in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<style>{CSS}</style></head><body><h1>{esc(title)}</h1>{intro}<nav>{nav}</nav>{body}</body></html>')


# ------------------------------------------------------------------------------------------ run report

def _overview(stats: dict[str, Any]) -> str:
    rows = []
    for i, stage in enumerate(stats["stages"]):
        for source, c in stage["per_source"].items():
            base = ("stages", i, "per_source", source)
            rows.append(text_cell(stage["stage"]) + text_cell(source)
                        + "".join(num(c.get(f), *base, f) for f in
                                  ("docs_in", "docs_out", "chars_in", "chars_out", "tokens_out"))
                        + pct(c.get("docs_out"), c.get("docs_in")))
        t = stage["totals"]
        rows.append(f"<th>{esc(stage['stage'])}</th><th>all</th>"
                    + "".join(num(t.get(f), "stages", i, "totals", f) for f in
                              ("docs_in", "docs_out", "chars_in", "chars_out", "tokens_out"))
                    + pct(t.get("docs_out"), t.get("docs_in")))
    note = ('<p class="muted">Per stage and source: what the stage read and wrote. Crawl reads extracted '
            'records (before cleaning); records it could not use are listed under Skipped records. Tokens '
            'include one end-of-text token per document.</p>')
    return note + table(["stage", "source", "docs in", "docs out", "chars in", "chars out", "tokens out",
                         "docs kept"], rows)


def _skipped(stats: dict[str, Any]) -> str:
    parts = []
    for i, stage in enumerate(stats["stages"]):
        if not stage["skipped"]:
            continue
        rows = []
        for reason, entry in stage["skipped"].items():
            examples = "".join(
                f"<li>{(esc(e['source']) + ' · ') if e.get('source') else ''}{esc(e.get('file'))} · record "
                f"{esc(e.get('record'))}"
                f"{(' · ' + esc(e['detail'])) if e.get('detail') else ''}</li>" for e in entry["examples"])
            rows.append(text_cell(reason) + num(entry["count"], "stages", i, "skipped", reason, "count")
                        + f"<td><details><summary>{_count(len(entry['examples']), 'example')}</summary><ul>{examples}"
                          f"</ul></details></td>")
        parts.append(f"<h3>{esc(stage['stage'])}</h3>" + table(["reason", "records", "examples"], rows))
    return "".join(parts) or "<p>No records were skipped.</p>"


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 ("1 example", "3 examples")."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _examples_html(examples: list[dict[str, Any]]) -> str:
    if not examples:
        return ""
    items = "".join(
        f"<div><span class=muted>{esc(e.get('url') or e.get('id'))} · value {esc(fmt(e.get('value')))}"
        f" vs threshold {esc(fmt(e.get('threshold')))}{(' · ' + esc(e['detail'])) if e.get('detail') else ''}"
        f" · {esc(fmt(e.get('chars')))} chars</span><pre>{esc(e.get('text'))}</pre></div>" for e in examples)
    return f"<details><summary>{_count(len(examples), 'removed example')}</summary>{items}</details>"


def _filter(stats: dict[str, Any]) -> str:
    section = stats["filter"]
    parts = ['<p class="muted">Rules in chain order; a document is removed by the first rule it fails, so '
             '"remaining" is the funnel. Examples come from the removal ledger (first documents per rule, '
             'texts truncated).</p>']
    for source, f in section["funnel"].items():
        base = ("filter", "funnel", source)
        rows = [text_cell("(input)") + text_cell("") + "<td></td><td></td>" + num(f["docs_in"], *base, "docs_in")
                + "<td></td>"]
        for j, r in enumerate(f["rules"]):
            rows.append(text_cell(r["filter"]) + text_cell(r["rule"]) + num(r["docs"], *base, "rules", j, "docs")
                        + num(r["chars"], *base, "rules", j, "chars")
                        + num(r.get("remaining"), *base, "rules", j, "remaining")
                        + f"<td>{_examples_html(r['examples'])}</td>")
        parts.append(f"<h3>{esc(source)}: {fmt(f['removed'])} removed</h3>"
                     + table(["filter", "rule", "docs removed", "chars removed", "remaining", "examples"], rows))
        if f["rules"]:
            labels = [f"{r['filter']}.{r['rule']}" for r in f["rules"]]
            parts.append(image(plots.horizontal_bars(labels, {"removed": [r["docs"] for r in f["rules"]]},
                                                     f"{source}: documents removed per rule", "documents"),
                               f"filter funnel of {source}"))
    rewritten = section["rewritten"]
    if rewritten:
        rows = [text_cell(s) + text_cell(k) + num(v, "filter", "rewritten", s, k)
                for s, c in rewritten.items() for k, v in c.items()]
        parts.append("<h3>Rewrites of kept documents</h3>" + table(["source", "filter.what", "count"], rows))
    skipped = section.get("rules_skipped")
    if skipped:
        rows = [text_cell(s) + text_cell(k) + num(v, "filter", "rules_skipped", s, k)
                for s, c in skipped.items() for k, v in c.items()]
        parts.append("<h3>Documents a filter did not judge</h3>" + table(["source", "filter.why", "docs"], rows))
    other = _rules_off_rows(section.get("rules_off") or {}, lambda cause: cause not in MISSING_CAUSES)
    if other:
        parts.append("<h3>Rules off for a language</h3><p class=muted>Documents judged without a rule their "
                     "language has no data for (e.g. no stop-word list: Gopher's stop-word rule is skipped).</p>"
                     + table(["source", "language", "reason", "docs", "rules off (docs)"], other))
    entries = section.get("script_entries")
    if entries:  # only where some documents were judged with a language's entry for their script
        rows = [text_cell(s) + text_cell(k) + num(v, "filter", "script_entries", s, k)
                for s, c in entries.items() for k, v in c.items()]
        parts.append("<h3>Languages judged by script</h3><p class=muted>Documents of a language written in several "
                     "scripts judged with the entry of their script (e.g. sr-Latn: FineWeb-2's srp_Latn values for "
                     "Latin-script Serbian, which lid.176 labels sr).</p>"
                     + table(["source", "language-script", "docs"], rows))
    return "".join(parts)


def _rules_off_rows(rules_off: dict[str, Any], wanted: Callable[[str], bool], install: bool = False) -> list[str]:
    """Rows of the filter section's ``rules_off`` (source, language, reason[, install], docs, rules) of the causes
    ``wanted`` keeps."""
    rows = []
    for source, languages in rules_off.items():
        for language, causes in languages.items():
            for cause, e in causes.items():
                if not wanted(cause):
                    continue
                base = ("filter", "rules_off", source, language, cause)
                rules = "<br>".join(f"{esc(k)} <span data-key=\"{esc(pointer(*base, 'rules', k))}\">{fmt(v)}</span>"
                                    for k, v in e["rules"].items())
                hint = [f"<td><code>{esc(e['install'])}</code></td>" if e["install"] else "<td class=muted>—</td>"]
                rows.append(text_cell(source) + text_cell(language) + text_cell(e["reason"])
                            + ("".join(hint) if install else "") + num(e["docs"], *base, "docs")
                            + f"<td>{rules}</td>")
    return rows


# Inline, not in CSS: the page of a run without such a warning stays byte for byte what it was
WARNING_STYLE = "background:#fff4e5;border-left:4px solid #e67700;padding:.4em .6em"


def _segmenters_missing(stats: dict[str, Any]) -> str:
    """The warning section: documents whose word rules were skipped for want of a segmenter, with what to install."""
    rows = _rules_off_rows((stats.get("filter") or {}).get("rules_off") or {}, lambda cause: cause in MISSING_CAUSES,
                           install=True)
    if not rows:
        return ""
    return (f'<p style="{WARNING_STYLE}"><strong>Warning:</strong> these documents were judged without their word '
            "rules (none was removed by them): their language has no word segmenter in this run. Where a command "
            "is given, install the library and run again: the filter stage then measures them with their language's "
            "words (its signal hash covers the language table).</p>"
            + table(["source", "language", "reason", "install", "docs", "word rules skipped (docs)"], rows))


def _languages(stats: dict[str, Any]) -> str:
    parts = []
    for i, stage in enumerate(stats["stages"]):
        langs = stage["languages"]
        if not langs:
            continue
        rows = []
        for source in sorted(set(langs.get("in", {})) | set(langs.get("out", {}))):
            cells = []
            for side in ("in", "out"):
                codes = langs.get(side, {}).get(source, {})
                shown = list(codes.items())[:15]
                spans = ", ".join(f"{esc(code)} <span data-key=\"{esc(pointer('stages', i, 'languages', side, source, code))}"
                                  f"\">{fmt(n)}</span>" for code, n in shown)
                more = f" <span class=muted>+{len(codes) - len(shown)} more</span>" if len(codes) > len(shown) else ""
                cells.append(f"<td>{spans}{more}</td>" if codes else "<td class=muted>none</td>")
            rows.append(text_cell(source) + "".join(cells))
        parts.append(f"<p class=muted>Detected by the {esc(stage['stage'])} stage: languages of the documents it "
                     f"read and of those it kept.</p>" + table(["source", "documents in", "documents kept"], rows))
        break  # the first stage that measured languages (filter) shows both what came in and what it kept
    return "".join(parts) or "<p>No stage measured languages (the filter stage's language filter is off).</p>"


def _domains(stats: dict[str, Any]) -> str:
    parts = []
    with_domains = [i for i, stage in enumerate(stats["stages"]) if stage["domains"]]
    for i in sorted(set(with_domains[:1] + with_domains[-1:])):  # what came in, and what is left
        stage = stats["stages"][i]
        blocks = []
        for source, d in stage["domains"].items():
            rows = [text_cell(host) + num(n, "stages", i, "domains", source, "top", j, 1)
                    for j, (host, n) in enumerate(d["top"])]
            rows.append(text_cell("(other hosts)") + num(d["other"], "stages", i, "domains", source, "other"))
            blocks.append(f"<div style='display:inline-block;margin-right:2em'><b>{esc(source)}</b>"
                          + table(["host", "documents"], rows) + "</div>")
        parts.append(f"<h3>{esc(stage['stage'])} output</h3>" + "".join(blocks))
    note = ('<p class="muted">Hosts summed from each output shard\'s 50 most frequent; "other hosts" holds '
            'the rest, so counts are exact for hosts that are frequent in every shard they occur in.</p>')
    return note + "".join(parts) if parts else "<p>No web sources.</p>"


def _lengths(stats: dict[str, Any]) -> str:
    parts = []
    names = [s["name"] for s in stats["sources"]]
    for i, stage in enumerate(stats["stages"]):
        for measure, hist in stage["histograms"].items():
            if not hist:
                continue
            parts.append(image(plots.length_histograms(hist, measure, f"{stage['stage']} output: {measure} "
                                                                      f"per document", names),
                               f"{measure} histogram of {stage['stage']}"))
            edges = edge_range(int(e) for h in hist.values() for e in h)
            rows = [text_cell(source) + "".join(
                num(h[str(e)], "stages", i, "histograms", measure, source, str(e)) if str(e) in h
                else '<td class="n">0</td>' for e in edges) for source, h in hist.items()]
            parts.append(f"<details><summary>{esc(stage['stage'])} {esc(measure)} histogram table</summary>"
                         + table(["source"] + [f"≥{e:,}" for e in edges], rows) + "</details>")
    return "".join(parts) or "<p>No length histograms recorded.</p>"


def _dedup(stats: dict[str, Any]) -> str:
    d = stats["dedup"]
    rows = [text_cell(k) + num(d[k], "dedup", k) for k in
            ("docs_in", "docs_out", "clusters", "removed_within_source", "removed_across_source")]
    rows += [text_cell(f"removed ({k})") + num(v, "dedup", "removed", k) for k, v in d["removed"].items()]
    rows += [text_cell(f"removed from {k.replace('.kept_from.', ', kept from ')}")
             + num(v, "dedup", "removed_by_source_and_kept_source", k)
             for k, v in d["removed_by_source_and_kept_source"].items()]
    parts = [table(["", "documents"], rows)]
    hist = d["cluster_size_histogram"]
    if hist:
        parts.append(image(plots.vertical_bars(list(hist), list(hist.values()), "clusters by size",
                                               "documents in cluster", "clusters"), "cluster size histogram"))
        parts.append(table(["cluster size", "clusters"], [text_cell(k) + num(v, "dedup", "cluster_size_histogram", k)
                                                          for k, v in hist.items()]))
    for j, c in enumerate(d["example_clusters"]):
        members = "".join(
            f"<div><span class=muted>{esc(m['id'])} · {esc(m['source'])} · {esc(m['reason'])}</span>"
            + (f"<pre>{esc(m['text'])}</pre>" if m.get("text") else "") + "</div>" for m in c["members"])
        parts.append(f"<details><summary>cluster {esc(c['cluster_id'])}: <span data-key="
                     f"\"{esc(pointer('dedup', 'example_clusters', j, 'size'))}\">{fmt(c['size'])}</span> documents, "
                     f"kept {esc(c['kept_id'])} ({esc(c['kept_source'])})</summary>{members}</details>")
    return "".join(parts)


def _tokens(stats: dict[str, Any]) -> str:
    t = stats["tokens"]
    realised = (stats.get("training") or {}).get("realised_mixture", {})
    rows = []
    for source, s in t["per_source"].items():
        base = ("tokens", "per_source", source)
        rows.append(text_cell(source) + num(s["train_tokens"], *base, "train_tokens")
                    + num(s["val_tokens"], *base, "val_tokens") + num(s["train_docs"], *base, "train_docs")
                    + num(s["weight"], *base, "weight") + num(s["requested_share"], *base, "requested_share")
                    + num(s["dataset_share"], *base, "dataset_share")
                    + (num(realised[source], "training", "realised_mixture", source) if source in realised
                       else '<td class="n">—</td>')
                    + num(s["max_epochs"], *base, "max_epochs")
                    + num(s["exhausted_after_tokens"], *base, "exhausted_after_tokens"))
    rows.append("<th>all</th>" + num(t["train_tokens"], "tokens", "train_tokens")
                + num(t["val_tokens"], "tokens", "val_tokens") + "<td></td>" * 7)
    tok = t["tokenizer"]
    parts = [f"<p><strong>Warning:</strong> {esc(w)}</p>" for w in t.get("warnings", [])]
    parts += [f"<p class=muted>Tokenizer {esc(tok.get('name'))} ({esc(tok.get('kind'))}, {esc(fmt(tok.get('n_vocab')))} "
             f"tokens). Requested share: the manifest's weights, normalised; dataset share: each source's part "
             f"of the training tokens as written; realised: the trainer's last reported mixture; exhausted "
             f"after: training tokens at which a source has given max_epochs passes at its requested share."
             f"</p>",
             table(["source", "train tokens", "val tokens", "train docs", "weight", "requested share",
                    "dataset share", "realised (training)", "max epochs", "exhausted after (tokens)"], rows)]
    language_rows = [text_cell(source) + text_cell(code)
                     + num(v["bytes"], "tokens", "per_source", source, "languages", code, "bytes")
                     + num(v["tokens"], "tokens", "per_source", source, "languages", code, "tokens")
                     + num(v["bytes_per_token"], "tokens", "per_source", source, "languages", code, "bytes_per_token")
                     for source, s in t["per_source"].items() for code, v in s.get("languages", {}).items()]
    if language_rows:
        parts += ["<p class=muted>Bytes per token by language (the language the filter detected, else the one "
                  "the source declares): how well the tokenizer compresses each language.</p>",
                  table(["source", "language", "UTF-8 bytes", "tokens", "bytes per token"], language_rows)]
    names = list(t["per_source"])
    series = {"requested": [t["per_source"][s]["requested_share"] for s in names],
              "dataset": [t["per_source"][s]["dataset_share"] for s in names]}
    if realised:
        series["realised (training)"] = [realised.get(s, 0.0) for s in names]
    parts.append(image(plots.horizontal_bars(names, series, "mixture by source", "share of tokens"), "mixture"))
    return "".join(parts)


def _training(stats: dict[str, Any]) -> str:
    tr = stats["training"]
    x = tr["x"]
    groups: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for name, s in tr["series"].items():
        groups.setdefault(s["group"], {})[name] = (s["x"], s["y"])
    parts = [f"<p class=muted>From {', '.join(esc(f) for f in tr['files'])}.</p>"]
    titles = {"loss": ("loss", True), "source_loss": ("validation loss per source", True),
              "accuracy": ("validation accuracy", False),
              "throughput": ("tokens per second", False), "lr": ("learning rate", False),
              "benchmark": ("benchmark scores (and CORE)", False)}
    for group, (title, log_y) in titles.items():
        if group in groups:
            parts.append(image(plots.curves(groups[group], title, x, group.replace("_", " "), log_y), title))
    rows = [text_cell(name) + num(v, "training", "last", name) for name, v in tr["last"].items()
            if tr["series"][name]["group"] != "other" or len(tr["last"]) < 40]
    parts.append("<h3>Last values</h3>" + table(["series", "last value"], rows))
    return "".join(parts)


def _flagged(stats: dict[str, Any]) -> str:
    """Input files that yielded no document, or far fewer characters than they held: shown first, since
    text that vanished is the worst defect a corpus can have."""
    found = stats.get("files_flagged") or {}
    parts = []
    for which, title in (("nothing", "yielded no document"), ("little", "yielded little")):
        files = found.get(which) or []
        if not files:
            continue
        rows = []
        for j, f in enumerate(files):
            base = ("files_flagged", which, j)
            reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(f["skipped"].items(), key=lambda kv: -kv[1]))
            ignored = ", ".join(f"{kind} {n:,}" for kind, n in sorted((f.get("ignored") or {}).items(),
                                                                       key=lambda kv: -kv[1]))
            if ignored:  # e.g. a WAT file (metadata records) or a file of revisits: nothing lost, and said so
                reasons = "; ".join(filter(None, (reasons, f"not text: {ignored}")))
            rows.append(text_cell(f["file"]) + text_cell(f["source"]) + num(f["records"], *base, "records")
                        + num(f["docs_out"], *base, "docs_out") + num(f["chars_held"], *base, "chars_held")
                        + num(f["chars_out"], *base, "chars_out") + text_cell(reasons or "—"))
        count = found.get(f"{which}_count", len(files))
        more = f" (the first {len(files):,} of {count:,})" if count > len(files) else ""
        parts.append(f"<h3>{count:,} files {title}{more}</h3>"
                     + table(["file", "source", "records", "docs out", "chars held", "chars out",
                              "records skipped by reason; not text"], rows))
    if not parts:
        return "<p>Every input file yielded documents in proportion to the text it held.</p>"
    ratios = ", ".join(f"{kind} {ratio:g}" for kind, ratio in sorted((found.get("little_ratio") or {}).items()))
    note = (f'<p class="muted">"Little": characters out below this share of the characters the file held '
            f"({esc(ratios)}). Held: the text the reader gave its extractor (decoded HTML, wikitext, the whole "
            "book).</p>")
    return "".join(parts) + note


def render(stats: dict[str, Any]) -> str:
    run = stats["run"]
    intro = (f"<p class=muted>Run folder {esc(run['dir'])} · manifest {esc((run.get('manifest_hash') or '')[:12])} "
             f"· seed {esc(run.get('seed'))} · sources: "
             + ", ".join(f"{esc(s['name'])} ({esc(s['kind'])}, weight {esc(fmt(s['weight']))})" for s in stats["sources"])
             + "</p>")
    missing = _segmenters_missing(stats)
    sections = ([("segmenters", "Word rules skipped: no word segmenter", missing)] if missing else []) + [
                ("loss", "Files that yielded nothing or little", _flagged(stats)),
                ("overview", "Documents, characters and tokens", _overview(stats)),
                ("skipped", "Skipped records", _skipped(stats))]
    if stats.get("filter"):
        sections.append(("filter", "Filter funnel", _filter(stats)))
    sections += [("languages", "Languages", _languages(stats)), ("domains", "Top domains", _domains(stats)),
                 ("lengths", "Document lengths", _lengths(stats))]
    if stats.get("dedup"):
        sections.append(("dedup", "Deduplication", _dedup(stats)))
    if stats.get("tokens"):
        sections.append(("tokens", "Tokens and mixture", _tokens(stats)))
    if stats.get("training"):
        sections.append(("training", "Training", _training(stats)))
    return document(f"Corpus report: {run['name']}", sections, intro)
