"""The scale-run corpus builder on a small size: readable WARCs, distinct URLs, the stated duplicate shares,
copies that are what they say, and the same bytes from the same arguments."""

from __future__ import annotations

import bz2
import hashlib
import json
import re
from itertools import combinations
from pathlib import Path

import lxml.html
import pytest
from fastwarc.warc import ArchiveIterator as FastIterator, WarcRecordType
from warcio.archiveiterator import ArchiveIterator

from bench.scale_corpus import Options, build

OPTIONS = Options(scale=0.5, exact_share=0.2, near_share=0.2, edit_rate=0.01, seed=3)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data: Path) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("scale-corpus")
    return out, build(out, OPTIONS)


def _pages(folder: Path) -> dict[str, bytes]:
    pages: dict[str, bytes] = {}
    for path in sorted(folder.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    assert url not in pages, f"URL {url} twice"
                    pages[url] = record.content_stream().read()
    return pages


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def _jaccard(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / max(1, len(sa | sb))


def _visible(html: bytes) -> str:
    root = lxml.html.document_fromstring(html)
    for el in root.xpath("//script|//style"):
        el.drop_tree()
    return root.text_content()


def test_counts_and_duplicate_shares_are_as_stated(corpus) -> None:
    out, summary = corpus
    assert summary["records"] == {"web": 27, "wiki": 56, "books": 2}  # half the demo's 54 / 111 / 5
    assert summary["duplicates"]["web"] == {"unique": 17, "exact": 5, "near": 5}
    assert summary["duplicates"]["wiki"] == {"unique": 34, "exact": 11, "near": 11}
    rows = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(rows) == 27 + 56 + 2
    for row in rows:
        if row["kind"] != "unique":
            original = next(r for r in rows if r["source"] == row["source"] and r["index"] == row["copy_of"])
            assert original["kind"] == "unique" and original["index"] < row["index"]
    assert "Derived data" in (out / "PROVENANCE.md").read_text()


def test_warcs_read_alike_with_warcio_and_fastwarc_and_urls_are_distinct(corpus) -> None:
    out, _ = corpus
    pages = _pages(out / "web")
    assert len(pages) == 27
    fast: dict[str, bytes] = {}
    for path in sorted((out / "web").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in FastIterator(fh, record_types=WarcRecordType.response, parse_http=True):
                fast[record.headers["WARC-Target-URI"]] = record.reader.read()
    assert fast == pages
    with open(next((out / "web").glob("*.warc.gz")), "rb") as fh:  # one gzip member per record
        assert fh.read(2) == b"\x1f\x8b"


def test_copies_are_exact_or_near_and_originals_are_distinct(corpus) -> None:
    out, _ = corpus
    pages = _pages(out / "web")
    rows = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    web = {r["index"]: r for r in rows if r["source"] == "web"}
    for row in web.values():
        if row["kind"] == "unique":
            continue
        mine, original = pages[row["id"]], pages[web[row["copy_of"]]["id"]]
        if row["kind"] == "exact":
            assert mine == original
        else:
            similarity = _jaccard(_visible(mine), _visible(original))
            assert mine != original and 0.75 <= similarity < 1, (row, similarity)
    uniques = [_visible(pages[r["id"]]) for r in web.values() if r["kind"] == "unique"]
    worst = max(_jaccard(a, b) for a, b in combinations(uniques, 2))
    assert worst < 0.3, worst  # the same template's pages included: their text is their own


def test_wiki_titles_and_book_names_are_distinct_and_real_dumps(corpus) -> None:
    out, _ = corpus
    titles = []
    for path in sorted((out / "wiki").glob("*.xml.bz2")):
        xml = bz2.decompress(path.read_bytes()).decode("utf-8")
        assert xml.startswith("<mediawiki") and "<siteinfo>" in xml
        titles += re.findall(r"<title>(.*?)</title>", xml)
    assert len(titles) == len(set(titles)) == 56
    books = sorted(p.name for p in (out / "books").iterdir())
    assert len(books) == 2 and all(name.endswith(".txt") for name in books)


def test_same_arguments_same_bytes(corpus, tmp_path: Path) -> None:
    out, _ = corpus
    build(tmp_path, OPTIONS)

    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    assert digest(tmp_path) == digest(out)
