"""Every signal, decision and rewritten text of the shared zh/ja/de/en documents, to show that a change of
the filters' code leaves them as they were (issue 13: the speed work on the Chinese word filters).

    python bench/multilingual_snapshot.py save REPO OUT.json     # the filters of the checkout at REPO
    python bench/multilingual_snapshot.py compare A.json B.json  # per set: documents whose values differ

Sets: each shared wiki dump and book (zhwiki, jawiki, dewiki, enwiki, Hongloumeng, Faust I) through the
default chain of its kind and through the full web word chain in its declared language; the documents of
bench/multilingual_agreement.py (zh, ja, de) in both its settings; every page of the shared WARCs through
the commoncrawl default chain and the word chain. ``REPO`` is a checkout (e.g. ``git archive`` of an older
commit with the compiled extensions copied in) whose ``pipeline`` and ``bench`` are imported.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections import Counter


def save(repo: str, out_path: str) -> None:
    sys.path[:0] = [repo, repo + "/bench"]
    import multilingual_agreement as ma
    import multilingual_bench as mb
    import pyarrow as pa

    from pipeline.filters.base import analysis_languages, compute_signals, decide, rewrite_kept, signal_schema
    from pipeline.filters.chain import ChainSpec, build, resolve

    out: dict[str, dict] = {}

    def run(name: str, chain: list, texts: list[str], langs: list[str | None]) -> None:
        cols = compute_signals(chain, texts, [None] * len(texts), 100_000_000, declared=langs)
        table = pa.table({"id": [str(i) for i in range(len(texts))], **cols}, schema=signal_schema(chain))
        dec = decide(chain, table, 100_000_000, langs)
        detected = table["language"].to_pylist() if "language" in table.column_names else None
        lang_of = analysis_languages(detected, langs, len(texts))
        kept = [t for t, k in zip(texts, dec.kept) if k]
        rewritten = rewrite_kept(chain, kept, Counter(), "s", [lg for lg, k in zip(lang_of, dec.kept) if k])
        out[name] = {"decisions": [f"{f}.{r}" if f else None for f, r in zip(dec.filter, dec.rule)],
                     "signals": [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
                                 for row in table.to_pylist()],
                     "rewritten": [hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest() for t in rewritten]}
        print(f"{name}: {len(texts)} documents, kept {int(dec.kept.sum())}", flush=True)

    words = ChainSpec.model_validate(mb.WORD_RULES)
    for name, (kind, _) in mb.FILES.items():
        docs = mb.documents(name)
        texts, langs = [d.text for d in docs], [d.meta.get("language") for d in docs]
        run(f"{name}/default", build(resolve(kind, {}, None)), texts, langs)
        run(f"{name}/words", build(words), texts, langs)
    for lang in ("zh", "ja", "de"):
        texts = [r["text"] for r in ma.documents(lang)]
        for setting in ("ours", "fineweb2"):
            run(f"agreement-{lang}/{setting}", ma.setting(setting, lang)[0], texts, [lang] * len(texts))
    pages = []
    for path in sorted((ma.DATA / "web").glob("*.warc*")):
        if ".wet" not in path.name and ".wat" not in path.name:
            pages += [d.text for d in ma._read("commoncrawl", f"web/{path.name}")]
    run("web/default", build(resolve("commoncrawl", {}, None)), pages, [None] * len(pages))
    run("web/words", build(words), pages, [None] * len(pages))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


def compare(a_path: str, b_path: str) -> int:
    a, b = (json.load(open(p, encoding="utf-8")) for p in (a_path, b_path))
    differ = 0
    for name in a:
        if name not in b:
            print(f"{name}: missing in {b_path}")
            differ += 1
            continue
        x, y = a[name], b[name]
        n = {key: sum(p != q for p, q in zip(x[key], y[key])) + abs(len(x[key]) - len(y[key]))
             for key in ("decisions", "signals", "rewritten")}
        differ += any(n.values())
        print(f"{name}: {len(x['decisions'])} documents; decisions differ {n['decisions']}, signal rows differ "
              f"{n['signals']}, rewritten texts differ {n['rewritten']}")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("save")
    p.add_argument("repo")
    p.add_argument("out")
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    args = parser.parse_args()
    if args.command == "save":
        save(args.repo, args.out)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
