"""The dedup stage end to end, in process (``RunContext``'s default executor) and on real Ray: planted
duplicates across shards and sources, determinism, verification, checksum failures and resumption."""

from __future__ import annotations

import hashlib
import json
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.dedup import buckets as bk
from pipeline.dedup.artefacts import read_part
from pipeline.dedup.options import resolve
from pipeline.documents import DOC_SCHEMA, doc_id
from pipeline.executors import RayExecutor
from pipeline.manifest import parse_manifest
from pipeline.runner import StageError
from pipeline.stage import RunContext
from pipeline.stages import dedup
from tests.pipeline.dedup.corpus import book_paragraphs, edit_words, wiki_paragraphs
from tests.pipeline.helpers import done_records, forget_record


@pytest.fixture(scope="module")
def ray_two_cpus(ray_local):
    """The session's local Ray (2 CPUs), so 'two workers' can really run side by side."""
    yield ray_local


def _manifest(root: Path, **dedup_options):
    data = {
        "run": {"name": "dd", "output_dir": str(root)},
        "ray": {"max_in_flight": dedup_options.pop("max_in_flight", None), "max_retries": 0},
        "sources": [{"name": "wiki", "kind": "wikipedia", "paths": ["unused.xml.bz2"]},
                    {"name": "books", "kind": "books", "paths": ["unused.txt"]}],
        "stages": {"order": ["crawl", "dedup"], "dedup": dedup_options},
    }
    return parse_manifest(yaml.safe_dump(data), source_path=root / "m.yaml")


def _write(run_dir: Path, source: str, name: str, docs: list[tuple[str, str]]) -> str:
    rows = [{"id": doc_id(source, key), "source": source, "url": None, "title": None, "text": text,
             "meta": None} for key, text in docs]
    path = run_dir / "docs" / source / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=DOC_SCHEMA), path)
    return f"docs/{source}/{name}"


def _long(paragraphs, words: int) -> list[str]:
    return [p for p in paragraphs if len(p.split()) >= words]


def build_corpus(run_dir: Path, shared_data: Path) -> tuple[list[str], dict[str, tuple[set[str], str, dict]]]:
    """Four shards of real paragraphs with planted duplicates; returns inputs and the expected clusters
    (member ids, kept id, reason per removed id)."""
    books, wiki = book_paragraphs(shared_data), wiki_paragraphs(shared_data)
    b, w = list(books[:240]), list(wiki[:240])
    long_w, long_b = _long(wiki[240:], 250), _long(books[240:], 150)
    near_wiki, near_book = long_w[0], long_b[0]
    planted = {
        # exact across sources: a book paragraph shouted, commas dropped, in a wiki shard
        "exact-across": [("books", "b-3", b[3]), ("wiki", "copy-b3", b[3].upper().replace(",", " "))],
        # exact within wiki, across shards
        "exact-within": [("wiki", "w-10", w[10]), ("wiki", "copy-w10", w[10])],
        # near across sources: 2 % of the words of a long wiki paragraph substituted, in a book shard
        "near-across": [("wiki", "w-long", near_wiki), ("books", "edit-wlong", edit_words(near_wiki, 0.02, 1))],
        # near within books: one word deleted, plus an exact copy of the edit in the other book shard
        "near-within": [("books", "b-long", near_book),
                        ("books", "edit-blong", " ".join(near_book.split()[:40] + near_book.split()[41:])),
                        ("books", "copy-edit-blong", " ".join(near_book.split()[:40] + near_book.split()[41:]))],
    }
    copy_of_edit = planted["near-within"][2][2]
    shards = {("books", "b0.parquet"): [(f"b-{i}", t) for i, t in enumerate(b[:120])]
              + [("b-long", near_book), ("copy-edit-blong", copy_of_edit)],
              ("books", "b1.parquet"): [(f"b-{i}", t) for i, t in enumerate(b[120:], 120)]
              + [("edit-wlong", planted["near-across"][1][2]), ("edit-blong", planted["near-within"][1][2])],
              ("wiki", "w0.parquet"): [(f"w-{i}", t) for i, t in enumerate(w[:120])] + [("w-long", near_wiki)],
              ("wiki", "w1.parquet"): [(f"w-{i}", t) for i, t in enumerate(w[120:], 120)]
              + [("copy-b3", planted["exact-across"][1][2]), ("copy-w10", w[10])]}
    inputs = [_write(run_dir, src, name, docs) for (src, name), docs in shards.items()]
    expected = {name: {doc_id(s, k) for s, k, _ in members} for name, members in planted.items()}
    return inputs, expected


def _ledger(run_dir: Path) -> list[dict]:
    rows = []
    for path in sorted((run_dir / "removed" / "dedup").rglob("*.parquet")):
        rows += pq.read_table(path).drop(["text"]).to_pylist()
    return rows


def _digest(run_dir: Path) -> dict[str, str]:
    out = {}
    for folder in ("dedup", "removed"):
        for path in sorted((run_dir / folder).rglob("*.parquet")):
            out[str(path.relative_to(run_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_planted_duplicates_give_exactly_the_expected_clusters(tmp_path, shared_data, ray_two_cpus):
    manifest = _manifest(tmp_path, partitions=3)
    inputs, expected = build_corpus(manifest.run_dir, shared_data)
    result = dedup.run(RunContext(manifest), inputs)

    ledger = _ledger(manifest.run_dir)
    clusters: dict[str, set[str]] = {}
    for row in ledger:
        clusters.setdefault(row["cluster_id"], {row["kept_id"]}).add(row["id"])
    assert sorted(map(sorted, clusters.values())) == sorted(map(sorted, expected.values()))
    by_id = {row["id"]: row for row in ledger}
    for ids in expected.values():
        assert all(by_id[i]["cluster_id"] == min(ids) for i in ids if i in by_id)

    wiki, books = (lambda k: doc_id("wiki", k)), (lambda k: doc_id("books", k))
    # keep rule: wiki (first source) before books, then the lowest id
    assert by_id[books("b-3")]["kept_id"] == wiki("copy-b3") and by_id[books("b-3")]["reason"] == "exact"
    assert by_id[max(wiki("w-10"), wiki("copy-w10"))]["kept_id"] == min(wiki("w-10"), wiki("copy-w10"))
    assert by_id[books("edit-wlong")] | {"kept_id": wiki("w-long"), "reason": "near"} == by_id[books("edit-wlong")]
    near_within = sorted(expected["near-within"])
    kept = near_within[0]
    for i in near_within[1:]:
        assert by_id[i]["kept_id"] == kept
    reasons = {by_id[i]["reason"] for i in near_within[1:]}
    assert reasons <= {"exact", "near"} and "near" in reasons

    removed = len(ledger)
    counts = result.tally.counts
    assert counts["docs_in"] - counts["docs_out"] == removed == 5
    assert counts["skipped.duplicate_exact"] + counts["skipped.duplicate_near"] == removed
    kept_rows = sum(pq.read_metadata(manifest.run_dir / o).num_rows for o in result.outputs)
    assert kept_rows == counts["docs_out"]
    assert all(o.startswith("dedup/") for o in result.outputs)

    stats = json.loads((manifest.run_dir / "stats" / "dedup_clusters.json").read_text())
    assert stats["clusters"] == 4
    assert stats["cluster_size_histogram"] == {"2": 3, "3": 1}
    assert stats["removed_across_source"] == 2 and stats["removed_within_source"] == 3
    assert stats["largest_clusters"][0]["size"] == 3
    summary = json.loads((manifest.run_dir / "stats" / "dedup.json").read_text())
    assert summary["outputs"] == result.outputs


def test_same_output_for_one_or_two_workers_any_shard_order_and_partitions(tmp_path, shared_data, ray_two_cpus):
    """On Ray with one or two workers, and in this process: the same bytes whatever runs the tasks."""
    digests = []
    for i, (workers, partitions, reverse) in enumerate([(1, 1, False), (2, 3, True), (2, 2, False), (0, 3, False)]):
        manifest = _manifest(tmp_path / str(i), partitions=partitions, max_in_flight=workers or None)
        executor = RayExecutor.from_settings(manifest.ray) if workers else None  # 0: in-process
        inputs, _ = build_corpus(manifest.run_dir, shared_data)
        context = RunContext(manifest, executor) if executor else RunContext(manifest)
        result = dedup.run(context, inputs[::-1] if reverse else inputs)
        digests.append((_digest(manifest.run_dir), result.outputs))
    assert digests[0] == digests[1] == digests[2] == digests[3]


def test_verification_drops_pairs_below_its_threshold(tmp_path, shared_data, ray_two_cpus):
    manifest = _manifest(tmp_path, partitions=2, verify=True, verify_threshold=0.999)
    inputs, _ = build_corpus(manifest.run_dir, shared_data)
    result = dedup.run(RunContext(manifest), inputs)
    assert {row["reason"] for row in _ledger(manifest.run_dir)} == {"exact"}
    assert result.tally.counts["verify.pairs_rejected"] >= 2


def test_corrupted_intermediate_file_is_detected_and_named(tmp_path, shared_data, ray_two_cpus):
    manifest = _manifest(tmp_path, partitions=2)
    inputs, _ = build_corpus(manifest.run_dir, shared_data)
    dedup.run(RunContext(manifest), inputs)
    victim = sorted((manifest.run_dir / "work" / "dedup").rglob("buckets/s00001"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    shutil.rmtree(manifest.run_dir / "_done" / "dedup.buckets")
    with pytest.raises(StageError, match=r"buckets/s00001 \(part \d\) is corrupt \(checksum mismatch\)"):
        dedup.run(RunContext(manifest), inputs)


def test_rerun_after_a_partial_run_gives_the_same_result(tmp_path, shared_data, ray_two_cpus):
    manifest = _manifest(tmp_path, partitions=2)
    inputs, _ = build_corpus(manifest.run_dir, shared_data)
    first = dedup.run(RunContext(manifest), inputs)
    before = _digest(manifest.run_dir)
    # as if killed during the components: later records and outputs are gone, one shard half written
    done = manifest.run_dir / "_done"
    for step in sorted(done.iterdir()):
        if step.name.startswith(("dedup.clusters", "dedup.removal")) or step.name.endswith(".small"):
            shutil.rmtree(step)
    shutil.rmtree(manifest.run_dir / "dedup")
    forget_record(manifest.run_dir, "dedup.signatures", sorted(done_records(manifest.run_dir, "dedup.signatures"))[0])
    again = dedup.run(RunContext(manifest), inputs)
    assert _digest(manifest.run_dir) == before
    assert again.outputs == first.outputs


def _jaccard(a: str, b: str, n: int) -> float:
    """Exact Jaccard of word n-gram sets (lower-cased words), written out independently of the stage."""
    def grams(text: str) -> set[tuple[str, ...]]:
        words = text.lower().split()
        return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def test_redpajama_v2_preset(tmp_path, shared_data, ray_two_cpus):
    """The preset resolves to RedPajama-v2's published settings (13-grams, 128 permutations, Jaccard 0.8
    with datasketch's optimal bands/rows). On the planted corpus its 13-grams find the one-word deletion
    (true 13-gram Jaccard 0.86) but not the 2 %-substituted paragraph (0.63) that FineWeb's 5-grams find."""
    from datasketch.lsh import _optimal_param

    manifest = _manifest(tmp_path, preset="redpajama-v2")
    config = resolve(manifest.stages.dedup, 4)
    assert (config.ngram, config.num_perm) == (13, 128)
    assert (config.bands, config.rows) == tuple(_optimal_param(0.8, 128, 0.5, 0.5))
    inputs, expected = build_corpus(manifest.run_dir, shared_data)
    texts = {row["id"]: row["text"] for relative in inputs
             for row in pq.read_table(manifest.run_dir / relative).to_pylist()}
    near_across, near_within = sorted(expected["near-across"]), sorted(expected["near-within"])
    assert _jaccard(texts[near_across[0]], texts[near_across[1]], 13) < 0.7
    assert min(_jaccard(texts[near_within[0]], texts[i], 13) for i in near_within[1:]) > 0.85

    dedup.run(RunContext(manifest), inputs)
    clusters: dict[str, set[str]] = {}
    for row in _ledger(manifest.run_dir):
        clusters.setdefault(row["cluster_id"], {row["kept_id"]}).add(row["id"])
    found = sorted(map(sorted, clusters.values()))
    assert found == sorted(sorted(expected[name]) for name in ("exact-across", "exact-within", "near-within"))


def _entries_by_partition(run_dir: Path) -> dict[int, dict[str, np.ndarray]]:
    """The bucket entries each ``dedup.buckets`` task loads: its partition's slice of every shard's file
    (``work/dedup/<fingerprint>/buckets/s<rank>``), concatenated as the task does."""
    paths = sorted((run_dir / "work" / "dedup").glob("*/buckets/s*"))
    loaded = {}
    for part in range(_parts(paths[0])):
        arrays = [read_part(p, part) for p in paths]
        loaded[part] = {k: np.concatenate([a[k] for a in arrays]) for k in arrays[0]}
    return loaded


def _parts(path: Path) -> int:
    """How many partitions a partitioned artefact holds (its header's count)."""
    import struct

    return struct.unpack_from("<Q", path.read_bytes(), 8)[0]


def _peak_bytes(entries: dict[str, np.ndarray], exact_band: int) -> int:
    """Peak traced allocation (numpy reports its buffers to tracemalloc) of one partition's pairing."""
    tracemalloc.start()
    try:
        bk.candidate_pairs(entries["band"], entries["key"], entries["exact"], entries["node"], exact_band)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_per_partition_memory_falls_as_partitions_grow(tmp_path, shared_data, ray_two_cpus):
    """The bucket step holds one partition's entries at a time: with 4 partitions each task loads about a
    quarter of what the single partition holds, and its pairing peaks at well under half the memory."""
    held, peaks, removed = {}, {}, {}
    for partitions in (1, 4):
        manifest = _manifest(tmp_path / str(partitions), partitions=partitions)
        inputs, _ = build_corpus(manifest.run_dir, shared_data)
        dedup.run(RunContext.on_ray(manifest), inputs)  # real Ray tasks, one per partition
        by_part = _entries_by_partition(manifest.run_dir)
        assert len(by_part) == partitions
        work = next((manifest.run_dir / "work" / "dedup").iterdir())  # one file per producing task, not per pair
        assert len(list((work / "buckets").iterdir())) == len(inputs)
        assert len(list((work / "pairs").iterdir())) == partitions
        assert all(len(list(g.iterdir())) == partitions for g in (work / "graph").iterdir())
        assert len(list((work / "clusters").glob("*.removals"))) == partitions
        exact_band = int(max(e["band"].max() for e in by_part.values()))  # the exact band comes after the others
        held[partitions] = {p: len(e["key"]) for p, e in by_part.items()}
        peaks[partitions] = max(_peak_bytes(e, exact_band) for e in by_part.values())
        removed[partitions] = sorted(row["id"] for row in _ledger(manifest.run_dir))
    total = sum(held[1].values())
    assert total > 5000 and sum(held[4].values()) == total  # every entry lands in exactly one partition
    assert max(held[4].values()) < 0.4 * total, held[4]  # ~1/4 each (keys are hashed), never all in one
    assert peaks[4] < 0.5 * peaks[1], peaks
    assert removed[1] == removed[4] and removed[1]  # same decisions, whatever the partitioning


SIZES: dict[str, tuple[int, int]] = {}  # step -> largest pickled payload (bytes), largest key repr (chars)


class _PayloadSizes(RunContext):
    """An in-process context that records, per step, the largest pickled payload and task key it is given
    (what Ray sends to a worker, and what the completion record's digest hashes)."""

    def run_tasks(self, step, tasks, fn, docs_key="docs_out"):
        import pickle

        step_name = step.split(".")[1] if step.count(".") == 1 else "cc"
        payload = max(len(pickle.dumps(t.payload)) for t in tasks)
        key = max(len(repr(t.key)) for t in tasks)
        old = SIZES.get(step_name, (0, 0))
        SIZES[step_name] = (max(old[0], payload), max(old[1], key))
        return super().run_tasks(step, tasks, fn, docs_key)


def _payload_sizes(root: Path, shards: int, shared_data: Path) -> dict[str, tuple[int, int]]:
    manifest = _manifest(root)
    paragraphs = book_paragraphs(shared_data)[:shards * 3]
    inputs = [_write(manifest.run_dir, "books", f"b{s:03d}.parquet",
                     [(f"b{s}-{i}", paragraphs[(s * 3 + i) % len(paragraphs)]) for i in range(3)])
              for s in range(shards)]
    SIZES.clear()
    result = dedup.run(_PayloadSizes(manifest), inputs)
    assert result.tally.counts["docs_in"] == 3 * shards
    return dict(SIZES)


def test_task_payloads_do_not_grow_with_the_number_of_input_shards(tmp_path, shared_data):
    """Every dedup task carries O(1) data: its own shard rank or partition, not the input list or the list of
    removal files (which made the payloads O(shards) and a run's payload bytes O(shards^2)). 4 -> 48 shards
    (1 -> 12 partitions) may only add digits."""
    few, many = _payload_sizes(tmp_path / "few", 4, shared_data), _payload_sizes(tmp_path / "many", 48, shared_data)
    assert set(few) == set(many) == {"signatures", "buckets", "edges", "cc", "clusters", "removal"}
    for step in few:
        assert many[step][0] - few[step][0] < 32, (step, few[step], many[step])  # pickled payload, bytes
        assert many[step][1] - few[step][1] < 32, (step, few[step], many[step])  # key repr, characters


def test_the_input_index_a_worker_read_is_dropped_when_it_moves_on_to_another_step(tmp_path, monkeypatch):
    """The index lists every input shard of the run: a worker holds it only while it runs dedup's steps."""
    from pipeline import memory

    index = tmp_path / "inputs.json"
    index.write_text(json.dumps([f"filtered/s{i:05d}.parquet" for i in range(1000)]))
    monkeypatch.setattr(memory, "_current_step", [])
    dedup._read_inputs_index.cache_clear()  # what earlier tests in this process read
    memory.starting_step("dedup.signatures")
    assert len(dedup._read_inputs_index(str(index))) == 1000
    memory.starting_step("dedup.signatures")
    assert dedup._read_inputs_index.cache_info().currsize == 1  # same step: kept
    memory.starting_step("tokenize")
    assert dedup._read_inputs_index.cache_info().currsize == 0
