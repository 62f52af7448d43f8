"""bench/heldout_run.py's own parts on files written here (nothing downloaded): how it turns a UDHR page into a
plain-text book, what its run-folder digest leaves out (and what it must not), how it finds half-written files
and counts a dump's pages, so its verdicts cannot drift unnoticed."""

from __future__ import annotations

import bz2
import json
from pathlib import Path

from bench.heldout_run import dump_pages, folder_digest, leftovers, udhr_text

PAGE = """<!DOCTYPE html><html lang="fr"><head><title>DUDH</title><style>p {color: red}</style>
<script>var x = "<p>not text</p>";</script></head><body>
<h1>Déclaration universelle</h1><h2>Préambule</h2>
<p>Considérant que la reconnaissance de la dignité
   inhérente à tous les membres de la famille humaine &amp; de leurs droits</p>
<ol><li>Article premier</li><li>Tous les êtres humains naissent libres</li></ol>
</body></html>"""


def test_a_udhr_page_becomes_one_paragraph_a_block() -> None:
    assert udhr_text(PAGE) == ("Déclaration universelle\n\nPréambule\n\nConsidérant que la reconnaissance de la "
                               "dignité inhérente à tous les membres de la famille humaine & de leurs droits\n\n"
                               "Article premier\n\nTous les êtres humains naissent libres\n")


def _run_folder(root: Path, seconds: float, ledger: list[dict], shard: bytes) -> Path:
    (root / "stats").mkdir(parents=True)
    (root / "stats" / "crawl.json").write_text(json.dumps(
        {"counts": {"docs_out": 3, "signal_ms.c4": seconds * 1000}, "seconds": seconds, "tasks_run": 2,
         "outputs": [str(root / "docs" / "a.parquet")]}))
    (root / "_done" / "crawl").mkdir(parents=True)
    (root / "_done" / "crawl" / "ledger.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ledger))
    (root / "docs").mkdir()
    (root / "docs" / "a.parquet").write_bytes(shard)
    (root / "_tmp").mkdir()
    (root / "_tmp" / f"host-{int(seconds)}.txt").write_text(str(root / "docs" / ".tmp-1-a.parquet") + "\n")
    (root / "run.lock").write_text(f"pid {int(seconds)}")
    return root


def test_the_digest_ignores_timing_order_and_bookkeeping_but_not_output(tmp_path: Path) -> None:
    a = {"id": "t1", "counts": {"docs_out": 1}, "task_digest": "x"}
    b = {"id": "t2", "counts": {"docs_out": 2}, "task_digest": "y"}
    first = folder_digest(_run_folder(tmp_path / "one" / "run", 1.5, [a, b], b"PAR1"))
    again = folder_digest(_run_folder(tmp_path / "two" / "run", 9.0, [{**b, "task_digest": "z"}, a], b"PAR1"))
    assert first == again and "docs/a.parquet" in first and "run.lock" not in first
    assert not any(k.startswith("_tmp/") for k in first)
    changed = folder_digest(_run_folder(tmp_path / "three" / "run", 1.5, [a, b], b"PAR2"))
    assert changed["docs/a.parquet"] != first["docs/a.parquet"]
    fewer = folder_digest(_run_folder(tmp_path / "four" / "run", 1.5, [a, {**b, "counts": {"docs_out": 3}}], b"PAR1"))
    assert fewer["_done/crawl/ledger.jsonl"] != first["_done/crawl/ledger.jsonl"]


def test_leftovers_are_journalled_temporaries_that_still_exist(tmp_path: Path) -> None:
    root = _run_folder(tmp_path / "run", 1.0, [], b"PAR1")
    assert leftovers(root) == []  # the journalled temporary was renamed into place: gone
    (root / "docs" / ".tmp-1-a.parquet").write_bytes(b"half")
    assert leftovers(root) == [str(root / "docs" / ".tmp-1-a.parquet")]


def test_dump_pages_in_utf8_and_utf16(tmp_path: Path) -> None:
    dump = ('<mediawiki xml:lang="bg"><page><title>А</title><ns>0</ns></page>\n'
            '<page>\n<title>Б</title></page><pagecount>x</pagecount></mediawiki>')
    (tmp_path / "a.xml.bz2").write_bytes(bz2.compress(dump.encode("utf-8")))
    (tmp_path / "b.xml").write_bytes(dump.encode("utf-16"))
    (tmp_path / "c.xml").write_text("<html><page></page></html>")
    assert dump_pages(tmp_path / "a.xml.bz2") == dump_pages(tmp_path / "b.xml") == 2
    assert dump_pages(tmp_path / "c.xml") is None
