"""Keras-style unique names: `dense`, `dense_1`, `dense_2`, ... per process, reset by clear_session."""

import re

_counts: dict[str, int] = {}


def to_snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return name.lstrip("_")


def uniquify(base: str) -> str:
    """Return `base` the first time it is asked for, then `base_1`, `base_2`, ..."""
    count = _counts.get(base, 0)
    _counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def reset() -> None:
    _counts.clear()
