"""The commoncrawl reader's documents and counts on every shared WARC/ARC, this checkout against another revision.

Why: a reader change meant for other writers' archives must not change what the shared crawls give unless it
means to. Each file is read whole with default options by both revisions (the other one's reader modules loaded
under another package name, as bench/warc_framing_ab.py does) and the documents are compared by key, text hash,
charset and URL, the counts by name. Prints each difference; no timing.

    taskset -c 0 python bench/reader_docs_ab.py [--ref main] [FILES...]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from contracts.accounting import Tally  # noqa: E402
from pipeline.readers import commoncrawl  # noqa: E402
from warc_framing_ab import load_ref  # noqa: E402

WEB = REPO.parent / "shared" / "data" / "web"


def documents(module, path: Path) -> tuple[dict[str, tuple], dict[str, int]]:
    options, tally, docs = module.Options(), Tally(), {}
    for split in module.plan(str(path), path.stat().st_size, options):
        for doc in module.read(split, options, tally):
            docs[doc.key] = (hashlib.sha1(doc.text.encode()).hexdigest()[:16], doc.meta.get("charset"), doc.url)
    return docs, {k: v for k, v in tally.counts.items() if not k.startswith("chars_")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="main")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    files = args.files or sorted(p for p in WEB.iterdir() if ".warc" in p.name or ".arc" in p.name)
    ref = load_ref(args.ref)
    changed = 0
    for path in files:
        new_docs, new_counts = documents(commoncrawl, path)
        old_docs, old_counts = documents(ref, path)
        diffs = [f"only {args.ref}: {k}" for k in sorted(old_docs.keys() - new_docs.keys())]
        diffs += [f"only here: {k}" for k in sorted(new_docs.keys() - old_docs.keys())]
        diffs += [f"differs: {k} {old_docs[k]} -> {new_docs[k]}" for k in sorted(old_docs.keys() & new_docs.keys())
                  if old_docs[k] != new_docs[k]]
        names = sorted(old_counts.keys() | new_counts.keys())
        diffs += [f"count {k}: {old_counts.get(k, 0)} -> {new_counts.get(k, 0)}" for k in names
                  if old_counts.get(k, 0) != new_counts.get(k, 0)]
        changed += bool(diffs)
        print(f"{path.name}: {len(new_docs)} documents, {new_counts.get('records', 0)} records, "
              f"{'same' if not diffs else f'{len(diffs)} differences'}")
        for line in diffs[:20]:
            print(f"    {line}")
    print(f"{len(files)} files, {changed} with differences against {args.ref}")


if __name__ == "__main__":
    main()
