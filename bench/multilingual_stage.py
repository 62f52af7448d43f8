"""CPU time per character of the whole filter stage on Chinese and English shards (issue 13).

Usage: ``python bench/multilingual_stage.py [--runs 5] [--chain default|words] [--equal-size | --exact-size]
[--modes split,fused,later] [--slope] [--processes N [--compare REPO ...]]`` from the repository root.

What the stage does per shard, in this process: the zhwiki and enwiki documents (wikipedia reader), each
dump written as one Parquet shard of the extract stage's schema, then ``filter-signals``
(``pipeline.stages.filter.run_signals``: read the shard, measure the chain, write the signals) and
``filter`` (``run_decisions``: read documents and signals, decide, rewrite the kept texts, write kept
documents and the removal ledger). The chain is the wikipedia kind's default chain (``--chain default``)
or the full web word chain (``--chain words``) in the documents' declared language. CPU time
(``time.process_time``, the machine is shared), medians of ``--runs`` runs, Chinese and English alternated
within each run.

Shard sizes. A shard costs a fixed part (Parquet reads and writes, an fsync per file written, the chain
built; ~7-8 ms) that is spread over its characters; zhwiki's 23 articles are 17x fewer characters than
enwiki's 98. ``--equal-size`` cuts the English shard to its first *whole* articles up to as many characters
as the Chinese one (215,688 against 162,910: the figures of every section before 6 December's third
session); ``--exact-size`` cuts the last of them short so both shards hold exactly the same number of
characters, so that the fixed part weighs the same on both.

Modes (``--modes``, each one row group of the table):

* ``split``: the two steps as separate tasks, as a rerun with changed thresholds runs them (the decision
  step reads the shard again). The decision step runs twice: with the vocabulary the signal step left
  (``decisions warm``, ``stage warm``) and with an empty one (``cold``: a fresh worker process).
* ``fused``: ``run_fused``, the one task per shard a fresh run makes (the shard read once, the decisions
  taken on the signals in memory), vocabulary emptied first: a worker's first shard.
* ``later``: the shard cut in two halves at the same characters in both languages; each half runs fused
  after the other half ran in the same process with the vocabulary it left (a worker's later shards of
  a source: the vocabulary and the token caches persist between a step's tasks), the two timed halves
  summed; beside it the same halves each with an empty vocabulary (``halves cold``), so the difference is
  the vocabulary alone.

The vocabulary is emptied before each signal step unless a mode says otherwise.

``--slope`` also runs ``fused`` on shards of 1/4, 1/2 and 3/4 of the size (``--exact-size`` cuts) and fits
CPU = fixed + marginal x characters per language: the marginal cost per character is what a shard of the
default 4 M characters (``stages.crawl.shard_chars``) pays beside a fixed part spread 25x thinner.

``--pair`` picks the texts: ``wiki`` (the default: the zhwiki and enwiki samples above), ``book`` (the shared
Chinese book, Hongloumeng, against the shared English Gutenberg books, both cut to the same characters, as
documents of the wikipedia kind's chain in their declared language), ``handbook`` (the Debian Administrator's
Handbook's zh-CN and en-US pages, extracted as the crawl stage does: technical prose, Chinese mixed with
commands, paths and English names; needs ``--handbook-cache``, bench/multilingual_agreement.py downloads it).
One pair is one kind of text: the goal (Chinese no slower per character than English) is a claim about text in
general, so each pair is measured and reported on its own.

``--processes N`` (implies ``--slope``) runs the measurement above in N fresh processes one after the other and
prints each one's zh / en marginal ratio, then their median, low and high: one process's ratio moves by
+-8 % with the load on a shared 2-core machine (0.87-1.06 in seven processes of one afternoon), so one
process is no figure. ``--compare REPO ...`` adds other checkouts (each its own ``.venv/bin/python`` and its
own copy of this script): the checkouts take turns, this one first, N processes each, so a before/after
runs under the same load; each checkout's medians and the ratio of its zh and en marginal costs to this
checkout's follow.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipeline.documents import DOC_SCHEMA, write_parquet  # noqa: E402
from pipeline.filters import words  # noqa: E402
from pipeline.filters.chain import ChainSpec, resolve  # noqa: E402
from pipeline.stages.filter import ShardTask, run_decisions, run_fused, run_signals  # noqa: E402

FILES = {"zh": "zhwiki", "en": "enwiki"}  # shard names (one per language; the pair's texts are in them)
PAIRS = ("wiki", "book", "handbook")
EN_BOOKS = ("gutenberg-3261-news-from-nowhere.txt", "gutenberg-972-the-devils-dictionary.txt",
            "gutenberg-9198-the-complete-angler-1653.txt", "gutenberg-14263-katrine.txt",
            "gutenberg-16215-jack-sheppard.txt")
BOOK_PIECE_CHARS = 8_000  # about a Hongloumeng chapter (120 chapters, 7,400 characters on average)
WORD_CHAIN = {"gopher_repetition": {}, "gopher_quality": {}, "c4": {}, "fineweb": {}}
MODES = ("split", "fused", "later")
DEFAULT_SHARD_CHARS = 4_000_000


def cut(rows: list[dict], start: int, stop: int) -> list[dict]:
    """The documents' texts between character ``start`` and ``stop`` of their concatenation, as documents:
    a document crossing a bound is cut there (ids kept unique by a suffix)."""
    out, offset = [], 0
    for row in rows:
        lo, hi = max(start - offset, 0), min(stop - offset, len(row["text"]))
        if lo < hi:
            piece = dict(row, text=row["text"][lo:hi])
            if (lo, hi) != (0, len(row["text"])):
                piece["id"] = f"{row['id']}#{lo}"
            out.append(piece)
        offset += len(row["text"])
    return out


class Shards:
    """Shards written once in ``run_dir``, each a task of the chosen chain."""

    def __init__(self, run_dir: Path, spec: ChainSpec):
        self.run_dir, self.spec, self.chars = run_dir, spec, {}

    def task(self, name: str, rows: list[dict]) -> ShardTask:
        write_parquet(self.run_dir / "extracted" / name / "0.parquet", pa.Table.from_pylist(rows, schema=DOC_SCHEMA))
        self.chars[name] = sum(len(r["text"]) for r in rows)
        return ShardTask(str(self.run_dir), name, f"extracted/{name}/0.parquet", self.spec, 1_000_000,
                         f"signals/{name}/0.parquet", f"filtered/{name}/0.parquet", f"removed/{name}/0.parquet")


def timed(step: Callable[[ShardTask], Any], task: ShardTask, cold: bool = True) -> float:
    if cold:
        words.clear_cache()
    started = time.process_time()
    step(task)
    return time.process_time() - started


_FIT_ROW = re.compile(r"^\| (zh|en) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \|$", re.M)


def pair_rows(pair: str, handbook_cache: Path | None) -> dict[str, list[dict]]:
    """The documents of ``pair`` as extract-stage rows, per language, each with its declared language."""
    import multilingual_bench as mb

    if pair == "wiki":
        return {lang: [d.to_row(name) for d in mb.documents(name)] for lang, name in FILES.items()}
    from pipeline.readers import get_reader, reader_module
    from pipeline.readers.base import Split
    from contracts.accounting import Tally

    def book(path: str) -> list[dict]:
        """The book as documents of about ``BOOK_PIECE_CHARS`` (whole paragraphs), so that both languages have
        about as many documents per character (a document's own costs, its LID read capped at 100,000
        characters among them, would otherwise weigh differently: Hongloumeng is one 890,000-character text)."""
        read = get_reader("books").read(Split(str(mb.DATA / "books" / path)), reader_module("books").Options(), Tally())
        out = []
        for d in read:
            row, piece = d.to_row("book"), []
            for paragraph in row["text"].split("\n\n"):
                piece.append(paragraph)
                if sum(map(len, piece)) >= BOOK_PIECE_CHARS:
                    out.append(dict(row, id=f"{row['id']}#{len(out)}", text="\n\n".join(piece)))
                    piece = []
            if piece:
                out.append(dict(row, id=f"{row['id']}#{len(out)}", text="\n\n".join(piece)))
        return out

    if pair == "book":
        rows = {"zh": book("zh-hongloumeng-pg24264.txt"), "en": [r for path in EN_BOOKS for r in book(path)]}
    else:
        if handbook_cache is None:
            raise SystemExit("--pair handbook needs --handbook-cache DIR (bench/multilingual_agreement.py's)")
        from multilingual_agreement import handbook_sections

        template = mb.documents("zhwiki")[0].to_row("handbook")
        rows = {lang: [dict(template, id=f"handbook#{lang}#{name}", url=name, title=name, text=text)
                       for name, text in handbook_sections(lang, handbook_cache)] for lang in FILES}
    for lang, docs in rows.items():  # the declared language, as a wiki dump's siteinfo gives it
        for r in docs:
            r["meta"] = {**(r.get("meta") or {}), "language": lang}
    return rows


def repeat(args: argparse.Namespace) -> None:
    """``--processes``: the fused slope measured in fresh processes of each checkout, taking turns."""
    checkouts = [ROOT] + [Path(r).resolve() for r in args.compare]
    command = ["bench/multilingual_stage.py", "--runs", str(args.runs), "--chain", args.chain, "--modes", "fused",
               "--slope", "--exact-size" if args.exact_size else "--equal-size" if args.equal_size else ""]
    if args.pair != "wiki":  # a checkout older than --pair measures the wiki pair only
        command += ["--pair", args.pair] + (["--handbook-cache", str(args.handbook_cache)] if args.handbook_cache else [])
    marginal: list[dict[str, list[float]]] = [{"zh": [], "en": []} for _ in checkouts]  # by position: a repo twice
                                                                                          # is an A/A check
    for n in range(args.processes):
        for k, checkout in enumerate(checkouts):
            python = checkout / ".venv" / "bin" / "python"
            done = subprocess.run([str(python if python.exists() else sys.executable)] + [c for c in command if c],
                                  cwd=checkout, capture_output=True, text=True)
            fits = {lang: float(m) for lang, _, m, _ in _FIT_ROW.findall(done.stdout)}
            if done.returncode or set(fits) != {"zh", "en"}:
                raise SystemExit(f"{checkout}: the measurement failed (exit {done.returncode}); its output:\n"
                                 f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
            for lang, ns in fits.items():
                marginal[k][lang].append(ns)
            print(f"process {n + 1}/{args.processes} {checkout}: zh {fits['zh']:.1f}, en {fits['en']:.1f} ns/char "
                  f"marginal, zh / en {fits['zh'] / fits['en']:.3f}", flush=True)
    print(f"| checkout | zh ns/char | en ns/char | zh / en median | low | high | zh vs {ROOT.name} | en vs {ROOT.name} |")
    print("|---|---|---|---|---|---|---|---|")
    base = {lang: statistics.median(marginal[0][lang]) for lang in ("zh", "en")}
    for checkout, fits in zip(checkouts, marginal):
        ratios = [z / e for z, e in zip(fits["zh"], fits["en"])]
        zh, en = statistics.median(fits["zh"]), statistics.median(fits["en"])
        print(f"| {checkout} | {zh:.1f} | {en:.1f} | {statistics.median(ratios):.3f} | {min(ratios):.3f} | "
              f"{max(ratios):.3f} | {zh / base['zh']:.3f} | {en / base['en']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chain", choices=("default", "words"), default="default")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--equal-size", action="store_true", help="English shard: whole articles up to the Chinese one's size")
    size.add_argument("--exact-size", action="store_true", help="English shard cut to exactly the Chinese one's characters")
    parser.add_argument("--modes", default="split", help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--slope", action="store_true", help="fit fixed + marginal cost over four shard sizes (fused)")
    parser.add_argument("--pair", choices=PAIRS, default="wiki", help="which Chinese and English texts (see above)")
    parser.add_argument("--handbook-cache", type=Path, help="with --pair handbook: the handbook's download folder")
    parser.add_argument("--processes", type=int, default=0,
                        help="the fused slope in this many fresh processes (per checkout), with medians")
    parser.add_argument("--compare", nargs="*", default=[], metavar="REPO",
                        help="with --processes: other checkouts measured in turn with this one")
    args = parser.parse_args()
    if args.compare and not args.processes:
        parser.error("--compare needs --processes")
    if args.processes:
        return repeat(args)
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes {sorted(unknown)}")

    spec = resolve("wikipedia", {}, None) if args.chain == "default" else ChainSpec.model_validate(WORD_CHAIN)
    figures: dict[str, dict[str, list[float]]] = {lang: {} for lang in FILES}
    rows = pair_rows(args.pair, args.handbook_cache)
    zh_chars = sum(len(r["text"]) for r in rows["zh"])
    if args.pair != "wiki":  # the shorter side sets the size: the Chinese book is longer than the English ones
        zh_chars = min(zh_chars, sum(len(r["text"]) for r in rows["en"]))
        rows["zh"] = cut(rows["zh"], 0, zh_chars)
    if args.equal_size:  # the first whole articles up to the Chinese shard's characters
        ends = np.cumsum([len(r["text"]) for r in rows["en"]])
        rows["en"] = rows["en"][:int(np.searchsorted(ends, zh_chars)) + 1]
    elif args.exact_size:
        rows["en"] = cut(rows["en"], 0, zh_chars)
    with tempfile.TemporaryDirectory() as tmp:
        shards = Shards(Path(tmp), spec)
        whole = {lang: shards.task(name, rows[lang]) for lang, name in FILES.items()}
        n_chars = {lang: shards.chars[name] for lang, name in FILES.items()}
        half = zh_chars // 2
        halves = {lang: [shards.task(f"{name}-a", cut(rows[lang], 0, half)),
                         shards.task(f"{name}-b", cut(rows[lang], half, n_chars[lang]))]
                  for lang, name in FILES.items()} if "later" in modes else {}
        fractions = (0.25, 0.5, 0.75)
        parts = {lang: [shards.task(f"{name}-{f}", cut(rows[lang], 0, int(n_chars[lang] * f))) for f in fractions]
                 for lang, name in FILES.items()} if args.slope else {}
        slope_times: dict[str, list[list[float]]] = {lang: [[] for _ in range(len(fractions) + 1)] for lang in FILES}

        def add(lang: str, key: str, seconds: float) -> None:
            figures[lang].setdefault(key, []).append(seconds / n_chars[lang] * 1e6)

        for _ in range(args.runs):
            for lang, task in whole.items():
                if "split" in modes:
                    signals = timed(run_signals, task)
                    warm = timed(run_decisions, task, cold=False)
                    cold = timed(run_decisions, task)
                    for key, seconds in (("signals", signals), ("decisions warm", warm), ("decisions cold", cold),
                                         ("stage warm", signals + warm), ("stage cold", signals + cold)):
                        add(lang, key, seconds)
                if "fused" in modes or args.slope:
                    fused = timed(run_fused, task)
                    add(lang, "stage fused", fused)
                    slope_times[lang][-1].append(fused)
                if "later" in modes:
                    a, b = halves[lang]
                    add(lang, "halves cold", timed(run_fused, a) + timed(run_fused, b))
                    words.clear_cache()
                    run_fused(a)
                    later_b = timed(run_fused, b, cold=False)
                    words.clear_cache()
                    run_fused(b)
                    add(lang, "halves later", later_b + timed(run_fused, a, cold=False))
                for i, part in enumerate(parts.get(lang, [])):
                    slope_times[lang][i].append(timed(run_fused, part))
    print(f"filter stage, {args.chain} chain, {args.pair} pair, CPU us per character, median of {args.runs} "
          f"(zh {n_chars['zh']:,} chars, en {n_chars['en']:,}"
          f"{' (its first articles)' if args.equal_size else ' (cut to the same characters)' if args.exact_size else ''}):")
    print("| step | zh | en | zh / en |")
    print("|---|---|---|---|")
    for key in figures["zh"]:
        zh, en = (statistics.median(figures[lang][key]) for lang in FILES)
        print(f"| {key} | {zh:.4f} | {en:.4f} | {zh / en:.3f} |")
    if args.slope:
        fit = {}
        for lang in FILES:
            xs = [n_chars[lang] * f for f in fractions] + [n_chars[lang]]
            ys = [statistics.median(t) for t in slope_times[lang]]
            marginal, fixed = np.polyfit(xs, ys, 1)
            fit[lang] = (fixed, marginal)
        print("| fused, fit over 4 sizes | fixed ms | marginal ns/char | at 4 M chars us/char |")
        print("|---|---|---|---|")
        for lang, (fixed, marginal) in fit.items():
            print(f"| {lang} | {fixed * 1e3:.2f} | {marginal * 1e9:.1f} | {(fixed / DEFAULT_SHARD_CHARS + marginal) * 1e6:.4f} |")
        (zf, zm), (ef, em) = fit["zh"], fit["en"]
        print(f"| zh / en | | {zm / em:.3f} | {(zf / DEFAULT_SHARD_CHARS + zm) / (ef / DEFAULT_SHARD_CHARS + em):.3f} |")


if __name__ == "__main__":
    main()
