"""Per input file: what it held, how many documents came out, and why every other record did not.

The worst defect a corpus can have is good text that vanished without a trace: a whole book counted as one
``empty_text`` skip among fifteen, a page whose article the extractor dropped. So the crawl stage keeps one
entry per input file (merged over the file's splits by ``contracts.accounting.merge_file_entry``) and names, in the stage statistics and at the top of
the report, every file that yielded no document, or far fewer characters than it held.

An entry (``stats/crawl.json`` -> ``files.<path>``)::

    {"source": "books", "kind": "books", "bytes": 374248, "docs_out": 1, "chars_held": 366512,
     "chars_out": 351077, "records": 1, "skipped": {}, "ignored": {}}

* ``chars_held``: the text the file offered its extractor, counted by the reader: decoded HTML of the
  usable HTTP responses (web), wikitext of the articles sent to extraction (wikipedia), the decoded book
  (books). Readers that do not count it (jsonl, parquet: their text is already the document) fall back to
  the characters they handed out.
* ``records`` = ``docs_out`` + record skips + ``ignored`` (request/metadata WARC records); skips that
  describe the file rather than a record (``FILE_NOTES``) are listed but not counted as records. The
  per-file invariant, tested on every shared input, is that this equals the records the file holds,
  counted independently of our readers.

A file "yielded little" when ``chars_out / chars_held`` is below its kind's ``LITTLE_RATIO``. The ratios
sit under what every whole file of each kind in ../shared/data keeps (measured through the crawl stage,
``tests/pipeline/test_file_accounting.py``), so that a flag means text was lost, not that pages carry
much markup:

* commoncrawl 0.002: a file's main text is 0.24 % (vk.com's login page, 67 characters) to 75 % of its
  decoded HTML, 0.7-22 % for most; below 0.2 % the extractor kept almost nothing of any page;
* wikipedia 0.1: prose is 39-56 % of the wikitext of the six shared dumps (references, tables removed);
* books 0.5: the nine shared books keep 91-100 %; Project Gutenberg's header and licence are about
  20 kB, so a book that keeps less than half of its text lost part of its body;
* jsonl, parquet 0.5: only cleaning (whitespace, control characters) stands between input and output.

The statistics hold one entry per input file (a few hundred bytes each: about 30 MB of JSON for a whole
Common Crawl dump of 90,000 WARC files); the report reads only the flagged ones.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

LITTLE_RATIO: dict[str, float] = {"commoncrawl": 0.002, "wikipedia": 0.1, "books": 0.5, "jsonl": 0.5,
                                  "parquet": 0.5}
DEFAULT_LITTLE_RATIO = 0.1
# Skip reasons that describe a file's damage, not one of its records (the records it did hold are counted
# under their own reasons): a dump cut short, bytes between pages, a file that is not a dump at all, the
# bytes a WARC record's short Content-Length leaves before the next record (the record itself is read).
FILE_NOTES = frozenset({"truncated_dump", "not_mediawiki_xml", "stray_data", "short_content_length"})
MAX_FLAGGED = 200  # files named per flag in the statistics; the count is always exact


def file_entry(counts: Counter, source: str, kind: str, size: int | None) -> dict[str, Any]:
    """One split's entry, from the counts of the crawl task that read it (one task reads one split)."""
    skipped = {k.removeprefix("skipped."): v for k, v in sorted(counts.items()) if k.startswith("skipped.") and v}
    ignored = {k.removeprefix("ignored."): v for k, v in sorted(counts.items()) if k.startswith("ignored.") and v}
    held = counts.get("chars_held", counts.get("chars_in", 0))
    entry = {"source": source, "kind": kind, "bytes": size or 0, "docs_out": counts.get("docs_out", 0),
             "chars_held": held, "chars_out": counts.get("chars_out", 0), "skipped": skipped,
             "ignored": ignored}
    entry["records"] = record_count(entry)
    return entry


def record_count(entry: dict[str, Any]) -> int:
    """Records accounted for: documents out, record skips and ignored records."""
    skips = sum(v for reason, v in entry["skipped"].items() if reason not in FILE_NOTES)
    return entry["docs_out"] + skips + sum(entry["ignored"].values())


def verdict(entry: dict[str, Any]) -> str | None:
    """``"nothing"``, ``"little"`` or None (the file yielded what it should)."""
    if entry["docs_out"] == 0:
        return "nothing"
    ratio = LITTLE_RATIO.get(entry["kind"], DEFAULT_LITTLE_RATIO)
    if entry["chars_held"] and entry["chars_out"] / entry["chars_held"] < ratio:
        return "little"
    return None


def flagged(files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The files that yielded nothing or little, each with why (its skip reasons), for stats and report."""
    out: dict[str, Any] = {"nothing": [], "little": [], "nothing_count": 0, "little_count": 0,
                           "little_ratio": LITTLE_RATIO}
    for path, entry in sorted(files.items()):
        which = verdict(entry)
        if which is None:
            continue
        out[f"{which}_count"] += 1
        if len(out[which]) < MAX_FLAGGED:
            ratio = entry["chars_out"] / entry["chars_held"] if entry["chars_held"] else None
            out[which].append({"file": path, "source": entry["source"], "kind": entry["kind"],
                               "bytes": entry["bytes"], "records": entry["records"], "docs_out": entry["docs_out"],
                               "chars_held": entry["chars_held"], "chars_out": entry["chars_out"],
                               "kept_ratio": ratio, "skipped": entry["skipped"],
                               # records the reader does not turn into text (warcinfo, request, revisit,
                               # metadata): a file of only these yields nothing, and this says so
                               "ignored": entry.get("ignored", {})})
    return out
