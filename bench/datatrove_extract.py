"""Datatrove's reading and extraction of WARC files, page by page; runs inside .bench-venv-datatrove.

What bench/datatrove_e2e.py's WarcReader -> Trafilatura(favour_precision) steps hand to the filters, without
the filters: for every record datatrove's WarcReader keeps (its ``process_record``: response records of an
HTML payload type, decoded as UTF-8 or by cchardet), the file name, WARC-Record-ID, URL, the HTML's length,
trafilatura's text (as datatrove's extractor calls it, but in this process and without its 1 s timeout) and
the CPU seconds the extraction took (over 1 s, datatrove's sandbox would have dropped the page as a timeout).
bench/e2e_agreement.py uses it to tell extraction differences from filter differences. With ``--html`` each
line also holds the decoded HTML datatrove handed to trafilatura (``html``), so the same input can be given to
another trafilatura version (e2e_agreement's ``--extractor trafilatura``: version against input differences).

    .bench-venv-datatrove/bin/python bench/datatrove_extract.py INPUT_DIR OUT.jsonl [--html]

``--pages``: INPUT is a JSONL file of already decoded pages ({"id", "html"}) instead of a folder of WARCs (pages
that come as files, with no WARC record: bench/e2e_agreement_sets.py); its reader is skipped and each line out
holds the id, trafilatura's text and the CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def extract_pages(pages: str, out_path: str) -> None:
    """Datatrove's extractor (as above) on each decoded page of the JSONL file ``pages``."""
    from datatrove.pipeline.extractors import Trafilatura

    extractor = Trafilatura(favour_precision=True)
    with open(pages, encoding="utf-8") as fh, open(out_path, "w", encoding="utf-8") as out:
        for line in fh:
            page = json.loads(line)
            started = time.process_time()
            text = extractor.extract(page["html"])
            seconds = time.process_time() - started
            out.write(json.dumps({"id": page["id"], "text": text or "", "seconds": round(seconds, 4)},
                                 ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("input_dir")
    parser.add_argument("out")
    parser.add_argument("--html", action="store_true", help="also write the decoded HTML of each page")
    parser.add_argument("--pages", action="store_true", help="INPUT is a JSONL file of {id, html} (no reader)")
    args = parser.parse_args()
    if args.pages:
        extract_pages(args.input_dir, args.out)
        return

    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers.warc import process_record
    from warcio.archiveiterator import ArchiveIterator

    extractor = Trafilatura(favour_precision=True)
    with open(args.out, "w", encoding="utf-8") as out:
        for path in sorted(Path(args.input_dir).glob("*.warc.gz")):
            with open(path, "rb") as fh:
                for record in ArchiveIterator(fh):
                    page = process_record(record)
                    if page is None:
                        continue
                    started = time.process_time()
                    text = extractor.extract(page["text"])
                    seconds = time.process_time() - started
                    row = {"file": path.name, "id": page["id"], "url": page["url"], "html_chars": len(page["text"]),
                           "text": text or "", "seconds": round(seconds, 4)}
                    if args.html:
                        row["html"] = page["text"]
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
