"""The wikipedia reader on the real enwiki dumps in shared/data/wiki, and on damaged copies of them."""

from __future__ import annotations

import bz2
import gzip
import html
import io
import re
from pathlib import Path
from xml.etree import ElementTree

import pydantic
import pytest
import zstandard

from contracts.accounting import Tally
from pipeline.documents import Document
from pipeline.readers import get_reader
from pipeline.readers.base import Split
from pipeline.readers.wikipedia import Options, page_url

SLICE = "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
TABLES = "wiki/enwiki-table-markup.xml.bz2"
READER = get_reader("wikipedia")
# Page-level reasons: with the documents, these add up to the pages seen.
PAGE_REASONS = ("namespace", "redirect", "disambiguation", "content_model", "empty_text", "markup_only",
                "too_short", "invalid_utf8", "malformed_page", "truncated_xml", "page_too_large", "extract_error")
LEFTOVER_MARKUP = ["{{", "}}", "[[", "]]", "<ref", "{|", "|}", "|-", "||", "'''", "[[Category:", "style=",
                   "class=", "colspan", "rowspan", "<!--"]
ANARCHISM_START = ("Anarchism is a political philosophy that advocates self-governed societies based on "
                   "voluntary institutions.")


def read_all(path: Path | str, options: Options | None = None) -> tuple[list[Document], Tally]:
    options = options or Options()
    tally = Tally()
    docs: list[Document] = []
    for split in READER.plan(str(path), Path(path).stat().st_size, options):
        docs.extend(READER.read(split, options, tally))
    return docs, tally


def assert_accounted(docs: list[Document], tally: Tally) -> None:
    skipped = sum(tally.counts[f"skipped.{reason}"] for reason in PAGE_REASONS)
    assert tally.counts["pages"] == len(docs) + skipped, tally.to_dict()["counts"]


@pytest.fixture(scope="module")
def slice_xml(shared_data: Path) -> bytes:
    return bz2.decompress((shared_data / SLICE).read_bytes())


@pytest.fixture(scope="module")
def slice_read(shared_data: Path) -> tuple[list[Document], Tally]:
    return read_all(shared_data / SLICE)


# ---------------------------------------------------------------- the real dumps


def etree_pages(xml: bytes) -> list[tuple[int, bool]]:
    """(namespace, is a redirect) of every <page>, read by xml.etree, independently of the reader."""
    pages = []
    for _, element in ElementTree.iterparse(io.BytesIO(xml)):
        if element.tag.rsplit("}", 1)[-1] == "page":
            fields = {child.tag.rsplit("}", 1)[-1]: child for child in element}
            pages.append((int(fields["ns"].text), "redirect" in fields))
            element.clear()
    return pages


def test_every_page_of_the_slice_is_accounted_for(slice_read: tuple[list[Document], Tally],
                                                   slice_xml: bytes) -> None:
    docs, tally = slice_read
    counts = tally.counts
    pages = etree_pages(slice_xml)
    assert counts["pages"] == len(pages) == 206
    assert counts["skipped.namespace"] == sum(ns != 0 for ns, _ in pages) == 1
    assert counts["skipped.redirect"] == sum(ns == 0 and redirect for ns, redirect in pages) == 99
    # Disambiguation pages are known by their templates (no independent reader): the slice holds 8.
    assert counts["skipped.disambiguation"] == 8
    assert len(docs) == sum(ns == 0 and not redirect for ns, redirect in pages) - 8 == 98
    assert_accounted(docs, tally)


def test_all_100_redirects_are_counted_when_ns4_is_read(shared_data: Path, slice_xml: bytes) -> None:
    docs, tally = read_all(shared_data / SLICE, Options(namespaces=[0, 4], skip_disambiguation=False))
    pages = etree_pages(slice_xml)
    assert tally.counts["skipped.redirect"] == sum(redirect for _, redirect in pages) == 100
    assert "skipped.namespace" not in tally.counts
    assert len(docs) == sum(not redirect for _, redirect in pages) == 106


def test_documents_carry_identity_url_and_provenance(shared_data: Path,
                                                     slice_read: tuple[list[Document], Tally]) -> None:
    docs, _ = slice_read
    doc = next(d for d in docs if d.title == "Anarchism")
    assert doc.key == "enwiki:12" and doc.meta["record"] == "12"
    assert doc.url == "https://en.wikipedia.org/wiki/Anarchism"
    assert doc.meta["date"] == "2016-04-22T10:19:33Z"
    assert doc.meta["origin"] == str(shared_data / SLICE)
    assert doc.to_row("wikipedia")["meta"]["record"] == "12"
    assert len({d.key for d in docs}) == len(docs)
    assert page_url("https://en.wikipedia.org/wiki/", "AC/DC (band), Rock & roll?") == (
        "https://en.wikipedia.org/wiki/AC/DC_(band),_Rock_%26_roll%3F"
    )


def test_known_article_text_and_headings(slice_read: tuple[list[Document], Tally]) -> None:
    docs = {d.title: d.text for d in slice_read[0]}
    assert docs["Anarchism"].startswith(ANARCHISM_START)
    assert "These are often described as stateless societies, although several authors" in docs["Anarchism"]
    assert 'derived from Latin albedo "whiteness"' in docs["Albedo"]
    lines = docs["Anarchism"].split("\n")
    assert "History" in lines and "Etymology and terminology" in lines
    assert "References" not in lines and "External links" not in lines


def test_no_markup_is_left_in_any_document(slice_read: tuple[list[Document], Tally]) -> None:
    for doc in slice_read[0]:
        left = [m for m in LEFTOVER_MARKUP if m in doc.text]
        assert not left, f"{doc.title}: {left}"


def test_the_table_heavy_dump_comes_out_without_table_markup(shared_data: Path) -> None:
    docs, tally = read_all(shared_data / TABLES)
    assert [d.title for d in docs] == ["Constructive vote of no confidence", "List of Prison Break characters",
                                      "Academy Award for Best Production Design", "Economy of Estonia",
                                      "Brahui language"]
    for doc in docs:
        left = [m for m in LEFTOVER_MARKUP + ["!!", "align=", "width="] if m in doc.text]
        assert not left, f"{doc.title}: {left}"
        assert not re.search(r"^\s*[|!]", doc.text, re.M), doc.title
    estonia = next(d.text for d in docs if d.title == "Economy of Estonia")
    assert "Estonian economy is an advanced economy and a member of the European Union" in estonia
    # no <siteinfo> in this dump: the URL comes from xml:lang="en"
    assert docs[0].url == "https://en.wikipedia.org/wiki/Constructive_vote_of_no_confidence"
    assert_accounted(docs, tally)


def test_options(shared_data: Path) -> None:
    docs, tally = read_all(shared_data / TABLES, Options(keep_headings=False, min_chars=20000))
    assert all("\nHistory\n" not in d.text for d in docs)
    assert tally.counts["skipped.too_short"] == 5 - len(docs) > 0
    with pytest.raises(pydantic.ValidationError):
        Options(namespace=[0])  # a typo is an error, not a silent default


# ---------------------------------------------------------------- every shared dump, each language

SHARED_DUMPS = ("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2", "enwiki-table-markup.xml.bz2",
                "zhwiki-test-pages.xml", "dewiki-20170701-sample.xml", "jawiki-2023-truncated-100k-lines.xml.xz",
                "ruwiki-sample-pages-articles.xml.bz2")
# Aliases editors type that siteinfo does not list; the check below adds each dump's own siteinfo names.
CHECK_ALIASES = {"category", "file", "image", "分類", "分类", "画像", "カテゴリ", "bild", "kategorija"}
_NS_NAME = re.compile(r'<namespace key="(6|14)"[^>]*>([^<]+)</namespace>')
_RAW_PAGE = re.compile(r"<page>.*?<id>(\d+)</id>.*?<text[^>]*>(.*?)</text>", re.S)


def _raw(path: Path) -> str:
    from contracts.fsio import open_input
    with open_input(str(path)) as fh:
        return fh.read().decode("utf-8")


@pytest.fixture(scope="module")
def shared_dumps(shared_data: Path) -> dict[str, tuple[list[Document], Tally, str]]:
    out = {}
    for name in SHARED_DUMPS:
        docs, tally = read_all(shared_data / "wiki" / name)
        out[name] = (docs, tally, _raw(shared_data / "wiki" / name))
    return out


def test_the_shared_dumps_are_all_here(shared_data: Path) -> None:
    assert sorted(p.name for p in (shared_data / "wiki").iterdir()) == sorted(SHARED_DUMPS)


@pytest.mark.parametrize("name", SHARED_DUMPS)
def test_every_shared_dump_gives_its_articles_without_markup(
        name: str, shared_dumps: dict[str, tuple[list[Document], Tally, str]]) -> None:
    docs, tally, raw = shared_dumps[name]
    assert_accounted(docs, tally)  # pages in = documents out + counted skips
    counts = tally.counts
    articles = counts["pages"] - sum(counts[f"skipped.{r}"] for r in ("namespace", "redirect", "disambiguation",
                                                                       "truncated_xml"))
    assert docs and len(docs) >= 0.95 * articles, tally.to_dict()["counts"]
    names = CHECK_ALIASES | {n.strip().lower() for _, n in _NS_NAME.findall(raw)}
    hidden = re.compile(r"\[\[\s*(" + "|".join(map(re.escape, names)) + r")\s*:\s*([^\]|\n]+)", re.I)
    pages = {page_id: html.unescape(text) for page_id, text in _RAW_PAGE.findall(raw)}
    for doc in docs:
        for mark in ("{|", "templatestyles", "<br", "-{", "thumb|", "|thumb", "\x1a"):
            assert mark not in doc.text, f"{name} {doc.title}: {mark!r}"
        assert not re.search(r"^\s*=", doc.text, re.M), f"{name} {doc.title}: a line starts with '='"
        assert not re.search(r"\|\||^\s*[|!]", doc.text, re.M), f"{name} {doc.title}: a table row is left"
        for ns, title in hidden.findall(pages[doc.meta["record"]]):
            leaked = re.search(re.escape(f"{ns}:{title.strip()}") + r"(?!\w)", doc.text)
            assert not leaked, f"{name} {doc.title}: [[{ns}:{title}]] became text"


@pytest.mark.parametrize("name, language_sample", [
    ("zhwiki-test-pages.xml", "数学"), ("dewiki-20170701-sample.xml", "Jutta Hoffmann"),
    ("jawiki-2023-truncated-100k-lines.xml.xz", "アンパサンド"), ("ruwiki-sample-pages-articles.xml.bz2", "Литва"),
])
def test_non_english_dumps_keep_their_language(name: str, language_sample: str,
                                               shared_dumps: dict[str, tuple[list[Document], Tally, str]]) -> None:
    docs = {d.title: d for d in shared_dumps[name][0]}
    assert language_sample in docs and len(docs[language_sample].text) > 100


SITEINFO_DUMP = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" xml:lang="is">
<siteinfo><dbname>iswiki</dbname><base>https://is.wikipedia.org/wiki/Forsíða</base><namespaces>
<namespace key="6" case="first-letter">Mynd</namespace><namespace key="14" case="first-letter">Flokkur</namespace>
</namespaces></siteinfo>
<page><title>Reykjavík</title><ns>0</ns><id>1</id><revision><id>1</id><text>Reykjavík er höfuðborg.
[[Mynd:Reykjavik.jpg|Höfnin]]
[[Flokkur:Borgir á Íslandi]]</text></revision></page>
<page><title>Stíll</title><ns>0</ns><id>2</id><revision><id>2</id>
<text>&lt;templatestyles src="Stíll/styles.css" /&gt;</text></revision></page>
<page><title>Brot</title><ns>0</ns><id>3</id><revision><id>3</id><text>&lt;br clear="all"&gt;</text></revision></page>
<page><title>Tafla</title><ns>0</ns><id>4</id><revision><id>4</id><text>:{| class=wikitable
| m || n
|}</text></revision></page>
</mediawiki>
"""


def test_siteinfo_namespaces_and_markup_only_pages(tmp_path: Path) -> None:
    path = tmp_path / "iswiki.xml"
    path.write_text(SITEINFO_DUMP, encoding="utf-8")
    docs, tally = read_all(path)
    assert [(d.title, d.text) for d in docs] == [("Reykjavík", "Reykjavík er höfuðborg.")]
    assert tally.counts["skipped.markup_only"] == 3  # not emitted as articles, counted with the reason
    assert [e["record"] for e in tally.examples["markup_only"]] == ["2", "3", "4"]
    assert_accounted(docs, tally)


@pytest.mark.parametrize("template, is_disambiguation", [
    ("{{Begriffsklärung}}", True), ("{{aimai}}", True), ("{{消歧义}}", True), ("{{Неоднозначность}}", True),
    ("{{Homonymie}}", True), ("{{Begriffsklärungshinweis|Zum Heer siehe [[Arrière-ban]].}}", False),
    ("{{要曖昧さ回避|date=2020年5月}}", False),
])
def test_localised_disambiguation_pages_are_skipped(tmp_path: Path, template: str, is_disambiguation: bool) -> None:
    page = f"Wort steht für:\n* [[Paraphrase]], eine Umschreibung\n* [[Periphrase]], ein Stilmittel\n{template}"
    dump = SITEINFO_DUMP.split("<page>")[0] + (
        f"<page><title>Wort</title><ns>0</ns><id>9</id><revision><id>9</id><text>{html.escape(page)}</text>"
        "</revision></page>\n</mediawiki>\n")
    path = tmp_path / "dump.xml"
    path.write_text(dump, encoding="utf-8")
    docs, tally = read_all(path)
    assert (tally.counts["skipped.disambiguation"], len(docs)) == ((1, 0) if is_disambiguation else (0, 1))


# ---------------------------------------------------------------- other schema versions and codecs


def test_other_export_versions_base_url_and_codecs(tmp_path: Path, slice_xml: bytes,
                                                   slice_read: tuple[list[Document], Tally]) -> None:
    old = (slice_xml.replace(b"export-0.10", b"export-0.8").replace(b'version="0.10"', b'version="0.8"')
           .replace(b"https://en.wikipedia.org/wiki/Main_Page", b"https://simple.wikipedia.org/wiki/Main_Page"))
    old = re.sub(rb"\n\s*<ns>\d+</ns>", b"", old)  # the oldest schemas have no <ns>: the title prefix says
    (tmp_path / "old.xml.gz").write_bytes(gzip.compress(old, compresslevel=1))
    docs, tally = read_all(tmp_path / "old.xml.gz")
    assert [d.key for d in docs] == [d.key for d in slice_read[0]]
    assert tally.counts["skipped.namespace"] == 1
    assert docs[0].url == "https://simple.wikipedia.org/wiki/Anarchism"
    (tmp_path / "dump.xml.zst").write_bytes(zstandard.ZstdCompressor(level=1).compress(slice_xml))
    zst_docs, _ = read_all(tmp_path / "dump.xml.zst")
    assert [d.text for d in zst_docs] == [d.text for d in slice_read[0]]


def multistream_bz2(xml: bytes, per_stream: int = 20) -> list[bytes]:
    """Like Wikimedia's multistream dumps: a header stream, ``per_stream`` pages per stream, a footer."""
    text = xml.decode()
    first = text.index("  <page>")
    pages = re.findall(r"  <page>.*?</page>\n", text, re.S)
    groups = [text[:first]] + ["".join(pages[i:i + per_stream]) for i in range(0, len(pages), per_stream)]
    return [bz2.compress(g.encode(), 1) for g in groups + ["</mediawiki>\n"]]


def test_a_multistream_dump_splits_by_byte_range(tmp_path: Path, slice_xml: bytes,
                                                 slice_read: tuple[list[Document], Tally]) -> None:
    path = tmp_path / "multistream.xml.bz2"
    path.write_bytes(b"".join(multistream_bz2(slice_xml)))
    options = Options(split_bytes=1 << 20)
    splits = READER.plan(str(path), path.stat().st_size, options)
    assert len(splits) == 2
    per_split = [list(READER.read(split, options, Tally())) for split in splits]
    assert all(per_split)  # both splits did work
    docs, tally = read_all(path, options)
    assert sorted(d.key for d in docs) == sorted(d.key for d in slice_read[0])
    assert per_split[1][-1].url == slice_read[0][-1].url  # the later split read the header too
    assert_accounted(docs, tally)


def test_a_corrupt_bz2_stream_costs_only_its_pages(tmp_path: Path, slice_xml: bytes,
                                                   slice_read: tuple[list[Document], Tally]) -> None:
    streams = multistream_bz2(slice_xml)
    broken = bytearray(streams[3])  # pages 41-60
    broken[len(broken) // 2] ^= 0xFF
    streams[3] = bytes(broken)
    path = tmp_path / "broken-stream.xml.bz2"
    path.write_bytes(b"".join(streams))
    docs, tally = read_all(path, Options(split_bytes=1 << 20))
    assert tally.counts["skipped.corrupt_compression"] == 1
    assert 186 <= tally.counts["pages"] < 206 and docs[-1].key == slice_read[0][-1].key
    assert_accounted(docs, tally)


# ---------------------------------------------------------------- damaged input


def test_xml_truncated_mid_page_keeps_the_pages_before(tmp_path: Path, slice_xml: bytes) -> None:
    cut = slice_xml.index(b"<title>Albedo</title>") + 5000
    path = tmp_path / "cut.xml.bz2"
    path.write_bytes(bz2.compress(slice_xml[:cut], 1))
    docs, tally = read_all(path)
    assert [d.title for d in docs] == ["Anarchism", "Autism"]
    assert docs[0].text.startswith(ANARCHISM_START)
    assert tally.counts["skipped.truncated_xml"] == 1
    assert tally.examples["truncated_xml"][0]["record"] == "39"  # Albedo's page id
    assert_accounted(docs, tally)


def test_compressed_stream_cut_short(tmp_path: Path, shared_data: Path) -> None:
    data = (shared_data / SLICE).read_bytes()
    path = tmp_path / "half.xml.bz2"
    path.write_bytes(data[: len(data) // 2])
    docs, tally = read_all(path)
    assert docs and docs[0].title == "Anarchism"
    assert tally.counts["skipped.corrupt_compression"] == 1 and tally.counts["skipped.truncated_xml"] == 1
    assert_accounted(docs, tally)


def test_invalid_utf8_costs_only_its_page(tmp_path: Path, slice_xml: bytes,
                                           slice_read: tuple[list[Document], Tally]) -> None:
    at = slice_xml.index(b"<title>Albedo</title>") + 500
    path = tmp_path / "bad-utf8.xml"
    path.write_bytes(slice_xml[:at] + b"\xff\xfe\xc3" + slice_xml[at:])
    docs, tally = read_all(path)
    assert tally.counts["skipped.invalid_utf8"] == 1 and tally.counts["pages"] == 206
    assert [d.key for d in docs] == [d.key for d in slice_read[0] if d.title != "Albedo"]
    assert_accounted(docs, tally)


def test_malformed_and_cut_pages_are_skipped_and_reading_resumes(tmp_path: Path, slice_xml: bytes,
                                                                 slice_read: tuple[list[Document], Tally]) -> None:
    text = slice_xml.decode()
    albedo = text.index("<title>Albedo</title>")
    text = text[:albedo] + "<title>Albedo</title><broken attr=>" + text[albedo + len("<title>Albedo</title>"):]
    autism_end = text.index("</page>", text.index("<title>Autism</title>"))
    text = text[:autism_end - 2000] + "\n  " + text[autism_end + len("</page>"):]  # cut Autism, glue on
    path = tmp_path / "damaged.xml.bz2"
    path.write_bytes(bz2.compress(text.encode(), 1))
    docs, tally = read_all(path)
    assert tally.counts["skipped.malformed_page"] == 2
    assert {e["record"] for e in tally.examples["malformed_page"]} == {"25", "39"}  # Autism, Albedo
    assert [d.key for d in docs] == [d.key for d in slice_read[0] if d.title not in ("Autism", "Albedo")]
    assert_accounted(docs, tally)


@pytest.mark.parametrize("name,content,reason", [
    ("empty.xml.bz2", b"", "empty_file"),
    ("empty.xml", b"", "empty_file"),
    ("empty-stream.xml.bz2", bz2.compress(b""), "empty_file"),
    ("garbage.xml", bytes(range(256)) * 64, "not_mediawiki_xml"),
    ("garbage.xml.bz2", bytes(range(256)) * 64, "corrupt_compression"),
    ("garbage.xml.gz", b"\x1f\x8b" + bytes(range(256)) * 64, "corrupt_compression"),
])
def test_empty_and_garbage_files_are_counted_not_raised(tmp_path: Path, name: str, content: bytes,
                                                        reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    docs, tally = read_all(path)
    assert docs == []
    assert tally.counts[f"skipped.{reason}"] == 1
    assert sum(v for k, v in tally.counts.items() if k.startswith("skipped.")) == 1


def test_header_only_dump_cut_between_pages(tmp_path: Path, slice_xml: bytes) -> None:
    cut = slice_xml.index(b"  <page>", slice_xml.index(b"<title>Albedo</title>"))
    path = tmp_path / "between.xml"
    path.write_bytes(slice_xml[:cut])
    docs, tally = read_all(path)
    assert [d.title for d in docs] == ["Anarchism", "Autism", "Albedo"]
    assert tally.counts["skipped.truncated_dump"] == 1
    assert_accounted(docs, tally)


def test_a_missing_file_raises_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "enwiki-missing.xml.bz2"
    with pytest.raises(FileNotFoundError, match="enwiki-missing.xml.bz2"):
        list(READER.read(Split(str(missing)), Options(), Tally()))
