"""The commoncrawl option ``extractor: trafilatura`` (pipeline.extract.trafilatura_text): parsing, FineWeb's
settings on real shared WARCs against trafilatura called directly, counted skips, determinism, the task
digest, and the default path left as it was."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import trafilatura  # the `trafilatura` extra, which `make install` installs
from pydantic import ValidationError

from pipeline.clean import clean_text
from pipeline.executors import InProcessExecutor
from pipeline.extract import trafilatura_text
from pipeline.extract.html import decode_html
from pipeline.manifest import ManifestError, load_manifest
from pipeline.readers.commoncrawl import Options
from pipeline.runner import task_digest
from pipeline.stage import RunContext
from pipeline.stages import crawl, get_stage
from tests.pipeline.helpers import read_docs, write_manifest
from tests.pipeline.readers.test_commoncrawl import _response_warc, assert_accounted, members, read_all

# every shared WARC of HTML pages (Heritrix, wget, Common Crawl, pywb; windows-1251, GBK, chunked); the 2008
# Heritrix crawl repeats archive.org's stub pages, so trafilatura's deduplication across pages decides 16 of them
WARCS = ["IAH-20080430204825-00000-blackbook.warc.gz", "dolma-sample-0000.warc.gz", "dolma-sample-0001.warc.gz",
         "warcio-example.warc.gz", "resiliparse-CC-MAIN-2020-34-excerpt.warc.gz", "pywb-iana.warc.gz",
         "cc-whirlwind.warc.gz", "warcio-example-iana.org-chunked.warc", "servo-ru-vk-homepage-cp1251-2018.warc.gz",
         "servo-zh-sina-homepage-2018.warc.gz", "servo-zh-sohu-homepage-2018.warc.gz"]
HTML_TYPES = ("text/html", "application/xhtml+xml")


@pytest.fixture(scope="module")
def web(shared_data: Path) -> Path:
    return shared_data / "web"


# The 2008 Heritrix crawl (WARCS[0]) is the file whose pages trafilatura's deduplication decides; its FineWeb
# reference takes ~8 s, so it is made once per module (the same file and settings give the same texts)
@pytest.fixture(scope="module")
def iah_fineweb(web: Path) -> dict[str, str | None]:
    return fineweb_texts(web / WARCS[0], Options(extractor="trafilatura"))


@pytest.fixture(scope="module")
def iah_tail(web: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2008 crawl's last 132 members (its warcinfo first): every page whose text trafilatura's
    deduplication decides lies there (members 696-819), at a sixth of the whole file's ~8 s a read."""
    members_ = members((web / WARCS[0]).read_bytes())
    path = tmp_path_factory.mktemp("iah-tail") / "iah-tail.warc.gz"
    path.write_bytes(members_[0] + b"".join(members_[690:]))
    return path


def fineweb_texts(path: Path, options: Options) -> dict[str, str | None]:
    """Record id -> ``trafilatura.extract`` with datatrove's settings (favor_precision, no comments,
    deduplicate with trafilatura's own process-wide cache, emptied first: one process reading this file in
    order, as a datatrove worker does) on our decoding of each HTML page; pages read with warcio, an
    independent WARC parser (its content stream undoes chunked and gzip transfer)."""
    from trafilatura.meta import reset_caches
    from warcio.archiveiterator import ArchiveIterator

    reset_caches()
    texts: dict[str, str | None] = {}
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            if record.http_headers.get_statuscode() != "200":
                continue
            content_type = (record.http_headers.get_header("Content-Type") or "").lower()
            if content_type.split(";")[0].strip() not in HTML_TYPES:
                continue
            body = record.content_stream().read()
            if not options.min_html_bytes <= len(body) <= options.max_html_bytes:
                continue
            declared = content_type.split("charset=")[1].split(";")[0].strip(" \"'") if "charset=" in content_type else None
            page = decode_html(body, declared).text
            texts[record.rec_headers.get_header("WARC-Record-ID")] = trafilatura.extract(
                page, favor_precision=True, include_comments=False, deduplicate=True)
    return texts


def test_the_option_parses_and_is_validated() -> None:
    assert Options().extractor == "resiliparse"
    assert Options(extractor="trafilatura").extractor == "trafilatura"
    assert Options().trafilatura_max_tags == trafilatura_text.DEFAULT_MAX_TAGS
    with pytest.raises(ValidationError, match="extractor"):
        Options(extractor="boilerpipe")
    with pytest.raises(ValidationError, match="trafilatura_max_tags"):
        Options(extractor="trafilatura", trafilatura_max_tags=0)
    with pytest.raises(ValidationError, match="main content only"):
        Options(extractor="trafilatura", main_content=False)
    assert Options(extractor="trafilatura", trafilatura_max_tags=None).trafilatura_max_tags is None


def test_a_manifest_chooses_the_extractor_and_a_bad_value_names_the_field(tmp_path: Path, web: Path) -> None:
    source = {"name": "web", "kind": "commoncrawl", "paths": [str(web / "warcio-example.warc.gz")]}
    manifest = load_manifest(write_manifest(tmp_path, [{**source, "options": {"extractor": "trafilatura"}}]))
    assert manifest.model.sources[0].options.extractor == "trafilatura"
    with pytest.raises(ManifestError, match="extractor"):
        load_manifest(write_manifest(tmp_path / "bad", [{**source, "options": {"extractor": "justext"}}]))


def test_a_missing_trafilatura_names_the_option_and_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # import trafilatura -> ImportError
    with pytest.raises(ValidationError) as error:
        Options(extractor="trafilatura")
    assert "extractor: trafilatura" in str(error.value) and "pip install 'refinery[trafilatura]'" in str(error.value)
    assert Options().extractor == "resiliparse"  # the default needs no trafilatura


def test_an_old_trafilatura_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trafilatura, "__version__", "1.11.0")
    with pytest.raises(ImportError, match=r"trafilatura >= 2\.3 \(installed: 1\.11\.0\)"):
        trafilatura_text.require()


@pytest.mark.parametrize("name", WARCS)
def test_documents_are_trafilatura_with_finewebs_settings(web: Path, name: str,
                                                          request: pytest.FixtureRequest) -> None:
    """Each document's text is what trafilatura.extract(favor_precision=True, include_comments=False,
    deduplicate=True) returns for the page, in file order; pages it returns nothing for are counted."""
    options = Options(extractor="trafilatura")
    docs, tally = read_all(web / name, options)
    expected = request.getfixturevalue("iah_fineweb") if name == WARCS[0] else fineweb_texts(web / name, options)
    assert {d.key: d.text for d in docs} == {k: t for k, t in expected.items() if t}
    assert tally.counts["skipped.empty_text"] == sum(1 for t in expected.values() if not t)
    assert "extract_fallback" not in tally.counts and "extract_huge_page" not in tally.counts  # resiliparse's
    assert_accounted(tally)


def test_the_same_file_read_twice_in_one_process_gives_the_same_documents(iah_tail: Path) -> None:
    """The deduplication cache is the split's own: a second read does not see the first read's pages (with
    trafilatura's process-wide cache, archive.org's repeated stub pages would vanish the second time).
    Read on the crawl's tail (``iah_tail``)."""
    path = iah_tail
    options = Options(extractor="trafilatura")
    first, _ = read_all(path, options)
    second, _ = read_all(path, options)
    assert [(d.key, d.text) for d in first] == [(d.key, d.text) for d in second] and first
    # ... and within the split it does deduplicate: with a cache per page the repeated stubs would be kept
    per_page = {k: t for k, t in fineweb_texts_per_page(path, options).items() if t}
    assert len(per_page) > len(first)


def fineweb_texts_per_page(path: Path, options: Options) -> dict[str, str | None]:
    # the deduplication cache only (trafilatura's reset_caches also runs gc.collect, which in a full test
    # process cost over a second per page)
    from trafilatura.deduplication import LRU_TEST

    real_extract = trafilatura.extract

    def one_page(*args, **kwargs):  # the same call with the deduplication cache emptied before every page
        LRU_TEST.clear()
        return real_extract(*args, **kwargs)

    trafilatura.extract = one_page
    try:
        return fineweb_texts(path, options)
    finally:
        trafilatura.extract = real_extract


PROSE = "This paragraph is the page's own text, long enough to count as prose for any extractor. " * 4


def test_a_page_trafilatura_returns_nothing_for_is_counted(tmp_path: Path) -> None:
    body = b"<html><body><footer>Copyright 2024 Example</footer><script>var x = 1;</script></body></html>"
    path = _response_warc(tmp_path / "empty.warc.gz", b"HTTP/1.1 200 OK\r\nContent-Type: text/html", body)
    assert trafilatura.extract(body.decode(), favor_precision=True, include_comments=False, deduplicate=True) is None
    docs, tally = read_all(path, Options(extractor="trafilatura"))
    assert docs == [] and tally.counts["skipped.empty_text"] == 1
    assert tally.examples["empty_text"][0]["record"] == "<urn:uuid:0c1ebc3f-1b61-4b1a-9a3c-1f2d3e4f5a6b>"
    assert_accounted(tally)


def test_a_page_over_the_tag_limit_is_skipped_and_counted(tmp_path: Path) -> None:
    body = ("<html><body><article>" + f"<p>{PROSE}</p>" * 50 + "</article></body></html>").encode()
    path = _response_warc(tmp_path / "tags.warc.gz", b"HTTP/1.1 200 OK\r\nContent-Type: text/html", body)
    tags = body.count(b"<")
    docs, tally = read_all(path, Options(extractor="trafilatura", trafilatura_max_tags=tags - 1))
    assert docs == [] and tally.counts["skipped.extract_too_many_tags"] == 1
    assert f"{tags} tags" in tally.examples["extract_too_many_tags"][0]["detail"]
    assert_accounted(tally)
    (doc,), tally = read_all(path, Options(extractor="trafilatura", trafilatura_max_tags=tags))
    assert doc.text.count("page's own text") == 200 and "skipped.extract_too_many_tags" not in tally.counts


def test_an_error_inside_trafilatura_skips_the_page_not_the_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    body = f"<html><body><article><p>{PROSE}</p></article></body></html>".encode()
    path = _response_warc(tmp_path / "error.warc.gz", b"HTTP/1.1 200 OK\r\nContent-Type: text/html", body)

    def broken(*_args, **_kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(trafilatura, "extract", broken)
    docs, tally = read_all(path, Options(extractor="trafilatura"))
    assert docs == [] and tally.counts["skipped.extract_error"] == 1
    assert "RecursionError" in tally.examples["extract_error"][0]["detail"]
    assert_accounted(tally)


def test_trafilatura_gets_our_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Charset decoding stays ours: trafilatura is handed the text decode_html made of the bytes."""
    page = ("<html><head><meta charset='gbk'></head><body><article><p>"
            + "高贵妃的下线，让网友们少了每日的乐趣来源，但是纵观高贵妃的一生，她的嚣张跋扈也有原因。" * 6
            + "</p></article></body></html>")
    path = _response_warc(tmp_path / "gbk.warc.gz", b"HTTP/1.1 200 OK\r\nContent-Type: text/html", page.encode("gbk"))
    seen: list[object] = []
    real = trafilatura.extract
    monkeypatch.setattr(trafilatura, "extract", lambda html, **kw: seen.append(html) or real(html, **kw))
    (doc,), _ = read_all(path, Options(extractor="trafilatura"))
    assert seen == [page] == [decode_html(page.encode("gbk")).text]
    assert "高贵妃的下线" in doc.text and doc.meta["charset"] == "gbk"


def test_the_default_path_is_resiliparse_and_never_builds_trafilatura(web: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, tally_explicit = read_all(web / WARCS[1], Options(extractor="resiliparse"))

    def refuse(*_args, **_kwargs):
        raise AssertionError("the default path built a trafilatura extractor")

    monkeypatch.setattr(trafilatura_text, "TrafilaturaText", refuse)
    default, tally_default = read_all(web / WARCS[1])
    assert [(d.key, d.text) for d in default] == [(d.key, d.text) for d in explicit] and default
    assert tally_default.counts == tally_explicit.counts


def test_the_task_digest_includes_the_extractor(tmp_path: Path, web: Path) -> None:
    """A rerun with the other extractor redoes the crawl tasks instead of skipping them as finished."""
    digests = {}
    for extractor in ("resiliparse", "trafilatura"):
        source = {"name": "web", "kind": "commoncrawl", "paths": [str(web / "warcio-example.warc.gz")],
                  "options": {"extractor": extractor}}
        manifest = load_manifest(write_manifest(tmp_path, [source], name="same"))
        context = RunContext(manifest, InProcessExecutor())
        (task,) = crawl.plan(context)
        digests[extractor] = task_digest(manifest.run_dir, task)
        assert manifest.hash  # the config hash differs too
        digests[extractor + "-hash"] = manifest.hash
    assert digests["resiliparse"] != digests["trafilatura"]
    assert digests["resiliparse-hash"] != digests["trafilatura-hash"]


def test_the_crawl_stage_writes_trafilatura_texts_byte_identically(tmp_path: Path, iah_tail: Path) -> None:
    """Through the crawl stage (cleaning included) twice: the same shards byte for byte, each document the
    cleaned trafilatura text of its page, and the empty pages in the stage statistics. On the 2008 crawl's
    tail (``iah_tail``: its deduplicated stubs and empty pages, a sixth of the time): the whole file's pages
    are checked against trafilatura by the reader test above, and what the stage adds (cleaning, shards,
    statistics) does not depend on the file's length."""
    shards = []
    for run in ("a", "b"):
        source = {"name": "web", "kind": "commoncrawl", "paths": [str(iah_tail)],
                  "options": {"extractor": "trafilatura"}}
        manifest = load_manifest(write_manifest(tmp_path, [source], name=run))
        result = get_stage("crawl").run(RunContext(manifest, InProcessExecutor()), [])
        shards.append([(manifest.run_dir / o).read_bytes() for o in result.outputs])
        stats = json.loads((manifest.run_dir / "stats" / "crawl.json").read_text())
        docs = read_docs(manifest.run_dir, result.outputs)
    assert shards[0] == shards[1] and shards[0]
    expected = fineweb_texts(iah_tail, Options(extractor="trafilatura"))
    assert {d["meta"]["record"]: d["text"] for d in docs} == {
        k: clean_text(t) for k, t in expected.items() if t and clean_text(t).strip()}
    empty = sum(1 for t in expected.values() if not t)
    assert empty and stats["counts"]["skipped.empty_text"] == empty
    assert stats["examples"]["empty_text"]
