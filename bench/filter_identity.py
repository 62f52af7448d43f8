"""Byte identity of the filter stage between two checkouts, on the same input shards.

``prepare OUT`` makes a run folder ``OUT/ident`` with one checkout (``--repo``, default this one): the crawl
stage reads four sources, the filter stage then runs once: ``web`` (e2e_bench's shared HTML WARCs, commoncrawl kind:
the full chain, C4 and PII rewriting every kept page), ``zhwiki`` and ``enwiki`` (the shared dumps, wikipedia
kind: PII the only rewriting filter) and ``pii`` (a JSON-lines file of paragraphs written here, some holding
e-mails and public or private IPs, C4 off: some kept texts redacted, most passed through).
``compare OUT --repo A --repo B`` copies that run once per checkout, deletes the filter stage's outputs and
records, runs the filter stage alone (``pipeline.stages.filter.run``, in-process executor) with each
checkout's code, and compares the sha256 of every file the stage writes: signals, kept documents, removal
ledgers, the completion records and the statistics. In the JSON files the run folder's path is replaced by
a placeholder, and the completion records' ``task_digest`` (a hash of the task's payload, which names the
run folder, and of its input files' modification times) and the ``signal_ms.*`` counts (CPU timings of the
filters) are dropped; nothing else is.

    .venv/bin/python bench/filter_identity.py prepare /tmp/ident --repo /work/main
    .venv/bin/python bench/filter_identity.py compare /tmp/ident --repo /work/main --repo .
    .venv/bin/python bench/filter_identity.py compare /tmp/fbase --run e2e --repo /work/main --repo .

(the last one: ``bench/filter_stage_profile.py prepare``'s 15-copy run, its manifest as it is.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "bench"))
from e2e_bench import build_input  # noqa: E402
from filter_stage_profile import FILTER_OUTPUTS  # noqa: E402

WIKI = {"zhwiki": "wiki/zhwiki-test-pages.xml",
        "enwiki": "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"}
CHILD = r"""
import json, sys
from pathlib import Path
repo, manifest_path = sys.argv[1], sys.argv[2]
sys.path.insert(0, repo)
import pipeline
assert Path(pipeline.__file__).resolve().is_relative_to(Path(repo).resolve()), pipeline.__file__
from pipeline.executors import InProcessExecutor
from pipeline.manifest import load_manifest
from pipeline.stage import RunContext
from pipeline.stages import filter as filter_stage
manifest = load_manifest(manifest_path)
inputs = json.loads((manifest.run_dir / "stats" / "crawl.json").read_text())["outputs"]
filter_stage.run(RunContext(manifest, InProcessExecutor(), progress_every_s=1e9), inputs)
"""


def pii_documents(n: int = 60, seed: int = 1) -> list[dict]:
    """Paragraphs of English prose, every third with an e-mail, a public or a private address in it."""
    rng = random.Random(seed)
    words = ("the river valley was settled early and its farms grew grain for the towns along the coast while "
             "traders carried wool and salt inland during the long summers of the last century").split()
    extras = ["Write to ana.lopez@example.org for details.", "The mirror is at 8.8.4.4 and 1.1.1.1 today.",
              "Our office router is 192.168.1.1 on the local network.", "Its IPv6 address is 2001:4860:4860::8888.",
              "Version 1.2.3.4 of the tool shipped in May.", "Contact: webmaster@wikipedia.org or 9.9.9.9."]
    docs = []
    for i in range(n):
        lines = [" ".join(rng.choice(words) for _ in range(rng.randint(12, 30))).capitalize() + "."
                 for _ in range(rng.randint(4, 9))]
        if i % 3 == 0:
            lines.insert(rng.randrange(len(lines) + 1), extras[(i // 3) % len(extras)])
        docs.append({"id": f"p{i:03d}", "text": "\n".join(lines)})
    return docs


def prepare(out: Path, repo: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    build_input(out / "input" / "web", 1)  # e2e_bench's WARCs, once
    with open(out / "input" / "pii.jsonl", "w") as fh:
        for doc in pii_documents():
            fh.write(json.dumps(doc) + "\n")
    manifest = {
        "run": {"name": "ident", "output_dir": str(out), "seed": 1},
        "ray": {"num_cpus": 1, "in_process": True},
        "sources": [{"name": "web", "kind": "commoncrawl", "paths": [str(out / "input" / "web" / "*.warc.gz")]},
                    *({"name": name, "kind": "wikipedia", "paths": [str(DATA / path)]}
                      for name, path in WIKI.items()),
                    {"name": "pii", "kind": "jsonl", "paths": [str(out / "input" / "pii.jsonl")]}],
        "stages": {"order": ["crawl", "filter"],
                   "filter": {"per_source": {"pii": {"c4": None, "url": None,
                                                     "language": {"languages": None}}}}},
    }
    (out / "ident.yaml").write_text(yaml.safe_dump(manifest))
    subprocess.run([sys.executable, "-m", "pipeline", "run", str(out / "ident.yaml")], cwd=repo, check=True)


def digest(run_dir: Path) -> dict[str, str]:
    """sha256 of every file the filter stage wrote; JSON files without the run folder, digests and timings."""
    out = {}
    for name in [n for n in FILTER_OUTPUTS if n != "report"]:
        top = run_dir / name
        for path in sorted([top] if top.is_file() else top.rglob("*") if top.is_dir() else []):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if path.suffix in (".json", ".jsonl"):
                data = data.replace(str(run_dir.parent).encode(), b"<OUT>")
                rows = [json.loads(line) for line in data.decode().splitlines()] if path.suffix == ".jsonl" \
                    else [json.loads(data)]
                for row in rows:
                    row.pop("task_digest", None)  # a hash of the payload (the run folder) and input mtimes
                    counts = row.get("counts", {})
                    for key in [k for k in counts if k.startswith("signal_ms.")]:
                        del counts[key]
                data = "\n".join(json.dumps(row, sort_keys=True) for row in rows).encode()
            out[str(path.relative_to(run_dir))] = hashlib.sha256(data).hexdigest()
    return out


def run_filter(base: Path, run: str, repo: Path, work: Path) -> dict[str, str]:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(base / run, work / run, symlinks=True)
    for name in FILTER_OUTPUTS:
        path = work / run / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    text = (base / f"{run}.yaml").read_text().replace(f"output_dir: {base}\n", f"output_dir: {work}\n")
    manifest = work / f"{run}.yaml"
    manifest.write_text(text)
    subprocess.run([sys.executable, "-c", CHILD, str(repo), str(manifest)], cwd=repo, check=True)
    return digest(work / run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("prepare", "compare"))
    parser.add_argument("out", type=Path)
    parser.add_argument("--repo", type=Path, action="append")
    parser.add_argument("--run", default="ident", help="the run's name (its folder and OUT/<run>.yaml)")
    args = parser.parse_args()
    out = args.out.resolve()
    repos = [r.resolve() for r in (args.repo or [REPO])]
    if args.action == "prepare":
        prepare(out, repos[0])
        return
    digests = [run_filter(out, args.run, repo, out / f"cmp{i}") for i, repo in enumerate(repos)]
    first = digests[0]
    differ = sorted(k for d in digests[1:] for k in set(first) | set(d) if first.get(k) != d.get(k))
    kinds: dict[str, int] = {}
    for path in first:
        kinds[path.split("/")[0]] = kinds.get(path.split("/")[0], 0) + 1
    print(f"{len(first)} files ({kinds}); {len(differ)} differ" + "".join(f"\n  {k}" for k in differ[:20]))
    for i in range(len(repos)):
        shutil.rmtree(out / f"cmp{i}", ignore_errors=True)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
