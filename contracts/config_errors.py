"""Readable validation errors for every YAML file a user writes (manifests, training configs).

One layout everywhere: one line per problem with its key path, then either the keys allowed where an
unknown key stands, or the bad value and the rule it breaks.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from pydantic import BaseModel, ValidationError


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``X | None``, ``list[X]`` or ``dict[str, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = model_in(arg)
        if found is not None:
            return found
    return None


def allowed_keys(root: type[BaseModel], loc: tuple[Any, ...],
                 tags: Mapping[str, type[BaseModel]] | None = None) -> list[str] | None:
    """The keys allowed where an unknown key was found, by walking ``root`` along the error's location.

    ``tags`` maps the tags of discriminated unions (which pydantic puts in the location) to their models.
    """
    current: type[BaseModel] | None = root
    skip_key = False  # the previous field was a mapping: this part is one of its keys (a source name)
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        if skip_key:
            skip_key = False
            continue
        if part in current.model_fields:
            annotation = current.model_fields[part].annotation
            skip_key = getattr(annotation, "__origin__", None) is dict or "dict[" in str(annotation)
            current = model_in(annotation)
        else:
            current = (tags or {}).get(part)
    return sorted(current.model_fields) if current is not None else None


def format_errors(error: ValidationError, title: str, root: type[BaseModel],
                  tags: Mapping[str, type[BaseModel]] | None = None) -> str:
    lines = [f"{title}:"]
    for item in error.errors():
        loc = tuple(item["loc"])
        path = ".".join(str(p) for p in loc) or "(top level)"
        value = item.get("input")
        shown = json.dumps(value, default=str)[:120] if value is not None else "missing"
        if item["type"] == "extra_forbidden":
            allowed = allowed_keys(root, loc, tags)
            lines.append(f"  - {path}: unknown key; allowed here: {', '.join(allowed)}" if allowed
                         else f"  - {path}: unknown key")
        elif item["type"] == "missing":
            lines.append(f"  - {path}: required key is missing")
        else:
            lines.append(f"  - {path}: {item['msg'].removeprefix('Value error, ')} (got {shown})")
    return "\n".join(lines)
