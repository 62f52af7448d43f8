"""The compiled jieba cut alone (``_jieba.cut_ucs4`` and ``cut_runs``) on every Chinese set: its words, to
compare two checkouts word for word, and its CPU time per character (issue 13, branch zhjieba48).

Usage, from the repository root::

    python bench/jieba_kernel.py [--repo PATH] [--runs 7] [--save FILE | --compare FILE]

Sets (each document's text as the pipeline extracts it; bench/multilingual_agreement.py's readers, cached
once in ``/work/cache/jieba_kernel_sets.json``): the shared zhwiki sample, the Chinese pages of the shared
WARCs, Hongloumeng's chapters, the Debian handbook's zh-CN and zh-TW sections and the Chinese UDHR
declarations (``/work/cache/handbook``, ``/work/cache/udhr40``). Of each: every maximal run of
``segment.JIEBA_RUN`` (Han and jieba's ASCII), cut by ``cut_ucs4`` as the vocabulary cuts its new chunks,
and every whitespace chunk of the texts cut by ``cut_runs`` (the list form; its UCS-2 scan is another path).

``--repo`` imports ``pipeline`` from another checkout (e.g. /work/main) with the same sets. ``--save`` writes
the word lengths of both cuts per set; ``--compare`` reads such a file and prints, per set, the runs whose
words differ (0 expected: a change to the cut must not change a word). Without them: CPU time
(``time.process_time``) per character of each cut, median of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path("/work/cache/jieba_kernel_sets.json")
HANDBOOK, UDHR = Path("/work/cache/handbook"), Path("/work/cache/udhr40")


def build_sets() -> dict[str, list[str]]:
    """{set name: its documents' texts}, read with this checkout's readers and cached."""
    if CACHE.exists():
        return json.loads(CACHE.read_text(encoding="utf-8"))
    sys.path.insert(0, str(ROOT / "bench"))
    from multilingual_agreement import documents, handbook_folder

    from pipeline.extract.html import decode_html, extract
    from pipeline.readers.commoncrawl import Options

    sets: dict[str, list[str]] = {}
    for row in documents("zh", HANDBOOK, UDHR):
        sets.setdefault(row["source"], []).append(row["text"])
    tw = []  # the traditional-character translation: held out from every tuning
    for page in sorted((handbook_folder(HANDBOOK) / "zh-TW").glob("*.html")):
        if page.name != "index.html":
            text = extract(decode_html(page.read_bytes()).text, max_tags=Options().main_content_max_tags).text
            if text:
                tw.append(text)
    sets["handbook-zh-TW"] = tw
    CACHE.write_text(json.dumps(sets, ensure_ascii=False), encoding="utf-8")
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=7)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args()
    sets = build_sets()
    sys.path.insert(0, str(args.repo.resolve()))
    from pipeline.filters import segment

    jieba = segment.compiled_jieba()
    run_re = re.compile(f"[{segment.JIEBA_RUN}]+")
    inputs = {}
    for name, texts in sets.items():
        runs = [r for t in texts for r in run_re.findall(t)]
        ucs4 = "".join(runs).encode("utf-32-le")
        lengths = array("i", map(len, runs)).tobytes()
        chunks = [c for t in texts for c in t.split()]
        inputs[name] = (runs, ucs4, lengths, chunks)
    if args.save or args.compare:
        got = {name: {"ucs4": list(array("i", jieba.cut_ucs4(ucs4, lengths))),
                      "chunks": list(array("i", jieba.cut_runs(chunks)))}
               for name, (_, ucs4, lengths, chunks) in inputs.items()}
        if args.save:
            args.save.write_text(json.dumps(got))
            print(f"saved {args.save}: " + ", ".join(f"{n} {len(g['ucs4']):,} words" for n, g in got.items()))
            return
        want = json.loads(args.compare.read_text())
        total = 0
        for name, (runs, *_rest) in inputs.items():
            differ = 0
            for key in ("ucs4", "chunks"):
                a, b = got[name][key], want[name][key]
                differ += a != b
                if key == "ucs4" and a != b:  # per run: which ones differ
                    ia = ib = 0
                    bad = 0
                    for run in runs:
                        wa, wb, n = [], [], 0
                        while n < len(run):
                            wa.append(a[ia]); n += a[ia]; ia += 1
                        n = 0
                        while n < len(run):
                            wb.append(b[ib]); n += b[ib]; ib += 1
                        bad += wa != wb
                    print(f"  {name}: {bad} runs differ")
            chars = sum(map(len, runs))
            print(f"{name}: {len(runs):,} runs, {chars:,} run characters, {len(got[name]['ucs4']):,} words: "
                  f"{'identical' if not differ else 'DIFFERENT'}")
            total += differ
        print("0 differences" if not total else f"{total} cuts differ")
        sys.exit(1 if total else 0)
    print(f"{args.repo}: CPU ns per run character, median of {args.runs}")
    print("| set | run chars | cut_ucs4 | cut_runs (chunks) |")
    print("|---|---|---|---|")
    for name, (runs, ucs4, lengths, chunks) in inputs.items():
        chars = sum(map(len, runs))
        times = {"ucs4": [], "chunks": []}
        for _ in range(args.runs):
            t = time.process_time()
            jieba.cut_ucs4(ucs4, lengths)
            times["ucs4"].append(time.process_time() - t)
            t = time.process_time()
            jieba.cut_runs(chunks)
            times["chunks"].append(time.process_time() - t)
        print(f"| {name} | {chars:,} | {statistics.median(times['ucs4']) / chars * 1e9:.1f} | "
              f"{statistics.median(times['chunks']) / chars * 1e9:.1f} |")


if __name__ == "__main__":
    main()
