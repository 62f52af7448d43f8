"""The held-out set: a fixed draw from the crawl, and a scrub that removes it (same id, same text, or a near
copy) from a variant's documents while keeping everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.ablation.held_out import DOCS_NAME, ScrubTask, scrub_shard, select
from pipeline.documents import DOC_SCHEMA, Document, write_parquet
from tests.token_helpers import book_documents


def _docs(shared_data: Path) -> list[dict]:
    books = ["gutenberg-3261-news-from-nowhere.txt", "gutenberg-972-the-devils-dictionary.txt"]
    return [d.to_row("books") for d in book_documents(shared_data, books, chars=3000)[:8]]


def _write(run_dir: Path, rel: str, rows: list[dict]) -> str:
    write_parquet(run_dir / rel, pa.Table.from_pylist(rows, schema=DOC_SCHEMA))
    return rel


def test_selection_is_a_fixed_draw_by_id(tmp_path: Path, shared_data: Path) -> None:
    docs = _docs(shared_data)[:4]
    a = _write(tmp_path, "crawl/books/a.parquet", docs[:2])
    b = _write(tmp_path, "crawl/books/b.parquet", docs[2:])
    first = select(tmp_path, [a, b], {"books": 2}, 4000, tmp_path / "h1")
    second = select(tmp_path, [b, a], {"books": 2}, 4000, tmp_path / "h2")  # another shard order
    assert first["ids"] == second["ids"] and len(first["ids"]) == 2
    assert (tmp_path / "h1/held_out.txt").read_bytes() == (tmp_path / "h2/held_out.txt").read_bytes()
    assert first["text_bytes"] <= 4000 and first["text_bytes"] > 3000  # the second document cut at the bound
    held = pq.read_table(tmp_path / "h1" / DOCS_NAME)
    assert held["id"].to_pylist() == first["ids"]  # whole documents are kept to be scrubbed
    assert json.loads((tmp_path / "h1/held_out.json").read_text())["ids"] == first["ids"]


def test_scrub_removes_the_held_out_documents_and_their_copies(tmp_path: Path, shared_data: Path) -> None:
    docs = _docs(shared_data)
    held, others = docs[0], docs[1:]
    _write(tmp_path, "h/" + DOCS_NAME, [held])
    words = held["text"].split(" ")
    near_text = " ".join(words[:-12] + ["an", "edited", "ending"])  # a filter's rewrite: most of it the same
    copies = [{**held, "text": "Unrelated words entirely, nothing in common with it."},  # the same id
              {**Document("copy-exact", "  " + held["text"].upper() + "\n").to_row("books")},
              {**Document("copy-near", near_text).to_row("books")}]
    shard = _write(tmp_path, "in/books/s.parquet", others + copies)
    task = ScrubTask(str(tmp_path), shard, "scrubbed/books/s.parquet", str(tmp_path / "h" / DOCS_NAME), 5, 112, 0.7)
    result = scrub_shard(task)
    kept = pq.read_table(tmp_path / "scrubbed/books/s.parquet")
    assert kept["id"].to_pylist() == [d["id"] for d in others]
    counts = result.tally.counts
    assert (counts["removed.id"], counts["removed.exact_text"], counts["removed.near"]) == (1, 1, 1)
    assert (counts["docs_in"], counts["docs_out"]) == (len(others) + 3, len(others))
    assert kept.schema == pq.read_table(tmp_path / shard).schema
