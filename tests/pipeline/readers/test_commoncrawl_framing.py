"""The commoncrawl reader's fast path for whole gzip members (``_whole_member``) against the general framing
(``_GzipMember`` + ``_frame``): the same documents, counts and skip details on real files, on damaged ones and
with members cut by the read size; and ``_header``'s Content-Length lookup against the regex search it replaced."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from contracts.accounting import Tally
from pipeline.readers import arc, warc_framing, warc_splits
from pipeline.readers.commoncrawl import READER, Options
from tests.pipeline.readers.test_commoncrawl import members
from tests.pipeline.readers.test_commoncrawl_inflate import BIG, DOLMA, _damaged

FILES = [BIG, DOLMA, "dolma-sample-0001.warc.gz", "pywb-iana.warc.gz", "resiliparse-clipped.warc.gz",
         "resiliparse-CC-MAIN-2020-34-excerpt.warc.gz", "servo-zh-sohu-homepage-2018.warc.gz",
         "warcio-example.warc.gz", "cc-whirlwind.warc.gz"]


def _read(path: Path, options: Options) -> tuple[list[tuple], list[tuple], dict, dict]:
    """The framed units (offset and record bytes, or the damage's fields), the documents, counts and examples."""
    tally = Tally()
    splits = READER.plan(str(path), path.stat().st_size, options)
    units = [vars(u).copy() if isinstance(u, warc_framing._Damage) else u
             for split in splits for u in warc_splits._units(split, options, Tally())]
    docs = [(d.key, d.text, d.url, d.meta["offset"]) for split in splits for d in READER.read(split, options, tally)]
    return units, docs, dict(tally.counts), {k: list(v) for k, v in tally.examples.items()}


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, options: Options | None = None) -> tuple[tuple, tuple, list]:
    """The reader's results with the fast path and without it, and what the fast path returned per member."""
    options = options or Options()
    real = warc_splits._whole_member
    taken: list[bool] = []

    def spy(rest, max_record):
        result = real(rest, max_record)
        taken.append(result is not None)
        return result

    with monkeypatch.context() as m:
        m.setattr(warc_splits, "_whole_member", spy)
        fast = _read(path, options)
    with monkeypatch.context() as m:
        m.setattr(warc_splits, "_whole_member", lambda rest, max_record: None)
        slow = _read(path, options)
    return fast, slow, taken


@pytest.mark.parametrize("name", FILES)
def test_real_files_read_alike(shared_data: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    fast, slow, taken = _both(shared_data / "web" / name, monkeypatch)
    assert fast == slow
    if name == "resiliparse-clipped.warc.gz":  # one member, cut short: the general path reports it
        assert set(taken) == {False} and "skipped.truncated_gzip" in fast[2]
    else:
        assert sum(taken) >= 0.9 * len(taken) > 0  # most members took the fast path


def test_members_cut_by_the_read_size_and_splits(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 4 kB reads most members lie across a read's end: the general path reads them, from the same bytes."""
    for module in (warc_framing, warc_splits, arc):  # each reads by its own copy of the constant
        monkeypatch.setattr(module, "_CHUNK", 4096)
    fast, slow, taken = _both(shared_data / "web" / BIG, monkeypatch)
    assert fast == slow and True in taken and False in taken
    fast, slow, taken = _both(shared_data / "web" / DOLMA, monkeypatch, Options(split_bytes=7000))
    assert fast == slow and True in taken


def _write(tmp_path: Path, name: str, parts: list[bytes]) -> Path:
    path = tmp_path / f"{name}.warc.gz"
    path.write_bytes(b"".join(parts))
    return path


def _damages(shared_data: Path, tmp_path: Path) -> dict[str, Path]:
    web = shared_data / "web"
    parts = members((web / DOLMA).read_bytes())
    records = [gzip.decompress(p) for p in parts]
    # the Heritrix crawl's largest member damaged, read with its warcinfo and 6 members either side (the whole
    # 2.5 MB file, read six ways per damage, took ~12 s a damage)
    out = {how: _damaged(web, tmp_path, how, around=6) for how in ("crc", "length", "block", "cut")}
    out["two records in one member"] = _write(tmp_path, "two", parts[:3] + [gzip.compress(records[3] + records[4])]
                                              + parts[5:])
    out["garbage between members"] = _write(tmp_path, "garbage", parts[:4] + [b"\x00garbage" * 50] + parts[4:])
    out["garbage inside a member"] = _write(tmp_path, "inside", parts[:4] + [gzip.compress(records[4] + b"xyz")]
                                            + parts[5:])
    out["truncated file"] = _write(tmp_path, "truncated", parts[:6] + [parts[6][: len(parts[6]) // 2]])
    lying = re.sub(rb"(?i)content-length: *\d+", b"Content-Length: 99999999", records[2], count=1)
    out["Content-Length past the member"] = _write(tmp_path, "lying", parts[:2] + [gzip.compress(lying)] + parts[3:])
    out["no WARC header"] = _write(tmp_path, "header", parts[:2] + [gzip.compress(b"HTTP/1.1 200 OK\r\n\r\nx")]
                                   + parts[2:])
    out["extra blank lines"] = _write(tmp_path, "crlf", parts[:2] + [gzip.compress(b"\r\n\n" + records[2])]
                                      + parts[3:])
    out["blank lines past the boundary"] = _write(tmp_path, "past", parts[:2] + [gzip.compress(records[2] + b"\n\r\n")]
                                                  + parts[3:])
    out["empty member"] = _write(tmp_path, "empty", parts[:2] + [gzip.compress(b"")] + parts[2:])
    return out


def test_damaged_files_read_alike(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind of damage is read, skipped and described as the general path alone does it, and the damaged
    member itself is never taken by the fast path."""
    seen_damage = 0
    for how, path in _damages(shared_data, tmp_path).items():
        fast, slow, taken = _both(path, monkeypatch)
        assert fast == slow, how
        assert True in taken, how
        # blank lines past the boundary: a longer CR/LF run after a block than the spec's two CRLFs is read as
        # warcio reads it, the record whole (pywb's sample WARCs hold such runs)
        if how in ("two records in one member", "extra blank lines", "empty member", "blank lines past the boundary"):
            assert all(taken), how  # nothing wrong in these members: all of them are read whole
        elif how != "garbage between members":  # (found after a member, by both paths alike)
            assert False in taken, how
            seen_damage += any(k.startswith("skipped.") and "corrupt" in k or "truncated" in k for k in fast[2])
        for options in (Options(split_bytes=5000), Options(max_record_bytes=3000)):
            fast, slow, _ = _both(path, monkeypatch, options)
            assert fast == slow, (how, options)
    assert seen_damage >= 6


def _header_by_search(buf: bytes, at: int = 0) -> tuple[int, int] | None:
    """``_header`` as it was: one regex search over the header for the Content-Length line."""
    if buf[at: at + 5] != b"WARC/":
        return None
    end = buf.find(b"\r\n\r\n", at, at + warc_framing._MAX_HEADER)
    if end < 0:
        return None
    match = warc_framing._CONTENT_LENGTH.search(buf, at, end + 2)
    return (end + 4 - at, int(match.group(1))) if match else None


def test_header_finds_the_content_length_line_the_regex_search_finds() -> None:
    lines = [b"WARC-Type: response", b"Content-Length: 12", b"content-LENGTH:\t7 ", b"Content-Length: x1",
             b"Content-Length: 5 6", b"X-Content-Length: 9", b"Content-Length:3\r", b"CONTENT-LENGTH: 0",
             b"Content-Length : 4", b" Content-Length: 8", b"Content-Type: text/html"]
    cases = []
    for i in range(len(lines)):
        for j in range(len(lines)):
            cases.append(b"WARC/1.0\r\n" + lines[i] + b"\r\n" + lines[j] + b"\r\n\r\nbody")
            cases.append(b"WARC/1.0\n" + lines[i] + b"\n" + lines[j] + b"\r\n\r\n")
    cases += [b"WARC/1.0\r\n\r\n", b"WARC/1.0 Content-Length: 3\r\n\r\n", b"WARC/", b"warc/1.0\r\nContent-Length: 1\r\n\r\n",
              b"WARC/1.0\r\nContent-Length: 1\r\n"]
    found = 0
    for case in cases:
        for prefix in (b"", b"xx\r\n", b"\n"):
            buf = prefix + case
            assert warc_framing._header(buf, len(prefix)) == _header_by_search(buf, len(prefix)), buf
            assert warc_framing._header(bytearray(buf), len(prefix)) == _header_by_search(buf, len(prefix)), buf
            found += warc_framing._header(buf, len(prefix)) is not None
    assert found > len(cases)


def test_a_member_larger_than_one_inflate_call(shared_data: Path) -> None:
    """The largest member of the 2008 file inflates to 1.2 MB, several calls of at most ``_CHUNK`` bytes each: the
    fast path takes it whole when its bytes are at hand, with the record and the compressed length gzip gives."""
    parts = members((shared_data / "web" / BIG).read_bytes())
    big = max(range(len(parts)), key=lambda k: len(gzip.decompress(parts[k])))
    record = gzip.decompress(parts[big])
    assert len(record) > 4 * warc_framing._CHUNK
    whole = warc_framing._whole_member(parts[big] + parts[big + 1], Options().max_record_bytes)
    assert whole is not None
    assert whole[1] == len(parts[big]) and record.endswith(b"\r\n\r\n") and whole[0] == [record[:-4]]
    assert warc_framing._whole_member(parts[big][:-10], Options().max_record_bytes) is None  # not all there
