"""The commoncrawl reader on real web archives that other tools wrote, against warcio, file by file.

Why: the reader was tuned on the shared WARCs and on ARC files we made; the project is judged on archives
nobody here has seen. Some packages on the registries ship real sample archives (pywb's sdist: ARC files, WARCs
by wget 1.14 and wpull, revisits, resource records; Warcat's: WARCs with chunked and non-UTF-8 HTTP headers;
warcio 1.5.3's: a truncated record, one-stream gzip files; npm ``warc``: a Common Crawl 2014 WARC, WAT and WET).
This downloads them (pip; ``npm pack``) into a cache folder (never committed), takes out every WARC/ARC file
(WATs and WETs too), and reads each

* with our reader through its public path (``READER.plan`` / ``READER.read``, default options): records,
  documents, skips and ignored records by reason;
* again in byte-range splits of ``--split-bytes`` (4,000): the documents must be the same set;
* with warcio's ``ArchiveIterator`` (``arc2warc=True``) as the reference: records by type, and the pages
  it reads as HTML (a response with HTTP status 200 or an http(s) resource record, Content-Type
  text/html or application/xhtml+xml, a non-empty payload) and the conversion records of WETs;
* with ``--rewrite``, also as warcio's own writer writes each file again (gzip per record, and plain).

Every page warcio reads as HTML must be one of our documents with the text our extractor gives warcio's
decoded payload, or a counted skip whose reason is a policy (named in the notes); a record we count as
damage where warcio reads one, a crash, a split run that differs, or ``records`` not equal to documents +
ignored + skipped is a disagreement. The per-record outcomes come from the reader's own pieces
(``_units`` then ``_document``, what ``read`` runs), checked to give the same documents as ``read``.

    taskset -c 0 python bench/package_archives.py [--cache DIR] [--json OUT] [--split-bytes 4000] [--rewrite]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from contracts.accounting import Tally  # noqa: E402
from pipeline.extract.html import decode_html, extract  # noqa: E402
from pipeline.readers import commoncrawl  # noqa: E402
from pipeline.readers.commoncrawl import READER, Options  # noqa: E402
from pipeline.readers.warc_framing import _Damage  # noqa: E402
from pipeline.readers.warc_splits import _units  # noqa: E402

# (registry, name, version, what it ships). Pinned, so the table can be reproduced. Searched and found holding
# no archive file: the sdists of warcio 1.7.1 to 1.8.1, warcprox 2.13.1, warctools 5.0.1, wpull 2.0.1 (HTML
# samples only), wacz 0.6.0, cdxj-indexer 1.5.0, har2warc 1.0.4 (HAR files), warc 0.2.1, warc3-wet 0.2.5, metawarc
# 2.0.3, pywarc 0.1.1, warcit 0.4.0, lockss-warcread 0.4.0; the npm packages warcio 2.4.11, node-warc 3.3.1 and
# @webrecorder/wabac.
PACKAGES = [
    ("pip", "pywb", "2.10.0", "sample_archive/warcs: ARC, wget 1.14 / wpull WARCs, revisits, resources (GPL-3.0)"),
    ("pip", "Warcat", "2.2.5", "example/: WARCs with chunked and non-UTF-8 HTTP parts (GPL-3.0)"),
    # (warcio's sdists shipped test/data up to 1.6.3; 1.7 on leave it out)
    ("pip", "warcio", "1.5.3", "test/data: truncated, non-chunked gzip, resource, chunked WARCs, ARC (Apache-2.0)"),
    ("npm", "warc", "1.0.1", "test/fixtures: a 2014 Common Crawl WARC excerpt with its WAT and WET (BSD-3-Clause)"),
]
# A WARC or ARC file (or a WAT/WET), plain or gzip; pywb's damaged example is ``*.warc.gz.bad`` (read as .warc.gz)
_ARCHIVE = re.compile(r"(?i)\.(warc|arc)(\.wat|\.wet)?(\.gz)?(\.bad)?$")
_PAGE_TYPES = ("text/html", "application/xhtml+xml")
_DAMAGE = {"corrupt_record", "truncated_record", "corrupt_gzip", "truncated_gzip", "corrupt_compression"}
# Skips that are the reader's policy, not a loss: what each means for a page warcio reads as HTML
_POLICY = {
    "segmented_record": "the first segment of a segmented record: not reassembled",
    "too_small": "under min_html_bytes", "too_large": "over max_html_bytes",
    "empty_text": "the extractor found no text in the page",
    "extract_too_many_tags": "trafilatura's tag bound",
}


def download(cache: Path) -> list[Path]:
    """The package files of ``PACKAGES`` in ``cache``: sdists with pip, npm tarballs with ``npm pack``, each
    fetched once and then taken from there. A package whose client is missing or fails is left out, said so."""
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for registry, name, version, _ in PACKAGES:
        stem = f"{name.lower()}-{version}"

        def cached() -> list[Path]:
            return [p for p in cache.iterdir() if p.name.lower().replace("_", "-").startswith(stem)
                    and p.name.endswith((".tar.gz", ".tgz"))]

        if not cached():
            if registry == "pip":
                command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                           "--no-build-isolation", f"{name}=={version}", "-d", str(cache)]
            else:
                command = ["npm", "pack", "--silent", f"{name}@{version}", "--pack-destination", str(cache)]
            try:
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except (OSError, subprocess.CalledProcessError) as exc:
                print(f"left out {registry} {name} {version}: {exc}", file=sys.stderr)
        out.extend(cached()[:1])
    return out


def extract_archives(sdist: Path, into: Path) -> list[Path]:
    """The WARC/ARC files of one sdist, written under ``into/<sdist stem>/`` (a ``.bad`` suffix dropped)."""
    files = []
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not _ARCHIVE.search(member.name):
                continue
            name = Path(member.name).name
            if name.endswith(".bad"):
                name = name[: -len(".bad")]
            target = into / re.sub(r"\.(tar\.gz|tgz)$", "", sdist.name) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            fh = tar.extractfile(member)
            assert fh is not None
            target.write_bytes(fh.read())
            files.append(target)
    return files


def rewrite(path: Path, into: Path) -> list[Path]:
    """``path`` written again by warcio's ``WARCWriter`` (gzip per record, and plain), as ``warcio recompress``
    does: the same captures in another writer's framing (headers, blank lines, gzip members; ARC -> WARC).
    None when warcio cannot read ``path`` to its end."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    out = []
    for gz in (True, False):
        target = into / path.parent.name / (path.name.replace(".", "_") + (".warc.gz" if gz else ".warc"))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "rb") as src, open(target, "wb") as dst, contextlib.redirect_stderr(io.StringIO()):
                writer = WARCWriter(dst, gzip=gz)
                for record in ArchiveIterator(src, arc2warc=True):
                    writer.write_record(record)
        except Exception:  # noqa: BLE001 - warcio cannot read it (pywb's single-stream gzip): no rewrite
            target.unlink()
            return []
        out.append(target)
    return out


def _key(doc: Any) -> tuple[str, str, str | None, str | None]:
    return doc.key, hashlib.sha1(doc.text.encode("utf-8")).hexdigest()[:16], doc.meta.get("charset"), doc.url


def ours(path: Path, split_bytes: int | None) -> tuple[list, Counter, str | None]:
    """(documents, tally counts, crash) of the public read path; ``split_bytes`` None: default options."""
    options = Options() if split_bytes is None else Options(split_bytes=split_bytes)
    tally, docs = Tally(), []
    try:
        for split in READER.plan(str(path), path.stat().st_size, options):
            docs.extend(READER.read(split, options, tally))
    except Exception as exc:  # noqa: BLE001 - a crash is what this looks for
        return docs, tally.counts, f"{type(exc).__name__}: {exc}"
    return docs, tally.counts, None


def outcomes(path: Path) -> list[tuple[int | None, str, Any]]:
    """(offset, outcome, document or skip detail) per unit: what ``read`` does, one unit at a time."""
    options = Options()
    result = []
    for split in READER.plan(str(path), path.stat().st_size, options):
        for unit in _units(split, options, Tally()):
            if isinstance(unit, _Damage):
                result.append((unit.offset, f"skipped.{unit.reason}", unit.detail))
                continue
            tally = Tally()
            doc = commoncrawl._document(unit[1], unit[0], split.path, options, tally)
            if doc is not None:
                result.append((unit[0], "document", doc))
            else:
                (name,) = [k for k in tally.counts if k.startswith(("ignored.", "skipped."))]
                reason = name.split(".", 1)[1]
                detail = tally.examples.get(reason, [{}])[0].get("detail") if name.startswith("skipped.") else None
                result.append((unit[0], name, detail))
    return result


def reference(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """warcio's records: offset, type, id, url, and for pages (see module doc) the decoded payload."""
    from warcio.archiveiterator import ArchiveIterator

    records: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as fh, contextlib.redirect_stderr(io.StringIO()):  # its warnings: see "warned"
            it = ArchiveIterator(fh, arc2warc=True)
            for record in it:
                rtype = record.rec_type
                url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>")
                entry: dict[str, Any] = {"type": rtype, "url": url,
                                         "id": record.rec_headers.get_header("WARC-Record-ID"),
                                         "length": record.rec_headers.get_header("Content-Length")}
                http = record.http_headers
                entry["protocol"] = http.protocol if http is not None else None
                status = http.get_statuscode() if http is not None and rtype in ("response", "revisit") else None
                if rtype == "resource":
                    ctype = record.rec_headers.get_header("Content-Type") or ""
                    ok = url.lower().startswith(("http://", "https://"))
                else:
                    ctype = (http.get_header("Content-Type") if http is not None else None) or ""
                    ok = rtype == "response" and status == "200"
                entry["status"], entry["content_type"] = status, ctype
                if ok and ctype.split(";")[0].strip().lower() in _PAGE_TYPES:
                    body = record.content_stream().read()
                    if body:
                        entry["page"] = body
                        charset = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", ctype, re.I)
                        entry["charset"] = charset.group(1) if charset else None
                elif rtype == "conversion":  # a WET's text (a WAT's metadata records are JSON: not text)
                    entry["conversion"] = record.content_stream().read()
                else:
                    record.content_stream().read()
                entry["block"] = record.length  # the block's length as warcio takes it (0 for "-1" or "abc")
                warned = it.err_count
                entry["offset"] = it.get_record_offset()  # (warcio knows it once the record is read)
                # warcio's "Record not followed by newline, perhaps Content-Length is invalid"
                entry["warned"] = it.err_count > warned
                records.append(entry)
    except Exception as exc:  # noqa: BLE001 - warcio's own failure on the file, reported
        return records, f"{type(exc).__name__}: {exc}"
    return records, None


def compare(path: Path, split_bytes: int) -> dict[str, Any]:
    """One file's row: our counts, warcio's, and every disagreement named."""
    row: dict[str, Any] = {"file": f"{path.parent.name}/{path.name}", "bytes": path.stat().st_size,
                           "disagreements": [], "notes": []}
    bad = row["disagreements"]
    docs, counts, crash = ours(path, None)
    if crash:
        bad.append(f"crash reading whole: {crash}")
    split_docs, split_counts, split_crash = ours(path, split_bytes)
    if split_crash:
        bad.append(f"crash reading in {split_bytes}-byte splits: {split_crash}")
    row["records"], row["documents"] = counts["records"], counts["documents"]
    row["ignored"] = {k.split(".", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("ignored.")}
    row["skipped"] = {k.split(".", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("skipped.")}
    plain = ("ignored.", "skipped.", "records", "documents", "chars_", "not_html_type")
    row["other_counts"] = {k: v for k, v in sorted(counts.items()) if not k.startswith(plain)}
    accounted = counts["documents"] + sum(v for k, v in counts.items() if k.startswith(("ignored.", "skipped.")))
    if not crash and counts["records"] != accounted:
        bad.append(f"records {counts['records']} != documents + ignored + skipped {accounted}")
    whole = sorted(map(_key, docs))
    if sorted(map(_key, split_docs)) != whole:
        only_whole = set(map(_key, docs)) - set(map(_key, split_docs))
        only_split = set(map(_key, split_docs)) - set(map(_key, docs))
        bad.append(f"{split_bytes}-byte splits give other documents: {len(only_whole)} only whole, "
                   f"{len(only_split)} only split ({sorted(k[0] for k in only_whole | only_split)[:3]})")
    elif split_counts["records"] != counts["records"]:
        bad.append(f"{split_bytes}-byte splits count {split_counts['records']} records, whole {counts['records']}")
    row["splits"] = len(READER.plan(str(path), path.stat().st_size, Options(split_bytes=split_bytes)))

    units = outcomes(path) if not crash else []
    if not crash and sorted(_key(d) for _, o, d in units if o == "document") != whole:
        bad.append("per-record outcomes give other documents than read()")
    by_offset: dict[int | None, list[tuple[str, Any]]] = {}  # (several records share a gzip member's offset)
    for offset, outcome, detail in units:
        by_offset.setdefault(offset, []).append((outcome, detail))
    ref, ref_error = reference(path)
    row["warcio_records"] = len(ref)
    row["warcio_types"] = dict(sorted(Counter(r["type"] for r in ref).items()))
    row["warcio_pages"] = sum(1 for r in ref if "page" in r)
    row["warcio_texts"] = sum(1 for r in ref if "conversion" in r)
    if ref_error:
        row["notes"].append(f"warcio stops after {len(ref)} records: {' '.join(ref_error.split())[:200]}")
    ref_offsets = {r["offset"] for r in ref}
    for entry in ref:
        outcome, detail = (by_offset.get(entry["offset"]) or [(None, None)]).pop(0)
        if "page" in entry:
            if outcome is None:
                bad.append(f"warcio page at offset {entry['offset']} ({entry['url']}): no record of ours starts there")
            elif outcome == "document":
                page, _, _ = decode_html(entry["page"], entry.get("charset"))
                expected = extract(page).text
                if detail.text != expected:
                    bad.append(f"page at offset {entry['offset']} ({entry['url']}): our text differs from the "
                               f"extraction of warcio's payload ({len(detail.text)} vs {len(expected)} chars)")
            elif outcome.split(".", 1)[1] in _POLICY:
                row["notes"].append(f"page at offset {entry['offset']} skipped as {outcome}: "
                                    f"{_POLICY[outcome.split('.', 1)[1]]}")
            elif outcome == "skipped.http_status" and not (entry["protocol"] or "").startswith("HTTP/"):
                row["notes"].append(f"page at offset {entry['offset']} skipped as {outcome}: its status line's "
                                    f"protocol is {entry['protocol']!r}, not HTTP (warcio takes any); policy")
            else:
                bad.append(f"warcio page at offset {entry['offset']} ({entry['url']}) is our {outcome}: {detail}")
        elif "conversion" in entry:
            text = decode_html(entry["conversion"])[0].lstrip("\ufeff").strip()
            if outcome == "document" and detail.text != text:
                bad.append(f"conversion at offset {entry['offset']} ({entry['url']}): our text differs from warcio's")
            elif outcome != "document" and (text or outcome != "skipped.empty_text"):
                bad.append(f"conversion at offset {entry['offset']} ({entry['url']}) with {len(text)} chars of text "
                           f"is our {outcome}: {detail}")
        elif outcome is not None and outcome.startswith("skipped.") and outcome.split(".", 1)[1] in _DAMAGE:
            what = f"record at offset {entry['offset']} ({entry['type']} {entry['url']}) is our {outcome}"
            if entry["warned"]:
                row["notes"].append(f"{what}; warcio reads it but warns its Content-Length is invalid; policy: a "
                                    "length that does not end at a record boundary is damage")
            elif (entry["block"] or 0) <= 2:
                row["notes"].append(f"{what}; warcio reads a record of {entry['block']} bytes there (length field "
                                    f"{entry['length']!r}): no payload lost")
            else:
                bad.append(f"{what} where warcio reads it: {detail}")
    for offset, left in by_offset.items():  # our records warcio did not read (or read fewer of there)
        if left:
            where = "warcio reads fewer records there" if offset in ref_offsets else "warcio has no record there"
            tally = ", ".join(f"{k} {v}" for k, v in sorted(Counter(o for o, _ in left).items()))
            row["notes"].append(f"offset {offset}: {tally} of ours; {where}")
    return row


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "refinery-package-archives")
    parser.add_argument("--split-bytes", type=int, default=4000)
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--rewrite", action="store_true",
                        help="also read every archive as warcio's WARCWriter writes it again (gzip and plain)")
    args = parser.parse_args()
    try:
        import warcio  # noqa: F401 - the reference reader (refinery's dev and bench extras)
    except ImportError:
        sys.exit("warcio is not installed (pip install 'refinery[bench]'): there is no reference to compare with")
    sdists = download(args.cache)
    rows = []
    for sdist in sdists:
        paths = sorted(extract_archives(sdist, args.cache / "archives"))
        if args.rewrite:
            paths += [r for path in paths for r in rewrite(path, args.cache / "rewritten-by-warcio")]
        for path in paths:
            try:
                rows.append(compare(path, args.split_bytes))
            except Exception:  # noqa: BLE001 - the bench's own failure on one file: reported, the rest go on
                rows.append({"file": f"{path.parent.name}/{path.name}", "disagreements": [traceback.format_exc()]})
    print("| file | bytes | splits | warcio records (types) | warcio pages / texts | our records | documents | "
          "ignored | skipped | disagreements |")
    print("|---|---:|---:|---|---:|---:|---:|---|---|---:|")
    for r in rows:
        print(f"| {r['file']} | {r.get('bytes', '')} | {r.get('splits', '')} | {r.get('warcio_records', '')} "
              f"({_fmt(r.get('warcio_types', {}))}) | {r.get('warcio_pages', '')} / {r.get('warcio_texts', '')} | "
              f"{r.get('records', '')} | {r.get('documents', '')} | {_fmt(r.get('ignored', {}))} | "
              f"{_fmt(r.get('skipped', {}))} | {len(r['disagreements'])} |")
    print()
    for r in rows:
        for line in r["disagreements"]:
            print(f"DISAGREE {r['file']}: {line}")
        for line in r.get("notes", []):
            print(f"note {r['file']}: {line.strip().splitlines()[0]}")
    total = sum(len(r["disagreements"]) for r in rows)
    print(f"{len(rows)} files, {sum(r.get('warcio_pages', 0) for r in rows)} warcio HTML pages and "
          f"{sum(r.get('warcio_texts', 0) for r in rows)} WET texts, {sum(r.get('documents', 0) for r in rows)} "
          f"documents, {total} disagreements")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
