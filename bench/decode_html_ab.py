"""``decode_html`` over every shared HTML page, this checkout against another one: same texts? how fast?

Why: the charset path runs on every page of the crawl stage; a change to it must keep what the shared data
gives (or say which pages change) and say what it costs. Pages: every response/resource payload of the
shared WARC/ARC files (with the charset of its HTTP Content-Type, as the commoncrawl reader passes it) and
every ``.htm(l)`` member of the shared extraction tars (no header). Each checkout runs in its own process
(``--worker``), ``--reps`` times alternately; the time is the sum of ``decode_html`` calls, the median of
the reps per checkout.

    taskset -c 0 python bench/decode_html_ab.py --other /work/main [--reps 7]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WEB = REPO.parent / "shared" / "data" / "web"
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)


def pages() -> list[tuple[str, bytes, str | None]]:
    """(name, body, declared charset) of every shared page."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    for path in sorted(WEB.iterdir()):
        if re.search(r"\.(warc|arc)(\.gz)?$", path.name):
            with open(path, "rb") as fh:
                for i, record in enumerate(ArchiveIterator(fh, arc2warc=True)):
                    if record.rec_type not in ("response", "resource"):
                        continue
                    content_type = (record.http_headers.get_header("Content-Type") if record.http_headers
                                    else record.rec_headers.get_header("Content-Type")) or ""
                    if "html" not in content_type.lower():
                        continue
                    declared = _CHARSET.search(content_type)
                    out.append((f"{path.name}#{i}", record.content_stream().read(), declared and declared.group(1)))
        elif ".tar" in path.name:
            raw = open(path, "rb")
            if path.name.endswith(".zst"):
                import zstandard  # Python's tarfile reads no zstd

                raw = zstandard.ZstdDecompressor().stream_reader(raw)
            with raw, tarfile.open(fileobj=raw, mode="r|*") as tar:
                for member in tar:
                    if member.isfile() and member.name.lower().endswith((".html", ".htm")):
                        out.append((f"{path.name}:{member.name}", tar.extractfile(member).read(), None))
    return out


def worker(repo: str, cache: str) -> None:
    sys.path.insert(0, repo)
    from pipeline.extract.html import decode_html

    items = json.loads(Path(cache).read_text())
    bodies = [(n, bytes.fromhex(b), d) for n, b, d in items]
    seconds, digests = 0.0, {}
    for name, body, declared in bodies:
        start = time.perf_counter()
        text, charset, replaced = decode_html(body, declared)
        seconds += time.perf_counter() - start
        digests[name] = [hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16], charset, replaced]
    print(json.dumps({"seconds": seconds, "digests": digests}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="the other checkout (e.g. /work/main)")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    cache = Path("/tmp/decode_html_ab_pages.json")
    items = pages()
    cache.write_text(json.dumps([(n, b.hex(), d) for n, b, d in items]))
    print(f"{len(items)} pages, {sum(len(b) for _, b, _ in items) / 1e6:.1f} MB")
    runs: dict[str, list] = {"here": [], "other": []}
    for _ in range(args.reps):
        for side, repo in (("other", args.other), ("here", REPO)):
            out = subprocess.run([sys.executable, __file__, "--other", str(args.other), "--worker", str(repo),
                                  str(cache)], check=True, capture_output=True, text=True, cwd=repo).stdout
            runs[side].append(json.loads(out))
    here, other = runs["here"][0]["digests"], runs["other"][0]["digests"]
    changed = [n for n in here if here[n] != other[n]]
    for name in changed:
        print(f"  differs: {name}: {other[name]} -> {here[name]}")
    t_here = statistics.median(r["seconds"] for r in runs["here"])
    t_other = statistics.median(r["seconds"] for r in runs["other"])
    print(f"{len(changed)} of {len(here)} pages decode differently")
    print(f"decode_html seconds (median of {args.reps}): {args.other} {t_other:.3f}, here {t_here:.3f} "
          f"({t_here / t_other:.3f}x)")


if __name__ == "__main__":
    main()
