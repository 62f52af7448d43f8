"""The mixture sampler: exact mixture, disjoint ranks, exact resume, provenance, cached plan, validation."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest
import torch

from contracts.token_dataset import TokenDataset
from training.sampler import DataExhausted, MixtureSampler, SamplerStateError, build_plan, validation_batches

WEIGHTS = {"books": 0.5, "plays": 0.3, "dictionary": 0.2}


def sampler(dataset: TokenDataset, **kw) -> MixtureSampler:
    args = dict(context_length=32, global_batch=8, seed=3)
    return MixtureSampler(dataset, **{**args, **kw})


def test_realised_mixture_by_tokens(dataset: TokenDataset) -> None:
    s = sampler(dataset)  # weights come from the manifest via the index
    assert dict(zip(s.names, s.weights)) == pytest.approx(WEIGHTS)
    tokens = dict.fromkeys(s.names, 0)
    for step in range(1000 // 8):
        x, _ = s.batch(step)
        for row in range(8):
            tokens[s.provenance(step, row, 0).source] += x.shape[1] + 1
    total = sum(tokens.values())
    for name, weight in WEIGHTS.items():
        assert abs(tokens[name] / total - weight) < 0.01
    assert s.num_samples >= 100_000
    shares = np.bincount(s.sample_sources(0, 100_000), minlength=3) / 100_000
    for index, name in enumerate(s.names):
        assert abs(shares[index] - WEIGHTS[name]) < 0.001


def test_batches_are_shifted_windows_of_the_source_stream(dataset: TokenDataset) -> None:
    s = sampler(dataset)
    x, y = s.batch(5)
    assert x.dtype == y.dtype == torch.int64 and x.shape == y.shape == (8, 32)
    assert x.is_contiguous() and y.is_contiguous() and torch.equal(x[:, 1:], y[:, :-1])
    source = s.names[int(s.sample_sources(0, 1)[0])]
    stream = np.concatenate([sh.values for sh in dataset.shards("train", source)])
    start = int(s.sample_windows(0, 1)[0]) * 32
    assert s.batch(0)[0][0].tolist() == stream[start:start + 32].tolist()


def test_without_replacement_inside_an_epoch(dataset: TokenDataset) -> None:
    s = sampler(dataset, context_length=512)
    for index, n in enumerate(s.windows):
        windows = s.sample_windows(0, s.num_samples)[s.sample_sources(0, s.num_samples) == index]
        assert sorted(windows[:n].tolist()) == list(range(n))
        assert sorted(windows[n:2 * n].tolist()) == list(range(n))
        assert windows[:n].tolist() != windows[n:2 * n].tolist()  # each epoch has its own order


def test_two_ranks_are_disjoint_and_together_one_stream(dataset: TokenDataset) -> None:
    single = sampler(dataset)
    ranks = [sampler(dataset, rank=r, world_size=2) for r in range(2)]
    for step in (0, 1, 17, 400):
        x, y = single.batch(step)
        parts = [r.batch(step) for r in ranks]
        assert torch.equal(torch.cat([p[0] for p in parts]), x) and torch.equal(torch.cat([p[1] for p in parts]), y)
        first = {ranks[0].first_sample(step) + i for i in range(4)}
        second = {ranks[1].first_sample(step) + i for i in range(4)}
        assert not first & second


def test_exact_resume_at_any_step(dataset: TokenDataset) -> None:
    reference = sampler(dataset)
    expected = [next(reference) for _ in range(12)]
    interrupted = sampler(dataset)
    for _ in range(7):
        next(interrupted)
    state = interrupted.state_dict()
    resumed = sampler(dataset)
    resumed.load_state_dict(state)
    for want in expected[7:]:
        got = next(resumed)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


def test_same_stream_when_world_size_changes(dataset: TokenDataset) -> None:
    reference = sampler(dataset)
    expected = [next(reference) for _ in range(6)]
    before = sampler(dataset, rank=1, world_size=2)
    for _ in range(3):
        next(before)
    state = before.state_dict()
    after = [sampler(dataset, rank=r, world_size=4) for r in range(4)]
    for s in after:
        s.load_state_dict(state)
    for want in expected[3:]:
        got = [next(s) for s in after]
        assert torch.equal(torch.cat([g[0] for g in got]), want[0])


def test_incompatible_resume_is_refused(dataset: TokenDataset) -> None:
    state = sampler(dataset).state_dict()
    other = sampler(dataset, weights={"books": 1, "plays": 1})
    with pytest.raises(SamplerStateError, match="weights"):
        other.load_state_dict(state)
    with pytest.raises(SamplerStateError, match="version"):
        sampler(dataset).load_state_dict({**state, "version": 0})
    changed_batch = sampler(dataset, global_batch=16)
    changed_batch.load_state_dict(state)  # the order does not depend on the batch size


def test_mixture_can_change_without_retokenizing(dataset: TokenDataset) -> None:
    s = sampler(dataset, weights={"plays": 1.0})
    assert s.names == ["plays"] and {s.provenance(0, r, 0).source for r in range(8)} == {"plays"}


def test_provenance_names_the_document(dataset: TokenDataset) -> None:
    s = sampler(dataset, rank=1, world_size=2)
    rng = np.random.default_rng(0)
    for _ in range(50):
        step, row, position = int(rng.integers(0, 2000)), int(rng.integers(0, 4)), int(rng.integers(0, 33))
        x, y = s.batch(step)
        token = int(x[row, position]) if position < 32 else int(y[row, 31])
        p = s.provenance(step, row, position)
        shard = next(sh for sh in dataset.all_shards if str(sh.path).endswith(p.shard))
        assert shard.source == p.source
        assert shard.batch.column("id")[p.doc_row].as_py() == p.doc_id
        assert shard.batch.column("url")[p.doc_row].as_py() == p.url
        assert int(shard.values[shard.offsets[p.doc_row] + p.token_in_doc]) == token


def test_plan_is_cached_and_memory_mapped(dataset: TokenDataset, tmp_path: Path) -> None:
    first = sampler(dataset, cache_dir=tmp_path, seed=11)
    files = list(tmp_path.glob("plan-*.npy"))
    assert len(files) == 1 and not first.plan.flags.owndata and not first.plan.flags.writeable  # mapped
    stamp = files[0].stat().st_mtime_ns
    second = sampler(dataset, cache_dir=tmp_path, seed=11, rank=1, world_size=2)
    assert files[0].stat().st_mtime_ns == stamp and np.array_equal(first.plan, second.plan)


def _build_in_child(args: tuple[str, str]) -> bytes:
    token_dir, cache = args
    s = sampler(TokenDataset.open(token_dir), cache_dir=cache, seed=99)
    return bytes(np.asarray(s.plan[:1000]).tobytes())


def test_concurrent_ranks_build_one_plan(token_dir: Path, tmp_path: Path) -> None:
    with multiprocessing.get_context("fork").Pool(3) as pool:
        results = pool.map(_build_in_child, [(str(token_dir), str(tmp_path))] * 3)
    assert len(set(results)) == 1
    assert len(list(tmp_path.glob("plan-*.npy"))) == 1 and not list(tmp_path.glob(".tmp-*"))


def test_running_out_of_data_is_explained(dataset: TokenDataset) -> None:
    with pytest.raises(DataExhausted, match=r"dictionary .*max_epochs"):
        sampler(dataset, max_epochs={"dictionary": 1.0}, num_samples=100_000, cache_dir=None)
    s = sampler(dataset, context_length=256, max_epochs={"books": 1.0, "plays": 1.0, "dictionary": 1.0})
    assert s.num_steps > 0
    with pytest.raises(DataExhausted, match="max_epochs"):
        s.batch(s.num_steps + 1)


def test_validation_iteration_is_fixed_and_split_by_rank(dataset: TokenDataset) -> None:
    kw = dict(context_length=32, batch_size=4)
    whole = list(validation_batches(dataset, "books", **kw))
    again = list(validation_batches(dataset, "books", **kw))
    assert len(whole) > 3 and all(torch.equal(a[0], b[0]) for a, b in zip(whole, again))
    stream = np.concatenate([sh.values for sh in dataset.shards("val", "books")])
    assert whole[0][0][1].tolist() == stream[32:64].tolist()
    halves = [list(validation_batches(dataset, "books", rank=r, world_size=2, **kw)) for r in range(2)]
    rows = sum(len(b[0]) for h in halves for b in h)
    assert rows == sum(len(b[0]) for b in whole)
    assert torch.equal(halves[1][0][0][0], whole[0][0][1])


def test_a_source_with_a_single_window_is_usable_and_one_with_none_is_refused() -> None:
    plan = build_plan(["one"], [1.0], [1], [1.0], seed=0, num_samples=1, source_base=[40], context_length=4)
    assert plan.tolist() == [40]  # capacity floor(1.0 x 1) = 1 window: enough for one sample
    with pytest.raises(DataExhausted, match="'one' has 1 training windows"):  # floor(0.5 x 1) = 0
        build_plan(["one"], [1.0], [1], [0.5], seed=0, num_samples=1, source_base=[0], context_length=4)


def test_provenance_refuses_rows_and_positions_outside_the_batch(dataset: TokenDataset) -> None:
    s = sampler(dataset, rank=1, world_size=2)
    s.provenance(0, s.local_batch - 1, 32)  # last row, the last y position (context_length): inside
    for row, position in [(s.local_batch, 0), (s.local_batch + 3, 0), (-1, 0), (0, 33), (0, -1)]:
        with pytest.raises(IndexError, match="outside a"):
            s.provenance(0, row, position)
