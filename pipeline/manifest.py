"""The YAML manifest that describes a whole run, validated before any work starts.

Why pydantic: the manifest is the user's main interface, so every mistake must come back as the key path,
the bad value and what is allowed, and unknown keys (typos) must be refused rather than ignored. Each
source kind's options are validated by the reader module that owns them (``pipeline.readers``), so the
rules for an option live beside the code that uses it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from contracts import config_errors
from pipeline.readers import KINDS, source_kind

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ManifestError(ValueError):
    """A manifest that cannot be run; the message lists every problem with its key path."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class RunSection(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="run folder name under output_dir")
    output_dir: str = Field(description="folder that receives <name>/; relative to the manifest's folder")
    seed: int = 0


class RaySection(Strict):
    address: str | None = Field(None, description="join this cluster (e.g. 127.0.0.1:6379 or auto); "
                                 "none starts an embedded local Ray")
    num_cpus: int | None = Field(None, ge=1, description="CPUs of the embedded local Ray (default: all)")
    object_store_memory: int | None = Field(None, ge=78_643_200, description="bytes, embedded Ray only")
    max_in_flight: int | None = Field(None, ge=1, description="Ray calls submitted at once (default 2x CPUs; "
                                      "small tasks share a call)")
    max_retries: int = Field(3, ge=0, description="retries of a task whose worker process died")
    in_process: bool = Field(False, description=(
        "run every task in the driver process, one after another, without starting Ray: for a one-core "
        "run, where Ray's start (~6-15 s) and round trips buy no parallelism; same outputs, a crashed task "
        "ends the run (rerun to resume). Not with address"))


class IOSection(Strict):
    allowed_roots: list[str] | None = Field(
        None, description="folders (relative to the manifest's folder) and URL prefixes that sources and the "
        "run folder must lie under; none allows every path (see pipeline/path_policy.py)")


class SourceBase(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    paths: list[str] = Field(default_factory=list, description="files, globs or URLs")
    weight: float = Field(1.0, gt=0, description="mixture weight, used by the tokenize stage and sampler")
    max_epochs: float = Field(1.0, gt=0, description="how often a small source may be repeated")

    @field_validator("paths")
    @classmethod
    def _no_empty(cls, value: list[str]) -> list[str]:
        if any(not p.strip() for p in value):
            raise ValueError("paths must not contain empty strings")
        return value


def _clean_options_model() -> type[BaseModel]:
    from pipeline.clean import CleanOptions

    return CleanOptions


@functools.cache
def source_models() -> dict[str, type[BaseModel]]:
    """One source model per registered kind, each with that kind's own ``Options`` and extra keys."""
    models = {}
    for kind in KINDS:
        declared = source_kind(kind)
        fields: dict[str, Any] = {
            "kind": (Literal[kind], ...),
            "options": (declared.options, Field(default_factory=declared.options)),
            **declared.source_fields,
        }
        models[kind] = create_model(f"{kind.title()}Source", __base__=SourceBase, **fields)
    return models


@functools.cache
def manifest_model() -> type[BaseModel]:
    """Build the manifest model from the registered source kinds."""
    source_union = Annotated[Union[tuple(source_models().values())], Field(discriminator="kind")]  # type: ignore
    from pipeline.stages import DEFAULT_ORDER, STAGE_MODULES, get_stage

    clean_cls = _clean_options_model()
    stage_fields: dict[str, Any] = {
        name: (get_stage(name).options, Field(default_factory=get_stage(name).options))
        for name in STAGE_MODULES
    }
    stages = create_model(
        "Stages",
        __base__=Strict,
        order=(list[Literal[tuple(STAGE_MODULES)]], Field(default_factory=lambda: list(DEFAULT_ORDER),  # type: ignore
                                                           description="stages to run, in order")),
        clean=(clean_cls, Field(default_factory=clean_cls)),
        **stage_fields,
    )
    return create_model(
        "Manifest",
        __base__=Strict,
        run=(RunSection, ...),
        ray=(RaySection, Field(default_factory=RaySection)),
        io=(IOSection, Field(default_factory=IOSection)),
        sources=(Annotated[list[source_union], Field(min_length=1)], ...),  # type: ignore[valid-type]
        stages=(stages, Field(default_factory=stages)),
    )


def format_errors(error: ValidationError, origin: str) -> str:
    return config_errors.format_errors(error, f"invalid manifest {origin}", manifest_model(), source_models())


def _resolve(path: str, base: Path) -> str:
    if "://" in path or Path(path).is_absolute():
        return path
    return str((base / path).resolve()) if not any(ch in path for ch in "*?[") else str(base / path)


def content_hash(data: dict[str, Any]) -> str:
    """Hash of what the manifest asks for: blind to YAML formatting, to `ray`, `io` and origin outputs go.

    Taken before paths are resolved, so the same manifest hashes the same in any checkout.
    """
    relevant = {k: v for k, v in data.items() if k not in ("ray", "io")}
    relevant["run"] = {k: v for k, v in relevant.get("run", {}).items() if k != "output_dir"}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class LoadedManifest:
    """A validated manifest with its paths resolved against the manifest's folder."""

    def __init__(self, model: BaseModel, source_path: Path | None, raw_text: str):
        self.model = model
        self.source_path = source_path
        self.raw_text = raw_text
        self.hash = content_hash(model.model_dump(mode="json"))
        base = source_path.parent if source_path else Path.cwd()
        self.run_dir = Path(_resolve(model.run.output_dir, base)) / model.run.name
        for source in model.sources:
            source.paths = [_resolve(p, base) for p in source.paths]
        if model.io.allowed_roots:
            model.io.allowed_roots = [_resolve(p, base) for p in model.io.allowed_roots]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def _nul_key(data: Any) -> str | None:
    """The key path of the first key or string value holding a NUL character, or None (iterative: any depth)."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            return path or "(top level)"
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return child
            stack.append((child, item))
    return None


def parse_manifest(text: str, origin: str = "<string>", source_path: Path | None = None) -> LoadedManifest:
    try:
        data = yaml.safe_load(text)  # safe_load: a manifest can never construct Python objects
    except yaml.YAMLError as exc:
        raise ManifestError(f"manifest {origin} is not valid YAML: {exc}") from None
    except RecursionError:
        raise ManifestError(f"manifest {origin} is nested too deeply to be a manifest") from None
    if not isinstance(data, dict):
        raise ManifestError(f"manifest {origin} must be a mapping with keys run, ray, sources, stages; "
                            f"got {type(data).__name__}")
    nul = _nul_key(data)
    if nul is not None:  # no path or name can hold one; os calls would raise ValueError much later
        raise ManifestError(f"invalid manifest {origin}:\n  - {nul}: contains a NUL character (\\0)")
    try:
        model = manifest_model().model_validate(data)
    except ValidationError as exc:
        raise ManifestError(format_errors(exc, origin)) from None
    for i, source in enumerate(model.sources):
        declared = source_kind(source.kind)
        if not declared.names_inputs(source):
            raise ManifestError(f"invalid manifest {origin}:\n  - sources.{i}.paths: source {source.name!r} "
                                f"has no input; give paths (files, globs, URLs){declared.input_hint}")
    names = [s.name for s in model.sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ManifestError(f"invalid manifest {origin}:\n  - sources: duplicate source names {dupes}")
    return LoadedManifest(model, source_path, text)


def load_manifest(path: str | Path) -> LoadedManifest:
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest file {path} not found")
    return parse_manifest(path.read_text(encoding="utf-8"), str(path), path.resolve())
