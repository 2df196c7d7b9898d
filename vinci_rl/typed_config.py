"""The one builder of typed configs: a mapping (from YAML, a recipe's `vinci` block or a CLI) -> a dataclass.

    cfg = build(PoolConfig, {"size": 4}, source="recipes/tiny_cpu.yaml", prefix="pool")

Keys are the dataclass's fields; a nested dataclass field is built from its own mapping the same way; a field
whose default is a mapping must be given a mapping. An unknown key is a ValueError naming the source (a file, a
recipe block), the dotted key and the keys that exist. Values are checked by each config's own validation.
Every config class of vinci-rl (reward, render, pool, schedule, pictures) is built here.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


def field_names(cls: type) -> list[str]:
    return sorted(f.name for f in dataclasses.fields(cls))


def check_keys(cls: type, data: Mapping[str, Any], source: str, prefix: str) -> None:
    """ValueError naming every key of `data` that `cls` lacks."""
    unknown = sorted(set(data) - set(field_names(cls)))
    if unknown:
        dotted = ", ".join(f"{prefix}.{k}" for k in unknown)
        raise ValueError(f"{source}: unknown key(s) {unknown} ({dotted}); expected one of: {', '.join(field_names(cls))}")


def build(cls: type[T], data: Mapping[str, Any] | None, source: str, prefix: str) -> T:
    """cls(**data) with nested dataclasses built from their mappings; ValueError naming source and key."""
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: '{prefix}' must be a mapping, got {type(data).__name__}")
    check_keys(cls, data, source, prefix)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = fields[key]
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(default):
            kwargs[key] = build(type(default), value or {}, source, f"{prefix}.{key}")
        elif isinstance(default, dict) and value is not None and not isinstance(value, Mapping):
            raise ValueError(f"{source}: '{prefix}.{key}' must be a mapping, got {value!r}")
        else:
            kwargs[key] = dict(value) if isinstance(value, Mapping) else value
    return cls(**kwargs)
