"""Property-based tests: readers on arbitrary and damaged real input, cleaning, the manifest loader.

What must hold for *any* input, not just the cases someone thought of:

* a reader never raises on bad data, and every unit it looks at (line, WARC record, page, file) is a
  document or a counted skip, whatever the split layout;
* ``clean_text`` output has the shape its docstring promises (what tests/pipeline/test_clean.py does not
  already check: line ends, blank lines, exotic spaces, per-document counts, all steps off = identity);
* the manifest loader returns a manifest or raises ``ManifestError``, never another exception.

Examples are bounded (``max_examples``) so the file runs in well under a minute in CI.
"""

from __future__ import annotations

import bz2
import functools
import json
import tempfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from contracts.accounting import Tally
from pipeline.clean import CleanOptions, clean_text
from pipeline.manifest import LoadedManifest, ManifestError, parse_manifest
from pipeline.readers import reader_module
from tests.conftest import SHARED_DATA as SHARED

FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def read_file(kind: str, data: bytes, suffix: str, **options: Any) -> tuple[list, Tally]:
    """Write ``data`` to a temporary file and read it with every split of its plan."""
    module = reader_module(kind)
    opts = module.Options(**options)
    tally = Tally()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        docs = [d for split in module.READER.plan(str(path), len(data), opts)
                for d in module.READER.read(split, opts, tally)]
    return docs, tally


def skipped(tally: Tally, leave_out: tuple[str, ...] = ()) -> int:
    return sum(v for k, v in tally.counts.items() if k.startswith("skipped.") and k[8:] not in leave_out)


def mutate(data: bytes, draw: st.DrawFn) -> bytes:
    """``data`` truncated, with bytes flipped, a span deleted or garbage inserted (one or more of them)."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["truncate", "flip", "delete", "insert"]))
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        if action == "truncate":
            del out[at:]
        elif action == "flip":
            out[at] ^= draw(st.integers(1, 255))
        elif action == "delete":
            del out[at: at + draw(st.integers(1, 4096))]
        else:
            out[at:at] = draw(st.binary(min_size=1, max_size=64))
    return bytes(out)


# ---------------------------------------------------------------------------------------------- jsonl

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=6)
records = st.fixed_dictionaries({"text": st.text()}, optional={"id": json_values, "url": json_values})
lines = st.one_of(
    records.map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=80).filter(lambda b: b"\n" not in b),
    st.sampled_from([b"", b"   ", b"\r", b"\xef\xbb\xbf{\"text\": \"bom\"}", b'{"text": "\\ud800"}']),
)


@FAST
@given(st.lists(lines, max_size=30), st.booleans(), st.integers(1, 200))
def test_jsonl_every_line_is_a_document_or_a_counted_skip(parts: list[bytes], final_newline: bool,
                                                          split_bytes: int) -> None:
    data = b"\n".join(parts) + (b"\n" if final_newline and parts else b"")
    n_lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    docs, tally = read_file("jsonl", data, ".jsonl", split_bytes=split_bytes)
    c = tally.counts
    assert len(docs) + c["jsonl.blank_lines"] + skipped(tally, ("empty_file",)) == n_lines
    assert c["skipped.empty_file"] == (n_lines == 0)
    # The split layout changes nothing: the same documents as one split of the whole file.
    whole, whole_tally = read_file("jsonl", data, ".jsonl")
    assert [(d.key, d.text) for d in docs] == [(d.key, d.text) for d in whole]
    assert c == whole_tally.counts
    for doc in docs:
        doc.text.encode("utf-8")  # what reaches the writer is valid UTF-8


@FAST
@given(st.binary(max_size=2000), st.sampled_from([".jsonl.gz", ".jsonl.bz2", ".jsonl.zst"]))
def test_jsonl_compressed_garbage_never_raises(data: bytes, suffix: str) -> None:
    docs, tally = read_file("jsonl", data, suffix)
    assert len(docs) + skipped(tally) + tally.counts["jsonl.blank_lines"] >= 1


# ---------------------------------------------------------------------------------------------- WARC

WARC_FILES = ["cc-whirlwind.warc.gz", "warcio-example.warc.gz", "resiliparse-clipped.warc.gz"]


@functools.cache
def warc(name: str) -> bytes:
    """A real WARC from shared/data (loaded here, not as a fixture: hypothesis would print its bytes)."""
    return (SHARED / "web" / name).read_bytes()


def inflate(data: bytes) -> bytes:
    """Every gzip member's content, keeping what a clipped last member holds (gzip.decompress refuses)."""
    out, rest = [], data
    while rest:
        member = zlib.decompressobj(31)
        out.append(member.decompress(rest))
        if not member.eof:
            break
        rest = member.unused_data
    return b"".join(out)


def assert_warc_accounted(tally: Tally) -> None:
    c = tally.counts
    ignored = sum(v for k, v in c.items() if k.startswith("ignored."))
    assert c["records"] + c["skipped.empty_file"] == c["documents"] + ignored + skipped(tally)


@FAST
@given(st.sampled_from(WARC_FILES), st.data(), st.integers(512, 1 << 16))
def test_commoncrawl_damaged_gzip_warc(name: str, data: st.DataObject, split_bytes: int) -> None:
    damaged = mutate(warc(name), data.draw)
    docs, tally = read_file("commoncrawl", damaged, ".warc.gz", split_bytes=split_bytes)
    assert_warc_accounted(tally)
    assert len(docs) == tally.counts["documents"]


@FAST
@given(st.sampled_from(WARC_FILES), st.data(), st.integers(512, 1 << 16))
def test_commoncrawl_damaged_plain_warc(name: str, data: st.DataObject, split_bytes: int) -> None:
    """Damage inside the records themselves (headers, lengths, HTTP), read as an uncompressed WARC."""
    damaged = mutate(inflate(warc(name)), data.draw)
    docs, tally = read_file("commoncrawl", damaged, ".warc", split_bytes=split_bytes)
    assert_warc_accounted(tally)
    # Byte-range splits see every record exactly once: the same counts as reading it whole.
    _, whole = read_file("commoncrawl", damaged, ".warc")
    assert tally.counts == whole.counts


@functools.cache
def record_frames(name: str) -> bytes:
    """A real WARC as IIPC's WARC zstd format: one zstd frame per record (each gzip member's content)."""
    import zstandard

    out, rest = [], warc(name)
    while rest:
        member = zlib.decompressobj(31)
        out.append(zstandard.ZstdCompressor(level=3).compress(member.decompress(rest)))
        if not member.eof:
            break
        rest = member.unused_data
    return b"".join(out)


@FAST
@given(st.sampled_from(WARC_FILES), st.data(), st.integers(512, 1 << 16))
def test_commoncrawl_damaged_zstd_warc(name: str, data: st.DataObject, split_bytes: int) -> None:
    """Record frames with damage anywhere (frame headers, compressed blocks, cuts), read in frame-aligned
    byte-range splits: every record and every damage seen once, the same counts as reading it whole."""
    damaged = mutate(record_frames(name), data.draw)
    docs, tally = read_file("commoncrawl", damaged, ".warc.zst", split_bytes=split_bytes)
    assert_warc_accounted(tally)
    assert len(docs) == tally.counts["documents"]
    _, whole = read_file("commoncrawl", damaged, ".warc.zst")
    assert tally.counts == whole.counts


@FAST
@given(st.binary(max_size=4000), st.sampled_from([".warc.gz", ".warc", ".warc.bz2", ".warc.zst"]))
def test_commoncrawl_arbitrary_bytes(data: bytes, suffix: str) -> None:
    _, tally = read_file("commoncrawl", data, suffix)
    assert_warc_accounted(tally)


# ---------------------------------------------------------------------------------------------- wikipedia

FILE_REASONS = ("empty_file", "not_mediawiki_xml", "stray_data", "corrupt_compression", "truncated_dump")


@functools.cache
def small_dump(copies: int = 1) -> bytes:
    """The header and first two pages of a real dump (``copies`` times), closed properly."""
    xml = bz2.decompress((SHARED / "wiki" / "enwiki-table-markup.xml.bz2").read_bytes())
    first = xml.index(b"<page>")
    third = xml.index(b"<page>", xml.index(b"<page>", first + 1) + 1)
    return xml[:first] + xml[first:third] * copies + b"</mediawiki>\n"


def assert_pages_accounted(docs: list, tally: Tally) -> None:
    assert tally.counts["pages"] == len(docs) + skipped(tally, FILE_REASONS)


@FAST
@given(st.data())
def test_wikipedia_mutated_xml(data: st.DataObject) -> None:
    damaged = mutate(small_dump(), data.draw)
    docs, tally = read_file("wikipedia", damaged, ".xml")
    assert_pages_accounted(docs, tally)
    packed, packed_tally = read_file("wikipedia", bz2.compress(damaged, 1), ".xml.bz2")
    assert packed_tally.counts == tally.counts and [d.text for d in packed] == [d.text for d in docs]


@FAST
@given(st.integers(1, 10_000), st.sampled_from([1, 9]))
def test_wikipedia_compressed_stream_cut_short(keep: int, level: int) -> None:
    """A bz2 file cut anywhere: never raises, never passes for empty, pages before the cut are kept."""
    packed = bz2.compress(small_dump(6), level)
    cut = packed[: min(keep, len(packed) - 1)]
    docs, tally = read_file("wikipedia", cut, ".xml.bz2")
    assert_pages_accounted(docs, tally)
    assert tally.counts["skipped.empty_file"] == 0
    assert tally.counts["skipped.corrupt_compression"] == 1


@FAST
@given(st.binary(max_size=3000), st.sampled_from([".xml", ".xml.bz2", ".xml.gz"]))
def test_wikipedia_arbitrary_bytes(data: bytes, suffix: str) -> None:
    docs, tally = read_file("wikipedia", data, suffix)
    assert_pages_accounted(docs, tally)


# ---------------------------------------------------------------------------------------------- books

@FAST
@given(st.binary(max_size=3000), st.sampled_from([".txt", ".txt.gz"]))
def test_books_any_bytes_give_one_document_or_one_skip(data: bytes, suffix: str) -> None:
    docs, tally = read_file("books", data, suffix)
    assert len(docs) + skipped(tally) == 1
    for doc in docs:
        doc.text.encode("utf-8")
        assert doc.text.strip()


@FAST
@given(st.text(max_size=400), st.sampled_from(["utf-8", "cp1252", "latin-1", "utf-16"]))
def test_books_any_text_in_common_encodings(text: str, encoding: str) -> None:
    data = text.encode(encoding, errors="replace")
    docs, tally = read_file("books", data, ".txt")
    assert len(docs) + skipped(tally) == 1
    if encoding == "utf-8" and docs:  # UTF-8 is tried first, so its text is never re-decoded wrongly
        assert docs[0].meta["charset"] == "utf-8"


# ---------------------------------------------------------------------------------------------- cleaning

EXOTIC_SPACES = "\u00a0\u1680\u2000\u2005\u200a\u202f\u205f\u3000"
shaped_texts = st.text(alphabet=st.one_of(st.sampled_from(list(" \t\n\r\x0b\x0c\u2028\u2029" + EXOTIC_SPACES + "ab")),
                                          st.characters()), max_size=80)


@settings(max_examples=300, deadline=None, database=None)
@given(shaped_texts)
def test_cleaned_text_has_the_promised_shape(text: str) -> None:
    out = clean_text(text)
    assert out == out.strip()
    assert "\r" not in out and "\x0b" not in out and "\x0c" not in out and "\u2028" not in out
    assert "\n\n\n" not in out
    assert not any(line != line.rstrip(" \t") for line in out.split("\n"))
    assert not any(ch in out for ch in EXOTIC_SPACES)


@settings(max_examples=200, deadline=None, database=None)
@given(shaped_texts, st.builds(CleanOptions, nfc=st.booleans(), fix_mojibake=st.booleans(),
                               remove_control=st.booleans(), normalize_whitespace=st.booleans()))
def test_clean_counts_each_step_at_most_once_per_document(text: str, opts: CleanOptions) -> None:
    counts: Counter = Counter()
    clean_text(text, counts, opts)
    assert all(k.startswith("clean.") and v == 1 for k, v in counts.items())


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=80))
def test_clean_with_every_step_off_is_the_identity(text: str) -> None:
    off = CleanOptions(nfc=False, fix_mojibake=False, remove_control=False, normalize_whitespace=False)
    counts: Counter = Counter()
    assert clean_text(text, counts, off) == text and not counts


# ---------------------------------------------------------------------------------------------- manifest

VALID: dict[str, Any] = {
    "run": {"name": "t", "output_dir": "out", "seed": 3},
    "ray": {"num_cpus": 1},
    "sources": [{"name": "books", "kind": "books", "paths": ["books/*.txt"]},
                {"name": "web", "kind": "commoncrawl", "paths": ["web/*.warc.gz"], "options": {"split_bytes": 1024}}],
    "stages": {"order": ["crawl", "filter"], "crawl": {"shard_docs": 10}},
}
KEYS = ["run", "ray", "sources", "stages", "name", "output_dir", "seed", "kind", "paths", "options", "order",
        "crawl", "filter", "dedup", "tokenize", "tokenizer", "split_bytes", "shard_docs", "num_cpus", "crawl",
        "id", "files", "weight", "clean", "nfc", "vocab_size", "x"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=12),
                    st.sampled_from(["books", "commoncrawl", "jsonl", "crawl", "..", "../..", "/etc", "a/b",
                                     "CC-MAIN-2024-22", "\x00", "~", "*", "1e400"]))
yamlish = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=4), max_leaves=12)


def assert_manifest_or_error(text: str) -> None:
    try:
        manifest = parse_manifest(text, "<hypothesis>", Path("/nonexistent/m.yaml"))
    except ManifestError:
        return
    assert isinstance(manifest, LoadedManifest)
    assert manifest.run_dir.name == manifest.run.name


def leaf_paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every key path of ``node`` (inner and leaf), so edits hit real positions of a valid manifest."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    out = [path] if path else []
    for key, child in items:
        out += leaf_paths(child, (*path, key))
    return out


edit_paths = st.one_of(st.sampled_from(leaf_paths(VALID)).flatmap(
    lambda p: st.sampled_from([p, (*p, "x"), (*p, 0)])), st.lists(st.sampled_from(KEYS + [0, 1]), min_size=1,
                                                                   max_size=4).map(tuple))


def apply_edit(data: Any, path: tuple, value: Any) -> None:
    node = data
    for key in path[:-1]:
        if isinstance(node, dict) and isinstance(node.get(key), (dict, list)):
            node = node[key]
        elif (isinstance(node, list) and isinstance(key, int) and key < len(node)
              and isinstance(node[key], (dict, list))):
            node = node[key]
        else:
            return
    if isinstance(node, dict):
        node[path[-1]] = value
    elif isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        node[path[-1]] = value


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.tuples(edit_paths, yamlish), max_size=4))
def test_manifest_with_random_edits(edits: list[tuple[tuple, Any]]) -> None:
    """A valid manifest with values replaced at random key paths (real keys, odd values)."""
    data = json.loads(json.dumps(VALID))
    for path, value in edits:
        apply_edit(data, path, value)
    assert_manifest_or_error(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=200, deadline=None, database=None)
@given(yamlish)
def test_manifest_from_arbitrary_structures(data: Any) -> None:
    assert_manifest_or_error(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet=st.one_of(st.sampled_from(list(":-[]{}!&*|>'\"#%@`\n ")), st.characters()), max_size=120))
@example("a: " + "[" * 5000 + "]" * 5000)  # was a RecursionError from the YAML parser
@example(yaml.safe_dump({**VALID, "sources": [{"name": "b", "kind": "books", "paths": ["a\x00b"]}]}))  # was ValueError
@example(yaml.safe_dump({**VALID, "run": {"name": "t", "output_dir": "o\x00"}}))
def test_manifest_from_arbitrary_text(text: str) -> None:
    assert_manifest_or_error(text)
