"""Language ID on the texts' UTF-8 bytes (issue 13): the filter stage hands ``_lid`` views of the Arrow
column's data (``base.utf8_views`` -> ``Doc.utf8``) instead of each text's ``str``, which ``_lid`` had to
encode to UTF-8 again (~25 instructions per Chinese character).

What must hold: the bytes path gives the str path's labels and probabilities bit for bit (and fastText's)
on real Chinese, Japanese, English and German pages, cut at the filter's 100k characters and at small
limits that fall inside multi-byte and 4-byte characters; on bytes that are not UTF-8 it reads them as
fastText reads raw bytes; the views are each value's bytes whatever the column's layout (chunks, slices,
``large_string``, nulls, empty values); and the stage really reads the bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.filters import language
from pipeline.filters.base import Doc, compute_signals, utf8_views
from pipeline.filters.chain import ChainSpec, build
from pipeline.filters.fasttext_lid import FastTextLID
from pipeline.filters.language import (LanguageFilter, LanguageOptions, bundled_model_path, fasttext_predict_batch,
                                       load_model)
from tests.pipeline.filters.test_lid import CAP, EDGE_CASES, needs_lid
from tests.pipeline.filters.test_lid_subwords import read_texts

REAL = {"zhwiki": ("wikipedia", "wiki/zhwiki-test-pages.xml"),
        "jawiki": ("wikipedia", "wiki/jawiki-2023-truncated-100k-lines.xml.xz"),
        "enwiki": ("wikipedia", "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"),
        "dewiki": ("wikipedia", "wiki/dewiki-20170701-sample.xml")}
# Non-BMP characters (4 UTF-8 bytes, two UTF-16 units), combining marks, 2- and 3-byte characters and
# separators, so that small limits end inside every width.
MIXED = ["𠀀𠀁𠀂 中文𝔘nicode 😀😃 text", "a𝔘b\nc😀d\te", "é" * 7 + "中" * 7 + "😀" * 7, "\U0010ffff\uffff\ufffe x",
         "e\u0301\u0301 ñ n\u0303 中\u0301", "😀" * 40, " 中 " * 30, "中文" * 5 + "\n" + "😀 " * 5]


@pytest.fixture(scope="module")
def real(shared_data: Path) -> dict[str, list[str]]:
    out = {name: read_texts(shared_data, kind, rel) for name, (kind, rel) in REAL.items()}
    assert all(len(texts) > 2 for texts in out.values())
    return out


@pytest.fixture(scope="module")
def reference():
    return load_model(bundled_model_path())


@pytest.fixture(scope="module")
def model() -> FastTextLID:
    return FastTextLID(bundled_model_path())


def _as_column(texts: list[str]) -> pa.ChunkedArray:
    """The texts as an Arrow column of three chunks, the middle one a slice (its offsets do not start at 0)."""
    third = max(1, len(texts) // 3)
    inner = texts[third:2 * third]
    middle = pa.array(["pad"] * 2 + inner + ["pad"], pa.string()).slice(2, len(inner))
    return pa.chunked_array([pa.array(texts[:third], pa.string()), middle,
                             pa.array(texts[2 * third:], pa.string())], pa.string())


@needs_lid
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_pages_read_as_bytes_give_the_str_results(real, model, reference, name):
    texts = real[name]
    views = utf8_views(_as_column(texts))
    assert [bytes(v) for v in views] == [t.encode() for t in texts]
    for max_chars in (CAP, 1_000, 101, 7):  # 7 and 101 end inside 3-byte characters of zh and ja pages
        from_str = model.predict_batch(texts, max_chars)
        assert model.predict_batch(views, max_chars) == from_str, max_chars
        assert model.predict_batch([t.encode() for t in texts], max_chars) == from_str, max_chars
    assert from_str == fasttext_predict_batch(reference, texts, 7)
    if name in ("zhwiki", "jawiki"):  # most bytes in 3-byte characters: the copy this path removes
        assert sum(len(v) for v in views) > 2.5 * sum(map(len, texts))


@needs_lid
def test_every_limit_inside_mixed_widths_and_the_edge_cases(model, reference):
    # UTF-8 cannot hold a lone surrogate: those edge cases stay with the str path's own test
    texts = MIXED + [t for t in EDGE_CASES if not any(0xD800 <= ord(c) < 0xE000 for c in t)]
    assert any(ord(c) > 0xFFFF for t in texts for c in t)
    encoded = [t.encode() for t in texts]
    assert model.predict_batch(encoded, None) == model.predict_batch(texts, None)
    for max_chars in range(0, 45):
        assert model.predict_batch(encoded, max_chars) == model.predict_batch(texts, max_chars), max_chars
    assert model.predict_batch(encoded, 13) == fasttext_predict_batch(reference, texts, 13)
    mixed = [b if i % 2 else t for i, (t, b) in enumerate(zip(texts, encoded))]  # str and bytes in one call
    assert model.predict_batch(mixed, 20) == model.predict_batch(texts, 20)
    assert model.predict_batch([bytearray(b) for b in encoded], 20) == model.predict_batch(texts, 20)


def _utf8_prefix(data: bytes, max_chars: int) -> bytes:
    """The reference of ``_lid.c``'s cut: a character starts at every byte that is not 10xxxxxx."""
    starts = [i for i, b in enumerate(data) if b & 0xC0 != 0x80]
    return data if len(starts) <= max_chars else data[:starts[max_chars]]


@needs_lid
def test_bytes_that_are_not_utf8_are_read_as_fasttext_reads_raw_bytes(model, reference):
    """fastText's own ``predict`` takes bytes too (the binding's ``f.predict``): stray continuation bytes,
    truncated sequences, encoded surrogates, overlong forms and 0xFF, alone and inside CJK runs."""
    rng = random.Random(13)
    pieces = [b"\x80", b"\xbf\xbf", b"\xe4\xb8", b"\xe4", b"\xf0\x9f\x98", b"\xed\xa0\x80", b"\xc0\xaf", b"\xff",
              b"\xfe", "中文".encode(), "𝔘".encode(), b"ab", b" ", b"\n", b"\t", "é".encode()]
    texts = [b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(400)]
    texts += [b"\x80" * 20, b"\xe4\xb8\xad" * 9 + b"\xe4\xb8", b"\xe4\xb8\xad\x80\x80\xe4\xb8\xad" * 5]
    for max_chars in (None, 3, 10):
        cut = texts if max_chars is None else [_utf8_prefix(t, max_chars) for t in texts]
        theirs = [reference.f.predict(t.replace(b"\n", b" ") + b"\n", 1, 0.0, "strict") for t in cut]
        expected = ([p[0][1] if p else None for p in theirs], [p[0][0] if p else 0.0 for p in theirs])
        ours = model.predict_batch(texts, max_chars)
        assert ours[0] == expected[0]
        assert [float(p) for p in ours[1]] == expected[1], max_chars


@needs_lid
def test_what_is_not_text_is_refused(model):
    with pytest.raises(TypeError, match="str or bytes-like"):
        model.predict_batch([1], CAP)
    with pytest.raises(TypeError):
        model.predict_batch("one str", CAP)


def test_views_follow_every_column_layout():
    texts = ["中文", "", "😀 x", "é" * 3, None, "last"]
    for typ in (pa.string(), pa.large_string()):
        array = pa.array(texts, typ)
        for column in (array, array.slice(1, 4), pa.chunked_array([array.slice(0, 2), array.slice(2)]),
                       pa.chunked_array([], typ)):
            expected = (column.to_pylist() if isinstance(column, pa.Array) else
                        [v for chunk in column.chunks for v in chunk.to_pylist()])
            assert [None if v is None else bytes(v) for v in utf8_views(column)] == [
                None if t is None else t.encode() for t in expected]
    assert [bytes(v) for v in utf8_views(pa.array(["", ""], pa.string()))] == [b"", b""]
    assert utf8_views(pa.array([b"x"], pa.binary())) == [None]  # not a text column: the str path


@needs_lid
def test_the_language_filter_reads_the_bytes_when_a_document_has_them():
    """A document whose bytes say Chinese and whose str says English is Chinese: the bytes were read (the
    stage's documents always hold the same text twice; this only shows which one is read)."""
    flt = LanguageFilter(LanguageOptions())
    english = "the quick brown fox jumps over the lazy dog"
    chinese = "我们在北京大学学习数学，这是一个很长的中文句子。"
    out = flt.compute([Doc(english, utf8=memoryview(chinese.encode())), Doc(english)])
    assert out["language"] == ["zh", "en"]
    assert out["script"] == ["Latn", "Latn"]  # script_of reads the str


@needs_lid
def test_signals_with_the_bytes_are_the_signals_without(real):
    """The wikipedia chain's signals of real pages (four languages in one batch, declared per page), from
    the str alone and with the column's bytes: every column equal."""
    texts = [t for name in sorted(real) for t in real[name][:6]]
    declared = [name[:2] for name in sorted(real) for _ in real[name][:6]]
    chain = build(ChainSpec.model_validate({"length": {}, "language": {"source_language": True},
                                            "gopher_quality": {}, "pii": {}}))
    without = compute_signals(chain, texts, [None] * len(texts), 1_000_000, declared=declared)
    with_bytes = compute_signals(chain, texts, [None] * len(texts), 1_000_000, declared=declared,
                                 utf8=utf8_views(_as_column(texts)))
    assert with_bytes == without
    assert len(set(without["language"])) >= 4


@needs_lid
def test_the_filter_stage_hands_language_id_the_bytes(monkeypatch, tmp_path):
    """The stage's signal step gives the language filter each document's bytes (views of the shard's text
    column), and its signals file is what the str path writes."""
    from pipeline.manifest import parse_manifest
    from pipeline.stage import RunContext
    from pipeline.stages import filter as filter_stage
    from tests.pipeline.filters.support import SHARED_DATA, real_documents
    from tests.pipeline.stages.test_filter import _filter_files, write_shard

    from contracts.accounting import Tally
    from pipeline.readers import get_reader, reader_module
    from pipeline.readers.base import Split

    chinese = get_reader("wikipedia").read(Split(str(SHARED_DATA / "wiki/zhwiki-test-pages.xml")),
                                           reader_module("wikipedia").Options(), Tally())
    docs = list(chinese)[:8] + list(real_documents("wikipedia"))[:4]  # declared zh, then en pages
    seen: list[type] = []
    compute = LanguageFilter.compute

    def spying(self, batch):
        seen.extend(type(doc.utf8) for doc in batch)
        return compute(self, batch)

    def run(root: Path) -> dict:
        manifest = parse_manifest(f"""
run: {{name: t, output_dir: {root}}}
sources:
  - {{name: wiki, kind: wikipedia, paths: ["{SHARED_DATA}/wiki/zhwiki-test-pages.xml"]}}
""")
        inputs = [write_shard(manifest.run_dir, "docs/wiki/p0.parquet", "wiki", docs)]
        filter_stage.run(RunContext(manifest), inputs)
        return _filter_files(manifest.run_dir)

    monkeypatch.setattr(LanguageFilter, "compute", spying)
    language._PREDICTORS.clear()
    now = run(tmp_path / "bytes")
    assert seen == [memoryview] * len(docs)
    seen.clear()
    monkeypatch.setattr(filter_stage, "utf8_views", lambda column: [None] * len(column))
    assert run(tmp_path / "str") == now
    assert seen == [type(None)] * len(docs)
