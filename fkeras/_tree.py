"""Small helpers on nested dicts of arrays (variables trees keyed by layer and weight names)."""

from typing import Any, Callable

Path = tuple[str, ...]


def flatten(tree: dict, prefix: Path = ()) -> dict[Path, Any]:
    """`{'a': {'b': x}}` -> `{('a', 'b'): x}`; empty sub-dicts vanish."""
    out: dict[Path, Any] = {}
    for name, value in tree.items():
        path = prefix + (name,)
        if isinstance(value, dict):
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def unflatten(flat: dict[Path, Any]) -> dict:
    out: dict = {}
    for path, value in flat.items():
        node = out
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = value
    return out


def partition(tree: dict, keep: Callable[[Path], bool]) -> tuple[dict, dict]:
    """Split a nested dict into (paths where `keep`, the rest), both nested again."""
    flat = flatten(tree)
    yes = {p: v for p, v in flat.items() if keep(p)}
    no = {p: v for p, v in flat.items() if not keep(p)}
    return unflatten(yes), unflatten(no)


def merge(a: dict, b: dict) -> dict:
    """Deep union of two nested dicts with disjoint leaves."""
    out = dict(a)
    for name, value in b.items():
        if name in out and isinstance(out[name], dict) and isinstance(value, dict):
            out[name] = merge(out[name], value)
        else:
            out[name] = value
    return out
