"""Agreement of our Gopher, C4 and FineWeb filters with datatrove's on the real pages in shared/data/web.

Texts: every HTML page of the WARCs (HTTP 200, > 1 kB) and of the article-extraction benchmark, extracted
with resiliparse's ``extract_plain_text(main_content=True)``. Datatrove runs in its own virtualenv
(``bash bench/make_datatrove_venv.sh`` first) on the same texts through bench/datatrove_decisions.py.

    .venv/bin/python bench/filter_agreement.py [--out bench/results/filter_agreement.json]

Prints the agreement of the chain's keep/drop decisions, of each filter on its own input, of the reasons,
the word-count agreement of our regex splitter with spaCy's tokenizer, and lists every disagreement with
both reasons and the signal values that decided ours.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.filters.base import compute_signals, decide, signal_schema  # noqa: E402
from pipeline.filters.chain import ChainSpec, build  # noqa: E402
from pipeline.filters.language import bundled_model_path  # noqa: E402
from pipeline.filters.words import split_words  # noqa: E402

WEB = REPO.parent / "shared" / "data" / "web"
DT_PYTHON = REPO / ".bench-venv-datatrove" / "bin" / "python"
FILTERS = ("language", "gopher_repetition", "gopher_quality", "c4", "fineweb")
# datatrove's reason -> our rule
REASONS = {
    "gopher_short_doc": "min_words", "gopher_long_doc": "max_words",
    "gopher_below_avg_threshold": "min_mean_word_length", "gopher_above_avg_threshold": "max_mean_word_length",
    "gopher_too_many_hashes": "max_hash_ratio", "gopher_too_many_ellipsis": "max_ellipsis_ratio",
    "gopher_too_many_bullets": "max_bullet_lines", "gopher_too_many_end_ellipsis": "max_ellipsis_lines",
    "gopher_below_alpha_threshold": "min_alpha_words", "gopher_enough_stop_words": "min_stop_words",
    "dup_para_frac": "max_dup_para_frac", "dup_para_char_frac": "max_dup_para_char_frac",
    "dup_line_frac": "max_dup_line_frac", "dup_line_char_frac": "max_dup_line_char_frac",
    **{f"top_{n}_gram": f"max_top_{n}_gram" for n in (2, 3, 4)},
    **{f"duplicated_{n}_n_grams": f"max_dup_{n}_gram" for n in range(5, 11)},
    "lorem_ipsum": "lorem_ipsum", "curly_bracket": "curly_bracket",
    "too_few_sentences": ("min_sentences", "no_lines_left"),
    "empty": "empty", "line_punct_ratio": "min_line_punct", "short_line_ratio": "max_short_lines",
    "char_dup_ratio": "max_dup_line_chars", "list_ratio": "max_newline_words",
    "dropped": ("not_in_keep_list", "low_score"),  # datatrove's language filter gives no reason
}


def web_texts() -> list[dict[str, str]]:
    """(name, text) of every real HTML page in shared/data/web, extracted with resiliparse."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    def extract(body: bytes) -> str:
        return extract_plain_text(bytes_to_str(body, detect_encoding(body)), main_content=True)

    out = []
    for path in sorted(WEB.glob("*.warc*")):
        if ".wet" in path.name or ".wat" in path.name:
            continue
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
                headers = rec.http_headers
                if headers is None or headers.status_code != 200 or "html" not in (
                        headers.get("Content-Type") or ""):
                    continue
                body = rec.reader.read()
                if len(body) > 1000:
                    out.append({"id": f"{path.name}#{rec.record_id}", "text": extract(body),
                                "url": rec.headers.get("WARC-Target-URI")})
    with tarfile.open(WEB / "article-extraction-benchmark-html.tar") as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.name.endswith(".html.gz"):
                body = gzip.decompress(tar.extractfile(member).read())  # type: ignore[union-attr]
                out.append({"id": member.name.rsplit("/", 1)[-1], "text": extract(body), "url": None})
    return out


def same_reason(ours: str | None, theirs: str | None) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    (f1, r1), (f2, r2) = ours.split(":"), theirs.split(":")
    expected = REASONS.get(r2)
    return f1 == f2 and (r1 == expected or (isinstance(expected, tuple) and r1 in expected))


def run_datatrove(rows: list[dict], repeats: int = 1, timing_only: bool = False) -> dict:
    """Datatrove's decisions and chain seconds on ``rows``, from its own virtualenv."""
    if not DT_PYTHON.exists():
        sys.exit(f"{DT_PYTHON} not found: run `bash bench/make_datatrove_venv.sh` first")
    with tempfile.TemporaryDirectory() as tmp:
        texts_path, dt_path = Path(tmp) / "texts.jsonl", Path(tmp) / "dt.json"
        texts_path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows))
        subprocess.run([str(DT_PYTHON), str(REPO / "bench" / "datatrove_decisions.py"), str(texts_path),
                        str(dt_path), "--repeats", str(repeats), "--lid-model", bundled_model_path()]
                       + (["--timing-only"] if timing_only else []),
                       check=True)
        return json.loads(dt_path.read_text())


def our_decisions(texts: list[str]) -> dict[str, list]:
    chain = build(ChainSpec.model_validate({name: {} for name in FILTERS}))
    columns = compute_signals(chain, texts, [None] * len(texts), 1_000_000)
    table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
    out: dict[str, list] = {"table": table.to_pylist()}
    full = decide(chain, table, 1_000_000)
    out["chain"] = [None if f is None else f"{f}:{r}" for f, r in zip(full.filter, full.rule)]
    for flt in chain:
        alone = decide([flt], table, 1_000_000)
        out[flt.name] = list(alone.rule)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="also write the per-document comparison as JSON")
    args = parser.parse_args()
    rows = web_texts()
    theirs = run_datatrove(rows)["docs"]
    ours = our_decisions([r["text"] for r in rows])

    n = len(rows)
    theirs_chain = [theirs[r["id"]]["chain"] for r in rows]
    keep_agree = sum((a is None) == (b is None) for a, b in zip(ours["chain"], theirs_chain))
    reason_agree = sum(same_reason(a, b) for a, b in zip(ours["chain"], theirs_chain))
    print(f"documents: {n} ({sum(c is None for c in theirs_chain)} kept by datatrove)")
    print(f"chain keep/drop agreement: {keep_agree}/{n} = {keep_agree / n:.2%}")
    print(f"chain first-reason agreement: {reason_agree}/{n} = {reason_agree / n:.2%}")
    for name in FILTERS:
        pairs = [(ours[name][i], theirs[r["id"]][name]) for i, r in enumerate(rows)
                 if not theirs[r["id"]].get(f"{name}_na")]
        agree = sum((a is None) == (b is None) for a, b in pairs)
        print(f"  {name}: keep/drop agreement {agree}/{len(pairs)} = {agree / len(pairs):.2%}")
    ratio = np.array([len(split_words(r["text"])) / max(theirs[r["id"]]["n_tokens"], 1) for r in rows])
    print(f"word count, ours / spaCy: median {np.median(ratio):.4f}, 5th-95th percentile "
          f"{np.percentile(ratio, 5):.4f}-{np.percentile(ratio, 95):.4f}")
    print("\ndisagreements (ours vs datatrove):")
    report = []
    for i, r in enumerate(rows):
        a, b = ours["chain"][i], theirs_chain[i]
        if (a is None) != (b is None):
            filt = (a or b).split(":")[0]
            signals = {k.split(".", 1)[1]: round(v, 4) if isinstance(v, float) else v
                       for k, v in ours["table"][i].items() if k.startswith(filt + ".")}
            print(f"- {r['id']}: ours {a or 'keep'}, datatrove {b or 'keep'}; our {filt} signals {signals}")
            report.append({"id": r["id"], "ours": a, "datatrove": b, "signals": signals})
    print("\nsame decision, different first reason:")
    for i, r in enumerate(rows):
        a, b = ours["chain"][i], theirs_chain[i]
        if a is not None and b is not None and not same_reason(a, b):
            filt = a.split(":")[0]
            signals = {k.split(".", 1)[1]: round(v, 4) if isinstance(v, float) else v
                       for k, v in ours["table"][i].items() if k.startswith(filt + ".")}
            print(f"- {r['id']}: ours {a}, datatrove {b}; our {filt} signals {signals}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"n": n, "keep_agreement": keep_agree / n,
                                              "disagreements": report}, indent=1))


if __name__ == "__main__":
    main()
