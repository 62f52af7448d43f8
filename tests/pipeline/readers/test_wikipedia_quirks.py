"""wikipedia reader on dump quirks of other wikis, years and mirrors, built from the real shared dumps."""

from __future__ import annotations

import bz2
import re
from pathlib import Path

import pytest

from pipeline.readers.wikipedia import Options
from tests.pipeline.readers.test_wikipedia import SLICE, assert_accounted, multistream_bz2, read_all

DEWIKI = "wiki/dewiki-20170701-sample.xml"


@pytest.fixture(scope="module")
def dewiki(shared_data: Path) -> bytes:
    return (shared_data / DEWIKI).read_bytes()


@pytest.fixture(scope="module")
def enwiki(shared_data: Path) -> bytes:
    return bz2.decompress((shared_data / SLICE).read_bytes())


@pytest.fixture(scope="module")
def dewiki_read(shared_data: Path) -> list:
    docs, _ = read_all(shared_data / DEWIKI)
    return docs


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_dump_root_without_xml_lang_takes_the_language_from_siteinfo(tmp_path: Path, dewiki: bytes,
                                                                       dewiki_read: list) -> None:
    # Older exports and some mirrors have no xml:lang: a German dump was declared English ("en") before.
    no_lang = dewiki.replace(b' xml:lang="de"', b"")
    assert no_lang != dewiki
    for data in (no_lang, no_lang.replace(b"<base>https://de.wikipedia.org/wiki/Wikipedia:Hauptseite</base>", b"")):
        docs, tally = read_all(_write(tmp_path, "dewiki.xml", data))
        assert [d.meta["language"] for d in docs] == ["de"] * len(dewiki_read) and len(docs) == 18
        assert [d.text for d in docs] == [d.text for d in dewiki_read]
        assert_accounted(docs, tally)


def test_a_dump_that_says_nothing_of_its_language_declares_none(tmp_path: Path, dewiki: bytes) -> None:
    bare = re.sub(rb"<siteinfo>.*?</siteinfo>", b"", dewiki, flags=re.S).replace(b' xml:lang="de"', b"")
    docs, tally = read_all(_write(tmp_path, "bare.xml", bare))
    assert len(docs) == 18 and {d.meta["language"] for d in docs} == {None}  # not "en"
    assert_accounted(docs, tally)


def test_siteinfo_without_namespaces(tmp_path: Path, dewiki: bytes, dewiki_read: list) -> None:
    data = re.sub(rb"<namespaces>.*?</namespaces>", b"", dewiki, flags=re.S)
    docs, tally = read_all(_write(tmp_path, "no-namespaces.xml", data))
    assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in dewiki_read]
    assert tally.counts["skipped.namespace"] == 43  # the pages' own <ns> still say which are talk pages


def _page(enwiki: bytes, title: bytes) -> bytes:
    return re.search(rb"  <page>\s*<title>" + re.escape(title) + rb"</title>.*?</page>\n", enwiki, re.S).group()


def test_deleted_and_empty_text_redirects_and_other_namespaces_are_counted(tmp_path: Path, enwiki: bytes) -> None:
    head = enwiki[:enwiki.index(b"  <page>")]
    anarchism = _page(enwiki, b"Anarchism")
    text = re.compile(rb'<text xml:space="preserve"[^>]*>.*?</text>', re.S)
    deleted = text.sub(b'<text deleted="deleted" />', anarchism).replace(b"<id>12</id>", b"<id>1</id>", 1)
    empty = text.sub(b'<text bytes="0" />', anarchism).replace(b"<id>12</id>", b"<id>2</id>", 1)
    talk = anarchism.replace(b"<ns>0</ns>", b"<ns>1</ns>").replace(b"<title>Anarchism", b"<title>Talk:Anarchism")
    redirect = _page(enwiki, b"AccessibleComputing")
    data = head + deleted + empty + talk.replace(b"<id>12</id>", b"<id>3</id>", 1) + redirect + anarchism + b"</mediawiki>\n"
    docs, tally = read_all(_write(tmp_path, "quirks.xml", data))
    assert [d.title for d in docs] == ["Anarchism"]
    c = tally.counts
    assert (c["skipped.empty_text"], c["skipped.namespace"], c["skipped.redirect"]) == (2, 1, 1)
    assert [e["detail"] for e in tally.examples["empty_text"]] == [
        "Anarchism: text deleted (revision suppressed)", "Anarchism: no wikitext"]
    assert_accounted(docs, tally)


@pytest.mark.parametrize("split_bytes", [None, 256 << 20, 1 << 20])
def test_a_multistream_dump_is_read_to_its_last_stream(tmp_path: Path, enwiki: bytes, split_bytes: int | None,
                                                      shared_data: Path) -> None:
    # Whole-file reading must not stop after the first bz2 stream (the header stream).
    streams = multistream_bz2(enwiki, per_stream=7)
    path = _write(tmp_path, "multistream.xml.bz2", b"".join(streams))
    docs, tally = read_all(path, Options(split_bytes=split_bytes))
    plain, _ = read_all(shared_data / SLICE)
    assert len(streams) > 30 and [d.key for d in docs] == [d.key for d in plain]
    assert tally.counts["pages"] == 206 and "skipped.truncated_dump" not in tally.counts
    assert_accounted(docs, tally)


def test_a_multistream_dump_cut_mid_page_keeps_the_pages_before(tmp_path: Path, enwiki: bytes) -> None:
    streams = multistream_bz2(enwiki, per_stream=7)
    data = b"".join(streams[:5])  # header + 28 pages
    cut_stream = bz2.decompress(streams[5])
    data += bz2.compress(cut_stream[: len(cut_stream) // 2], 1)
    docs, tally = read_all(_write(tmp_path, "cut.xml.bz2", data), Options(split_bytes=1 << 20))
    assert tally.counts["skipped.truncated_xml"] == 1 and tally.counts["pages"] > 28
    assert docs and docs[0].title == "Anarchism"
    assert_accounted(docs, tally)


@pytest.mark.parametrize("name", [DEWIKI, "wiki/jawiki-2023-truncated-100k-lines.xml.xz"])
def test_redirects_without_a_redirect_element_are_known_by_their_localised_magic_word(
        tmp_path: Path, shared_data: Path, name: str) -> None:
    # Exports before 0.4 (and some mirrors) have no <redirect/>: "#WEITERLEITUNG [[Ziel]]" and "#転送 [[霊歌]]"
    # came out as one-line articles ("WEITERLEITUNG Gunnel Vallquist") before.
    import lzma

    path = shared_data / name
    data = lzma.open(path).read() if name.endswith(".xz") else path.read_bytes()
    with_element, tally = read_all(path)
    stripped = re.sub(rb"\s*<redirect[^>]*/>", b"", data)
    assert stripped != data
    docs, tally_stripped = read_all(_write(tmp_path, "no-redirect-element.xml", stripped))
    assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in with_element]
    assert tally_stripped.counts["skipped.redirect"] == tally.counts["skipped.redirect"] > 0
    assert_accounted(docs, tally_stripped)


@pytest.mark.parametrize("codec, bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b"")])
def test_a_dump_saved_as_utf16_is_read_like_its_utf8_original(tmp_path: Path, dewiki: bytes, dewiki_read: list,
                                                              codec: str, bom: bytes) -> None:
    # gensim ships a bgwiki excerpt saved as UTF-16 with a byte order mark (bench/wiki_heldout.py): read as
    # UTF-8 the whole dump was one not_mediawiki_xml skip. XML detects UTF-16 by the mark or by "<\0".
    data = bom + dewiki.decode("utf-8").encode(codec)
    for name, payload in (("dewiki-utf16.xml", data), ("dewiki-utf16.xml.bz2", bz2.compress(data))):
        docs, tally = read_all(_write(tmp_path, name, payload))
        assert [(d.key, d.text, d.meta["language"]) for d in docs] == \
            [(d.key, d.text, d.meta["language"]) for d in dewiki_read]
        assert not any(k.startswith("skipped.") and k.split(".", 1)[1] not in
                       ("namespace", "redirect", "disambiguation") for k in tally.counts)
        assert_accounted(docs, tally)


def test_a_utf16_dump_keeps_bad_bytes_to_their_page(tmp_path: Path, dewiki: bytes, dewiki_read: list) -> None:
    # A lone surrogate in one page's UTF-16 text costs that page (invalid_utf8, the reader's one reason for
    # undecodable bytes), not the dump.
    data = b"\xff\xfe" + dewiki.decode("utf-8").encode("utf-16-le")
    first = data.index("<text".encode("utf-16-le"), data.index("<page>".encode("utf-16-le")))
    broken = data[:first] + b"\x00\xdc" + data[first:]  # U+DC00 alone, before the first page's <text>
    docs, tally = read_all(_write(tmp_path, "broken.xml", broken))
    assert tally.counts["skipped.invalid_utf8"] == 1
    assert len(docs) >= len(dewiki_read) - 1
    assert_accounted(docs, tally)


def test_a_dump_that_declares_another_charset_is_read_in_it(tmp_path: Path, dewiki: bytes, dewiki_read: list) -> None:
    # An XML declaration names the charset, as mwxml's expat honours it: dewiki re-saved as ISO-8859-1 (what
    # Latin-1 cannot spell becomes character references, which XML reads back). Read as UTF-8, every page
    # with an umlaut was an invalid_utf8 skip.
    latin1 = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n' + dewiki.decode("utf-8").encode("latin-1",
                                                                                            "xmlcharrefreplace")
    docs, tally = read_all(_write(tmp_path, "dewiki-latin1.xml", latin1))
    assert "skipped.invalid_utf8" not in tally.counts
    assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in dewiki_read]
    assert_accounted(docs, tally)
    # a declaration of UTF-16 on bytes that are not (no mark, no zero bytes) and an unknown name: UTF-8
    for declared in (b"UTF-16", b"x-no-such-charset"):
        data = b'<?xml version="1.0" encoding="' + declared + b'"?>\n' + dewiki
        docs, tally = read_all(_write(tmp_path, "dewiki-declared.xml", data))
        assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in dewiki_read]
