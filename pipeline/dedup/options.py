"""The dedup stage's options: what a manifest may set (``Options``), resolved to the concrete values every
task gets (``Config``), and the keys derived from them (the work folder's fingerprint, source priorities).

One home for option handling, so the driver (``pipeline.stages.dedup``) only reads resolved values.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.dedup.lsh_params import PRESETS, optimal_bands_rows
from pipeline.dedup.minhash import MinHashParams


class Options(BaseModel):
    """``stages.dedup``: a preset, optionally overridden field by field."""

    model_config = ConfigDict(extra="forbid")
    preset: Literal["fineweb", "redpajama-v2"] = Field("fineweb", description="published MinHash settings")
    ngram: int | None = Field(None, ge=1, le=64, description="words per shingle (preset's if unset)")
    num_perm: int | None = Field(None, ge=1, le=1024, description="MinHash permutations")
    bands: int | None = Field(None, ge=1)
    rows: int | None = Field(None, ge=1)
    threshold: float | None = Field(None, gt=0, lt=1, description="target Jaccard: derives bands/rows when "
                                    "they are unset, and is the default verification threshold")
    seed: int = Field(1, ge=0, description="permutation seed (datasketch's default is 1)")
    hash_bits: Literal[32, 64] = Field(64, description="64: FineWeb; 32: datasketch legacy-compatible values")
    exact: bool = Field(True, description="remove exact duplicates of the normalised text")
    near: bool = Field(True, description="remove MinHash near duplicates")
    verify: bool = Field(False, description="check candidate pairs by exact Jaccard of their shingle sets")
    verify_threshold: float | None = Field(None, gt=0, le=1, description="default: threshold, else 0.8")
    verify_all_pairs_up_to: int = Field(16, ge=0, description="with verify, buckets up to this size give "
                                        "all their pairs instead of a star")
    partitions: int | None = Field(None, ge=1, le=4096, description="bucket/graph partitions "
                                   "(default: one per 4 input shards)")
    source_priority: list[str] | None = Field(None, description="sources in keep order, most preferred first "
                                              "(default: the order of the manifest's sources)")
    max_rounds: int = Field(64, ge=1, description="connected-components rounds before giving up")
    examples: int = Field(10, ge=0, description="largest clusters listed in stats/dedup_clusters.json")

    @model_validator(mode="after")
    def _consistent(self) -> "Options":
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither")
        if not (self.exact or self.near):
            raise ValueError("exact and near are both off: remove dedup from stages.order instead")
        return self


@dataclass(frozen=True)
class Config:
    """Options resolved to concrete values; travels to every task."""

    ngram: int
    num_perm: int
    bands: int
    rows: int
    seed: int
    hash_bits: int
    exact: bool
    near: bool
    verify: bool
    verify_threshold: float
    all_pairs_up_to: int
    partitions: int

    @property
    def minhash(self) -> MinHashParams:
        return MinHashParams(self.num_perm, self.seed, self.hash_bits, self.ngram)


def resolve(options: Options, num_inputs: int) -> Config:
    preset = PRESETS[options.preset]
    ngram = options.ngram or preset.ngram
    num_perm = options.num_perm or preset.num_perm
    threshold = options.threshold if options.threshold is not None else preset.threshold
    if options.bands is not None:
        bands, rows = options.bands, options.rows
    elif options.threshold is not None or preset.bands is None or options.num_perm is not None:
        bands, rows = optimal_bands_rows(threshold or 0.8, num_perm)
    else:
        bands, rows = preset.bands, preset.rows
    if bands * rows > num_perm:
        raise ValueError(f"stages.dedup: {bands} bands x {rows} rows need {bands * rows} permutations, "
                         f"num_perm is {num_perm}")
    partitions = options.partitions or max(1, math.ceil(num_inputs / 4))
    verify_threshold = options.verify_threshold or threshold or 0.8
    return Config(ngram, num_perm, bands, rows, options.seed, options.hash_bits, options.exact, options.near,
                  options.verify, verify_threshold, options.verify_all_pairs_up_to if options.verify else 0,
                  partitions)


def fingerprint(config: Config, inputs: list[str]) -> str:
    """Names the work folder: a changed setting or input list starts a fresh one."""
    data = json.dumps({"config": asdict(config), "inputs": inputs}, sort_keys=True).encode()
    return hashlib.blake2b(data, digest_size=6).hexdigest()


def source_priorities(sources: list[Any], options: Options) -> dict[str, int]:
    """Keep order of the sources (0: most preferred): ``source_priority`` first, then manifest order."""
    names = [s.name for s in sources]
    order = options.source_priority or names
    unknown = sorted(set(order) - set(names))
    if unknown:
        raise ValueError(f"stages.dedup.source_priority names unknown sources {unknown}; sources: {names}")
    order = list(dict.fromkeys(order)) + [n for n in names if n not in order]
    return {name: i for i, name in enumerate(order)}
