"""Loss is visible: per input file, records in = documents out + counted skips, on every shared input
(web WARCs, wiki dumps, books) through the real crawl stage on local Ray; a file that yields nothing or
little is named in the stage statistics and at the top of the report; skip examples cover every source.

Records are counted independently of our readers: warcio's ``ArchiveIterator`` for WARC/WET/ARC files,
``<page>`` elements of the decompressed XML for dumps, one record per book file.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import re
from pathlib import Path

import pytest

from contracts.accounting import Tally
from pipeline.file_accounting import FILE_NOTES, LITTLE_RATIO, file_entry, flagged, verdict
from pipeline.manifest import load_manifest
from pipeline.report import write_report
from pipeline.stage import RunContext
from pipeline.stages import crawl
from tests.pipeline.helpers import write_manifest

MARKERS_ONLY = ("*** START OF THE PROJECT GUTENBERG EBOOK NOTHING ***\n\n"
                "*** END OF THE PROJECT GUTENBERG EBOOK NOTHING ***\n")


def _synthetic(folder: Path, shared_data: Path) -> dict[str, Path]:
    """A book that is only Gutenberg markers (nothing), a book whose body is a sliver of a long header
    (little), a WARC holding only a warcinfo record (nothing), and two ARC files made of the 2008 WARC's
    responses: all of them (pages), and its images and dns: records alone (nothing)."""
    from tests.pipeline.readers.test_commoncrawl_arc import arc_file, responses

    folder.mkdir(parents=True, exist_ok=True)
    nothing = folder / "markers-only.txt"
    nothing.write_text(MARKERS_ONLY)
    little = folder / "header-heavy.txt"
    header = "".join(f"Transcriber's note {i}: this line is part of the header.\n" for i in range(2000))
    little.write_text(header + "*** START OF THE PROJECT GUTENBERG EBOOK LITTLE ***\n\nIt was night, and "
                      "the body of this book is one short paragraph.\n\n*** END OF THE PROJECT GUTENBERG EBOOK "
                      "LITTLE ***\n")
    payload = b"software: test\r\n"
    record = (b"WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>"
              b"\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: application/warc-fields\r\nContent-Length: "
              + str(len(payload)).encode() + b"\r\n\r\n" + payload + b"\r\n\r\n")
    warc = folder / "info-only.warc.gz"
    warc.write_bytes(gzip.compress(record, mtime=0))
    captures = responses(shared_data / "web" / "IAH-20080430204825-00000-blackbook.warc.gz")
    pages = arc_file(folder / "iah-2008.arc.gz", captures)
    images = arc_file(folder / "images.arc.gz", [c for c in captures if c[0].startswith(b"dns:")
                                                 or c[3].startswith(b"image/")])
    return {"nothing_book": nothing, "little_book": little, "nothing_warc": warc, "arc": pages, "nothing_arc": images}


def _shared_sources(shared_data: Path, synthetic: dict[str, Path]) -> list[dict]:
    web = sorted(str(p) for p in (shared_data / "web").glob("*.warc*") if ".wat" not in p.name)
    return [
        {"name": "web", "kind": "commoncrawl",
         "paths": [p for p in web if not p.endswith(".wet.gz")]
         + [str(synthetic[key]) for key in ("nothing_warc", "arc", "nothing_arc")]},
        {"name": "wet", "kind": "commoncrawl", "paths": [str(shared_data / "web/cc-whirlwind.warc.wet.gz")],
         "options": {"format": "wet"}},
        {"name": "wiki", "kind": "wikipedia", "paths": sorted(str(p) for p in (shared_data / "wiki").iterdir())},
        {"name": "books", "kind": "books",
         "paths": sorted(str(p) for p in (shared_data / "books").glob("*.txt"))
         + [str(synthetic["nothing_book"]), str(synthetic["little_book"])]},
    ]


@pytest.fixture(scope="module")
def crawled(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("accounting")
    synthetic = _synthetic(folder / "synthetic", shared_data)
    manifest = load_manifest(write_manifest(folder, _shared_sources(shared_data, synthetic)))
    crawl.run(RunContext(manifest), [])
    stats = json.loads((manifest.run_dir / "stats" / "crawl.json").read_text())
    _, page, report_stats = write_report(manifest.run_dir)
    return manifest, stats, synthetic, (page, report_stats)


def _independent_records(path: str, kind: str) -> int:
    if kind == "books":
        return 1
    if kind == "wikipedia":
        opener = {".bz2": bz2.open, ".xz": lzma.open}.get(Path(path).suffix, open)
        with opener(path, "rb") as fh:
            return len(re.findall(rb"<page>", fh.read()))
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        return sum(1 for _ in ArchiveIterator(fh))


def test_every_shared_file_accounts_for_each_of_its_records(crawled, shared_data: Path) -> None:
    manifest, stats, _, _ = crawled
    files = stats["files"]
    inputs = {p for s in manifest.sources for p in crawl.source_paths(s)}
    assert set(files) == inputs  # every input file has an entry, whatever it yielded
    for path, entry in files.items():
        assert entry["records"] == _independent_records(path, entry["kind"]), (path, entry)
        skips = sum(n for reason, n in entry["skipped"].items() if reason not in FILE_NOTES)
        assert entry["records"] == entry["docs_out"] + skips + sum(entry["ignored"].values()), path
    # the per-file entries add up to the stage's own totals
    counts = stats["counts"]
    assert sum(e["docs_out"] for e in files.values()) == counts["docs_out"]
    assert sum(e["chars_out"] for e in files.values()) == counts["chars_out"]
    assert sum(sum(e["skipped"].values()) for e in files.values()) == sum(
        v for k, v in counts.items() if k.startswith("skipped."))
    # the shared dumps and books lose nothing: each yields documents, the xz dump included
    for path, entry in files.items():
        if path.startswith(str(shared_data / "wiki")) or path.startswith(str(shared_data / "books")):
            assert verdict(entry) is None, (path, entry)


def test_files_that_yield_nothing_or_little_are_named_in_stats_and_report(crawled, shared_data: Path) -> None:
    _, stats, synthetic, report = crawled
    found = stats["files_flagged"]
    nothing = {f["file"] for f in found["nothing"]}
    little = {f["file"] for f in found["little"]}
    assert {str(synthetic["nothing_book"]), str(synthetic["nothing_warc"]), str(synthetic["nothing_arc"])} <= nothing
    assert str(synthetic["arc"]) not in nothing | little  # an ARC file's pages are read, not one corrupt stretch
    assert str(shared_data / "web/resiliparse-clipped.warc.gz") in nothing  # one truncated record
    assert str(synthetic["little_book"]) in little
    entry = next(f for f in found["little"] if f["file"] == str(synthetic["little_book"]))
    assert entry["kept_ratio"] < LITTLE_RATIO["books"] and entry["chars_held"] > 100_000
    assert found["nothing_count"] == len(nothing) and found["little_count"] == len(little)
    page_path, report_stats = report
    assert report_stats["files_flagged"] == found  # the report's stats.json carries the same list
    page = page_path.read_text()
    top = page.index('<section id="loss">')
    assert top == page.index("<section")  # the first section of the report
    section = page[top:page.index("</section>", top)]
    for path in nothing | little:
        assert path in section
    assert "files yielded no document" in section and "files yielded little" in section


@pytest.mark.parametrize("gz", [False, True])
def test_bytes_a_short_content_length_leaves_are_not_a_record(tmp_path: Path, gz: bool) -> None:
    # pywb's example.warc (a request 1 byte short of its Content-Length) and warcio's example-trunc.warc (a
    # page 2 bytes short): the record is read as long as it says and the bytes left over are counted as a
    # short_content_length stretch. That stretch is no record of its own: counted as one, the file held one
    # record more than warcio reads in it (bench/heldout_run.py on those files: 7 for 6, 5 for 4).
    from warcio.archiveiterator import ArchiveIterator

    from pipeline.readers.commoncrawl import Options
    from tests.pipeline.readers.test_commoncrawl_writers import PAGE, read_all, response, shorten, write

    records = [response(PAGE, 0) + b"\r\n\r\n", shorten(response(PAGE, 1), 1) + b"\r\n\r\n",
               shorten(response(PAGE, 2), 2) + b"\r\n\r\n", response(PAGE, 3) + b"\r\n\r\n"]
    path = write(tmp_path, records, gz)
    docs, tally = read_all(path, Options())
    assert len(docs) == 4 and tally.counts["skipped.short_content_length"] == 2, tally.counts
    tally.counts["docs_out"] = len(docs)  # what the crawl stage adds per document it writes
    entry = file_entry(tally.counts, "web", "commoncrawl", path.stat().st_size)
    with open(path, "rb") as fh:
        held = sum(1 for _ in ArchiveIterator(fh))
    assert held == 4
    assert entry["records"] == held, entry
    assert entry["skipped"] == {"short_content_length": 2}  # still listed, with its count


def test_skip_examples_cover_every_source(crawled) -> None:
    _, stats, _, _ = crawled
    examples = stats["examples"]
    skipped_by_source: dict[str, set[str]] = {}
    for entry in stats["files"].values():
        for reason in entry["skipped"]:
            skipped_by_source.setdefault(reason, set()).add(entry["source"])
    for reason, sources in skipped_by_source.items():
        assert {e["source"] for e in examples[reason]} == sources, reason


def test_entries_of_one_file_merge_across_splits() -> None:
    """A WARC or bz2 dump read as several splits is one file in the statistics."""
    from collections import Counter

    first = Tally(files={"a.warc.gz": file_entry(Counter({"docs_out": 2, "chars_out": 50, "chars_held": 900,
                                                          "skipped.not_html": 3, "ignored.request": 5}),
                                                 "web", "commoncrawl", 1000)})
    second = Tally(files={"a.warc.gz": file_entry(Counter({"chars_held": 100, "skipped.not_html": 1}),
                                                  "web", "commoncrawl", 1000)})
    first.merge(second)
    entry = first.files["a.warc.gz"]
    assert (entry["records"], entry["docs_out"], entry["chars_held"], entry["skipped"], entry["bytes"]) == (
        11, 2, 1000, {"not_html": 4}, 1000)
    assert verdict(entry) is None  # 5 % kept: a page's main text, not a loss
    assert flagged(first.files)["little_count"] == 0
    assert Tally.from_dict(json.loads(json.dumps(first.to_dict()))).files == first.files
