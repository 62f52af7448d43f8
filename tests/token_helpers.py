"""Build small token datasets from real books: document shards in DOC_SCHEMA, then the tokenize stage.

Shared by the tokenize-stage tests and the training tests. The stage runs with the in-process executor
(``pipeline.executors.InProcessExecutor``), so most tests need no Ray; one test runs the same stage on a
real local Ray and compares the bytes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml


from pipeline.documents import DOC_SCHEMA, Document
from pipeline.executors import Executor
from pipeline.manifest import LoadedManifest, load_manifest
from pipeline.runner import StageResult
from pipeline.stage import RunContext

BOOKS = {
    "books": ["gutenberg-14263-katrine.txt", "gutenberg-3261-news-from-nowhere.txt"],
    "plays": ["tinyshakespeare.txt"],
    "dictionary": ["gutenberg-972-the-devils-dictionary.txt"],
}


def book_documents(shared_data: Path, files: list[str], chars: int = 3000) -> list[Document]:
    """Real text cut at paragraph breaks into documents of about ``chars`` characters."""
    docs = []
    for name in files:
        text = (shared_data / "books" / name).read_text(encoding="utf-8", errors="replace")
        paragraphs = re.split(r"\n\s*\n", text)
        current: list[str] = []
        for para in paragraphs:
            current.append(para)
            if sum(len(p) for p in current) >= chars:
                docs.append(Document(key=f"{name}:{len(docs)}", text="\n\n".join(current),
                                     url=f"https://example.org/{name}#{len(docs)}"))
                current = []
        if current:
            docs.append(Document(key=f"{name}:{len(docs)}", text="\n\n".join(current),
                                 url=f"https://example.org/{name}#{len(docs)}"))
    return docs


def write_doc_shards(run_dir: Path, source: str, docs: list[Document], per_shard: int) -> list[str]:
    outputs = []
    for start in range(0, len(docs), per_shard):
        relative = f"docs/{source}/{start // per_shard:05d}.parquet"
        rows = [d.to_row(source) for d in docs[start:start + per_shard]]
        (run_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=DOC_SCHEMA), run_dir / relative)
        outputs.append(relative)
    return outputs


def make_manifest(folder: Path, shared_data: Path, tokenize: dict[str, Any],
                  weights: dict[str, float] | None = None, max_epochs: float = 1.0) -> LoadedManifest:
    """A manifest whose run folder is ``folder/out/t`` (relative output_dir: same hash in any folder)."""
    weights = weights or {name: 1.0 for name in BOOKS}
    sources = [{"name": name, "kind": "books", "paths": [str(shared_data / "books" / BOOKS[name][0])],
                "weight": weights[name], "max_epochs": max_epochs} for name in BOOKS]
    data = {"run": {"name": "t", "output_dir": "out", "seed": 7}, "sources": sources,
            "stages": {"order": ["crawl", "tokenize"], "tokenize": tokenize}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_manifest(path)


def build_token_dataset(folder: Path, shared_data: Path, tokenize: dict[str, Any], per_shard: int = 40,
                        executor: Executor | None = None, **manifest_args: Any
                        ) -> tuple[LoadedManifest, dict[str, list[Document]], StageResult]:
    """Write document shards for every source and run the tokenize stage over them."""
    from pipeline.stages import tokenize as stage

    manifest = make_manifest(folder, shared_data, tokenize, **manifest_args)
    docs = {name: book_documents(shared_data, files) for name, files in BOOKS.items()}
    inputs = []
    for name, source_docs in docs.items():
        inputs += write_doc_shards(manifest.run_dir, name, source_docs, per_shard)
    context = RunContext(manifest, executor) if executor is not None else RunContext(manifest)
    result = stage.run(context, inputs)
    return manifest, docs, result


def gpt2_tokenizer(shared_data: Path, **extra: Any) -> dict[str, Any]:
    return {"tokenizer": {"kind": "tiktoken", "name": "gpt2",
                          "ranks_path": str(shared_data / "tokenizers" / "gpt2.tiktoken")}, **extra}
