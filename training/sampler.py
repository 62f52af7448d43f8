"""The training sampler: a global sample order that is a pure function of (seed, mixture, sample index).

Samples. A source's training shards, concatenated in index order, form one token stream of ``T`` tokens.
Sample ``k`` of the source is the window ``[k*C, k*C + C + 1)`` for context length ``C`` (neighbouring
windows share one token, so every adjacent pair of the stream is trained on), giving ``n = (T-1) // C``
samples per epoch. Epoch ``e`` visits them in the order of a permutation seeded by (seed, source name, e):
without replacement inside an epoch, and a source may be repeated up to ``max_epochs`` times.

Order. Global sample ``i`` comes from the source that Megatron's rule picks (``training.mixture``), and is
that source's next sample. The plan - where each global sample's window starts, as a token offset into the
mixed sources' shards laid end to end - is built once, saved beside the dataset (``<dataset>/cache/``) as
a ``.npy`` under a file lock, and memory-mapped, so every rank and every restart reads the same plan.
Worked example: weights {web: 0.75, books: 0.25}, C = 4, books has 21 tokens (5 windows). Global samples
0..7 come from web, web, books, web, web, web, books, web; sample 2 is books' window perm_0[0], say 3: its
tokens are books' stream positions 12..16.

Batches. Step ``t`` is global samples ``[t*G, (t+1)*G)`` for a global batch ``G``; rank ``r`` of ``W`` takes
rows ``[r*G/W, (r+1)*G/W)`` of it. So ranks are disjoint, together they are exactly the single-rank stream,
and the stream does not change when ``W`` changes under the same ``G``. The only state is how many samples
were consumed (``state_dict``), so resuming at any step replays exactly the uninterrupted run.

Typical use::

    dataset = TokenDataset.open("run/tokens")
    sampler = MixtureSampler(dataset, context_length=1024, global_batch=512, seed=0, rank=rank,
                             world_size=world_size)            # weights default to the manifest's
    sampler.load_state_dict(checkpoint["sampler"])           # on resume
    for x, y in sampler:                                     # int64 (G/W, C) tensors; y is x shifted by one
        ...
        checkpoint["sampler"] = sampler.state_dict()
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from contracts.fsio import atomic_write  # the one temporary-name-then-rename writer
from contracts.token_dataset import Shard, TokenDataset
from training.mixture import blend, normalise, samples_within

CACHE_DIR = "cache"


class SamplerStateError(ValueError):
    """A saved sampler state that does not belong to this sampler; resuming would change the data."""


class DataExhausted(IndexError):
    """The mixture asks a source for more samples than ``max_epochs`` allows."""


@dataclass(frozen=True)
class Provenance:
    """Where one token of a batch came from."""

    source: str
    doc_id: str
    url: str | None
    shard: str  # path relative to the dataset folder
    doc_row: int  # row of the document in that shard
    token_in_doc: int  # position of the token inside its document (end-of-text is the last)
    sample: int  # global sample index
    epoch: int  # epoch of the source this sample belongs to


class _Streams:
    """The training shards of the mixed sources laid end to end: global token offset -> shard, offset."""

    def __init__(self, dataset: TokenDataset, names: list[str], split: str):
        self.shards: list[Shard] = []
        self.source_base: list[int] = []
        self.source_tokens: list[int] = []
        starts = [0]
        for name in names:
            self.source_base.append(starts[-1])
            shards = dataset.shards(split, name)
            for shard in shards:
                self.shards.append(shard)
                starts.append(starts[-1] + shard.tokens)
            self.source_tokens.append(sum(s.tokens for s in shards))
        self.starts = np.asarray(starts, dtype=np.int64)
        self.values = [s.values for s in self.shards]
        self.sizes = [s.tokens for s in self.shards]

    def locate(self, offset: int) -> tuple[int, int]:
        j = int(np.searchsorted(self.starts, offset, side="right")) - 1
        return j, int(offset - self.starts[j])

    def gather(self, offsets: np.ndarray, context_length: int, pin: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows of ``context_length + 1`` tokens at global ``offsets``, as contiguous int64 (x, y).

        Rows are copied in the stored dtype (a plain memcpy each), then widened in two vectorised casts:
        measured faster than casting row by row. With ``pin`` the casts write straight into page-locked
        memory (from torch's caching host allocator), which the GPU copies from asynchronously.
        """
        length = context_length + 1
        count = len(offsets)
        shard = np.searchsorted(self.starts, offsets, side="right") - 1
        local = (offsets - self.starts[shard]).tolist()
        window = np.empty((count, length), dtype=self.values[0].dtype if self.values else np.uint16)
        values, sizes = self.values, self.sizes
        for row, (j, lo) in enumerate(zip(shard.tolist(), local)):
            if lo + length <= sizes[j]:
                window[row] = values[j][lo:lo + length]
            else:  # the window runs into the next shard(s) of the same source
                window[row] = self._spanning(j, lo, length)
        x = torch.empty((count, context_length), dtype=torch.int64, pin_memory=pin)
        y = torch.empty((count, context_length), dtype=torch.int64, pin_memory=pin)
        np.copyto(x.numpy(), window[:, :-1])
        np.copyto(y.numpy(), window[:, 1:])
        return x, y

    def _spanning(self, j: int, lo: int, length: int) -> np.ndarray:
        pieces, need = [], length
        while need > 0:
            piece = self.values[j][lo:lo + need]
            pieces.append(piece)
            need -= len(piece)
            j, lo = j + 1, 0
        return np.concatenate(pieces)


def _permutation(seed: int, source: str, epoch: int, n: int) -> np.ndarray:
    key = int.from_bytes(hashlib.blake2b(source.encode(), digest_size=8).digest(), "big")
    return np.random.default_rng([seed, key, epoch]).permutation(n)


def build_plan(names: list[str], weights: list[float], windows: list[int], max_epochs: list[float], seed: int,
               num_samples: int | None, source_base: list[int], context_length: int) -> np.ndarray:
    """Global token offset (int64) of every global sample's window; pure function of its arguments.

    Sample ``i`` from source ``s``, window ``k`` starts at ``source_base[s] + k * context_length`` in the
    sources' shards laid end to end: storing the offset makes a batch one array slice.

    Without ``num_samples`` the plan runs until the first source would exceed its ``max_epochs``.
    """
    capacity = [math.floor(e * n) for e, n in zip(max_epochs, windows)]
    for name, cap, n in zip(names, capacity, windows):
        if cap < 1:
            raise DataExhausted(f"source {name!r} has {n} training windows: too few tokens for this context "
                                "length (or max_epochs too small); drop it from the mixture or give it data")
    wanted = num_samples
    if wanted is None:
        wanted = min(math.ceil((cap + 1) / w) for cap, w in zip(capacity, weights)) + 1
    sources = blend(weights, wanted)
    usable = samples_within(sources, capacity)
    if num_samples is not None and usable < num_samples:
        counts = np.bincount(sources, minlength=len(names))
        short = [f"{names[s]} (needs {counts[s]} windows, max_epochs {max_epochs[s]} x {windows[s]} allows "
                 f"{capacity[s]})" for s in range(len(names)) if counts[s] > capacity[s]]
        raise DataExhausted(f"the mixture cannot supply {num_samples} samples, only {usable}: "
                            f"{', '.join(short)}. Raise max_epochs, lower those weights, or train fewer steps")
    sources = sources[:usable]
    plan = np.empty(usable, dtype=np.int64)
    for s, (name, n) in enumerate(zip(names, windows)):
        positions = np.flatnonzero(sources == s)
        epochs = -(-len(positions) // n)
        order = np.concatenate([_permutation(seed, name, e, n) for e in range(epochs)] or [np.zeros(0, np.int64)])
        plan[positions] = source_base[s] + order[:len(positions)].astype(np.int64) * context_length
    return plan


class MixtureSampler:
    """Batches of ``(x, y)`` int64 tensors of shape ``(global_batch // world_size, context_length)``.

    Arguments: ``weights`` ({source: weight}, default the manifest's weights from the index; change them
    freely at training time), ``max_epochs`` (likewise), ``num_samples`` (plan length; default: as many
    as the data allows), ``cache_dir`` (where the plan is cached; default ``<dataset>/cache``).
    ``batch(step)`` is pure; iterating yields ``batch`` at the consumed position and advances it.
    """

    VERSION = 1

    def __init__(self, dataset: TokenDataset, *, context_length: int, global_batch: int, seed: int = 0,
                 weights: dict[str, float] | None = None, max_epochs: dict[str, float] | None = None,
                 rank: int = 0, world_size: int = 1, num_samples: int | None = None,
                 cache_dir: str | Path | None = None):
        if context_length < 1 or global_batch < 1:
            raise ValueError("context_length and global_batch must be >= 1")
        if world_size < 1 or not 0 <= rank < world_size or global_batch % world_size:
            raise ValueError(f"rank {rank} of world_size {world_size}: need 0 <= rank < world_size and "
                             f"global_batch ({global_batch}) divisible by world_size")
        self.dataset = dataset
        self.context_length = context_length
        self.global_batch = global_batch
        self.rank, self.world_size = rank, world_size
        self.local_batch = global_batch // world_size
        self.seed = seed
        given = weights if weights is not None else {s: dataset.source_info(s)["weight"] for s in dataset.sources}
        for name in given:
            dataset.source_info(name)  # unknown source -> KeyError naming the dataset's sources
        mix = normalise(given)
        self.names = list(mix)
        self.weights = [mix[n] for n in self.names]
        epochs = {s: float(dataset.source_info(s)["max_epochs"]) for s in self.names}
        epochs.update(max_epochs or {})
        self.max_epochs = [float(epochs[n]) for n in self.names]
        self.streams = _Streams(dataset, self.names, "train")
        self.windows = [max(0, (t - 1) // context_length) for t in self.streams.source_tokens]
        self.identity = {"version": self.VERSION, "dataset": dataset.fingerprint, "sources": self.names,
                         "weights": self.weights, "max_epochs": self.max_epochs, "seed": seed,
                         "context_length": context_length}
        self.plan = self._load_plan(num_samples, cache_dir)
        self.samples_consumed = 0

    # -- the plan -------------------------------------------------------------------------------------------
    def _load_plan(self, num_samples: int | None, cache_dir: str | Path | None) -> np.ndarray:
        def build() -> np.ndarray:
            return build_plan(self.names, self.weights, self.windows, self.max_epochs, self.seed, num_samples,
                              self.streams.source_base, self.context_length)

        key = json.dumps({**self.identity, "num_samples": num_samples}, sort_keys=True)
        folder = Path(cache_dir) if cache_dir is not None else self.dataset.root / CACHE_DIR
        path = folder / f"plan-{hashlib.sha256(key.encode()).hexdigest()[:32]}.npy"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path.with_suffix(".lock"), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one rank builds; the others wait, then map its file
                if not path.exists():
                    plan = build()
                    with atomic_write(path) as fh:
                        np.save(fh, plan)
        except PermissionError:
            warnings.warn(f"cannot write the sampler cache in {folder}; building the plan in memory "
                          "(pass cache_dir= a writable folder to share it between ranks)")
            return build()
        return np.asarray(np.load(path, mmap_mode="r"))  # a plain view of the mapping: cheaper to slice

    @property
    def num_samples(self) -> int:
        return len(self.plan)

    @property
    def num_steps(self) -> int:
        return len(self.plan) // self.global_batch

    # -- batches --------------------------------------------------------------------------------------------
    def _offsets(self, first: int, count: int) -> np.ndarray:
        if first < 0 or first + count > len(self.plan):
            raise DataExhausted(
                f"samples {first}..{first + count - 1} are beyond the plan's {len(self.plan)} samples "
                f"({self.num_steps} steps of {self.global_batch}): the mixture has used every source up to its "
                "max_epochs. Raise max_epochs or num_samples, or stop training here")
        return self.plan[first:first + count]

    def sample_sources(self, first: int, count: int) -> np.ndarray:
        """Index into ``names`` of the source of global samples ``[first, first + count)``."""
        base = np.asarray(self.streams.source_base, dtype=np.int64)
        return np.searchsorted(base, self.plan[first:first + count], side="right") - 1

    def sample_windows(self, first: int, count: int) -> np.ndarray:
        """Window number, inside its source's stream, of global samples ``[first, first + count)``."""
        base = np.asarray(self.streams.source_base, dtype=np.int64)
        return (self.plan[first:first + count] - base[self.sample_sources(first, count)]) // self.context_length

    def rows(self, first: int, count: int, pin: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Global samples ``[first, first + count)`` as (x, y); the primitive the batch methods share.
        ``pin``: in page-locked memory, for asynchronous copies to a GPU."""
        return self.streams.gather(self._offsets(first, count), self.context_length, pin)

    def first_sample(self, step: int) -> int:
        return step * self.global_batch + self.rank * self.local_batch

    def batch(self, step: int, pin: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's rows of global batch ``step`` (pure: depends on nothing but the step)."""
        return self.rows(self.first_sample(step), self.local_batch, pin)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        first = self.samples_consumed + self.rank * self.local_batch
        if self.samples_consumed + self.global_batch > len(self.plan):
            raise StopIteration
        batch = self.rows(first, self.local_batch)
        self.samples_consumed += self.global_batch
        return batch

    # -- state ----------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Samples consumed, plus what the order depends on, so a resume can refuse a different order."""
        return {"version": self.VERSION, "samples_consumed": self.samples_consumed, "order": dict(self.identity)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume after ``state["samples_consumed"]`` samples; the global batch and world size may differ."""
        if state.get("version") != self.VERSION:
            raise SamplerStateError(f"sampler state version {state.get('version')!r}, this sampler is version "
                                    f"{self.VERSION}: the sample order changed between versions, so resuming "
                                    "would not continue the same data stream. Start a new run or use the old code")
        saved = state.get("order", {})
        differs = sorted(k for k in set(saved) | set(self.identity) if saved.get(k) != self.identity.get(k))
        if differs:
            detail = "; ".join(f"{k}: saved {saved.get(k)!r}, now {self.identity.get(k)!r}" for k in differs)
            raise SamplerStateError(f"cannot resume: the sample order depends on {', '.join(differs)}, which "
                                    f"changed ({detail}). Use the saved settings, or start the data stream over "
                                    "by not loading the sampler state")
        self.samples_consumed = int(state["samples_consumed"])

    # -- provenance -----------------------------------------------------------------------------------------
    def provenance(self, step: int, row: int, position: int) -> Provenance:
        """Where token ``position`` (0..context_length; x is 0..C-1, y is 1..C) of ``row`` of this rank's
        batch ``step`` came from."""
        if not 0 <= row < self.local_batch or not 0 <= position <= self.context_length:
            raise IndexError(f"row {row} / position {position} outside a ({self.local_batch}, "
                             f"{self.context_length + 1}) batch")
        sample = self.first_sample(step) + row
        offset = int(self._offsets(sample, 1)[0]) + position
        source = int(self.sample_sources(sample, 1)[0])
        j, local = self.streams.locate(offset)
        shard = self.streams.shards[j]
        doc_row, doc_id, url, token_in_doc = shard.document_at(local)
        seen = int(np.count_nonzero(self.sample_sources(0, sample) == source))
        return Provenance(self.names[source], doc_id, url, str(shard.path.relative_to(self.dataset.root)),
                          doc_row, token_in_doc, sample, seen // self.windows[source])


def validation_batches(dataset: TokenDataset, source: str, *, context_length: int, batch_size: int,
                       rank: int = 0, world_size: int = 1, max_batches: int | None = None
                       ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """A source's validation split as (x, y) batches, in a fixed order: windows in stream order, window
    ``k`` going to rank ``k % world_size``; the last batch may be smaller. The same every call."""
    streams = _Streams(dataset, [source], "val")
    windows = max(0, (streams.source_tokens[0] - 1) // context_length)
    mine = np.arange(rank, windows, world_size, dtype=np.int64) * context_length
    for number, first in enumerate(range(0, len(mine), batch_size)):
        if max_batches is not None and number >= max_batches:
            return
        yield streams.gather(mine[first:first + batch_size], context_length)
