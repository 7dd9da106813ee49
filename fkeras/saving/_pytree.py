"""Save and restore a pytree of arrays (variables, optimizer state) without pickle.

For research code on the pure path (`model.init`/`model.apply`, optax), a checkpoint is a
pytree. `save_variables(tree, path)` writes it as an `.npz` archive: one `.npy` member per leaf,
plus `__index__.json` describing the tree (dicts, lists, tuples, named tuples, `None`, Python
scalars) and each leaf's dtype. `load_variables(path)` reads it back with
`np.load(..., allow_pickle=False)`; nothing in the file is ever executed or unpickled.

Leaves may be NumPy or JAX arrays, typed JAX PRNG keys (`jax.random.key`), dtypes NumPy lacks
natively (`bfloat16` and the other `ml_dtypes`), or plain Python numbers, strings and booleans.
Named tuples come back as named tuples with the same name and fields (a fresh class, since the
original is not imported); pass `like=` to get exactly the original structure.
"""

import io
import json
import os
import zipfile
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras.saving import _atomic

_FORMAT = "fkeras.variables"
_VERSION = 1
_INDEX = "__index__.json"


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class _Writer:
    """Walks a tree, writing each array leaf as a `.npy` member and returning the index node."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.count = 0

    def node(self, x, where: str) -> dict:
        if x is None:
            return {"type": "none"}
        if isinstance(x, dict):
            for k in x:
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(
                        "save_variables: dict keys must be strings or integers. "
                        f"Received: key {k!r} at {where or 'the root'}"
                    )
            return {
                "type": "dict",
                "items": [[k, self.node(v, f"{where}/{k}")] for k, v in x.items()],
            }
        if _is_namedtuple(x):
            return {
                "type": "namedtuple",
                "name": type(x).__name__,
                "fields": list(type(x)._fields),
                "items": [self.node(v, f"{where}/{f}") for f, v in zip(type(x)._fields, x)],
            }
        if isinstance(x, (list, tuple)):
            kind = "list" if isinstance(x, list) else "tuple"
            return {"type": kind, "items": [self.node(v, f"{where}/{i}") for i, v in enumerate(x)]}
        if isinstance(x, (bool, int, float, str)):
            return {"type": "python", "value": x}
        return self.array(x, where)

    def array(self, x, where: str) -> dict:
        node: dict[str, Any] = {"type": "array"}
        if isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            node["prng_impl"] = str(jax.random.key_impl(x))
            x = jax.random.key_data(x)
        try:
            value = np.asarray(x)
        except Exception as err:
            raise TypeError(
                f"save_variables: leaf at {where or 'the root'} is not an array. "
                f"Received: {type(x).__name__}"
            ) from err
        if value.dtype.hasobject or value.dtype.fields is not None:
            raise TypeError(
                "save_variables stores numeric arrays only (object arrays would need pickle). "
                f"Received: dtype={value.dtype} at {where or 'the root'}"
            )
        node["dtype"] = value.dtype.name
        if (
            value.dtype.isbuiltin != 1
        ):  # bfloat16 & co: store the raw bits, restore the dtype by name
            value = value.view(f"u{value.dtype.itemsize}")
        node["key"] = f"leaf_{self.count}"
        self.count += 1
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(value, order="C"), allow_pickle=False)
        self.archive.writestr(node["key"] + ".npy", buf.getvalue())
        return node


def save_variables(tree: Any, path: str | os.PathLike) -> None:
    """Saves a pytree of arrays to `path` (an `.npz` archive with a JSON index; no pickle).

    The write is atomic: on any error an existing file at `path` is left intact.

    Args:
        tree: nested dicts (string or int keys), lists, tuples and named tuples of arrays,
            PRNG keys, Python scalars or `None` (e.g. `model.get_variables()` or a train state).
        path: destination file (conventionally ending in `.npz`).

    Raises:
        TypeError: for a leaf that is not numeric data (e.g. an object array or a function).

    Example:
        >>> save_variables({"params": params, "opt_state": opt_state}, "ckpt.npz")
        >>> restored = load_variables("ckpt.npz", like={"params": params, "opt_state": opt_state})
    """
    with (
        _atomic.atomic_path(path) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive,
    ):
        root = _Writer(archive).node(tree, "")
        index = {"format": _FORMAT, "version": _VERSION, "tree": root}
        archive.writestr(_INDEX, json.dumps(index))


def _dtype_by_name(name: str) -> np.dtype:
    try:
        return np.dtype(name)
    except TypeError:
        import ml_dtypes

        found = getattr(ml_dtypes, name, None)
        if found is None:
            raise ValueError(
                f"load_variables: unknown dtype in file. Received: dtype={name!r}"
            ) from None
        return np.dtype(found)


class _Reader:
    def __init__(self, npz):
        self.npz = npz

    def node(self, node: dict):
        kind = node.get("type") if isinstance(node, dict) else None
        if kind == "none":
            return None
        if kind == "python":
            return node["value"]
        if kind == "dict":
            return {k: self.node(v) for k, v in node["items"]}
        if kind in ("list", "tuple"):
            items = [self.node(v) for v in node["items"]]
            return items if kind == "list" else tuple(items)
        if kind == "namedtuple":
            import collections

            cls = collections.namedtuple(node["name"], node["fields"])
            return cls(*[self.node(v) for v in node["items"]])
        if kind == "array":
            return self.array(node)
        raise ValueError(f"load_variables: malformed index entry. Received: {node!r:.200}")

    def array(self, node: dict):
        value = self.npz[node["key"]]
        dtype = _dtype_by_name(node["dtype"])
        if value.dtype != dtype:
            value = value.view(dtype)
        if "prng_impl" in node:
            return jax.random.wrap_key_data(jnp.asarray(value), impl=node["prng_impl"])
        return jnp.asarray(value)


def load_variables(path: str | os.PathLike, like: Any = None) -> Any:
    """Loads a pytree written by `save_variables`.

    Args:
        path: the file written by `save_variables`.
        like: optional pytree with the structure to restore (e.g. the freshly initialized
            variables or optimizer state). The leaves are put into that structure, after
            checking their number and shapes; named tuples and custom pytree nodes then come
            back as their original classes.

    Returns:
        The tree, with JAX arrays (and typed PRNG keys) as leaves.

    Raises:
        ValueError: if the file is not an fkeras variables file, or does not fit `like`.
    """
    path = os.fspath(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"load_variables: {path!r} is not a readable .npz variables file ({err})."
        ) from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(  # noqa: TRY004  (a foreign file is a bad value)
            f"load_variables: {path!r} holds a single array, not an fkeras variables file."
        )
    with npz:
        try:
            index = json.loads(npz.zip.read(_INDEX))
        except (KeyError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(
                f"load_variables: {path!r} has no valid {_INDEX}; it was not written by "
                "`save_variables`."
            ) from err
        if not isinstance(index, dict) or index.get("format") != _FORMAT:
            raise ValueError(f"load_variables: {path!r} is not an fkeras variables file.")
        if index.get("version", 0) > _VERSION:
            raise ValueError(
                f"load_variables: {path!r} was written by a newer fkeras (format version "
                f"{index['version']}; this version reads up to {_VERSION})."
            )
        tree = _Reader(npz).node(index["tree"])
    return tree if like is None else _into_structure(tree, like)


def _into_structure(tree, like):
    leaves = jax.tree_util.tree_leaves(tree)
    expected, treedef = jax.tree_util.tree_flatten(like)
    if len(leaves) != len(expected):
        raise ValueError(
            f"load_variables: the file holds {len(leaves)} leaves but `like` has "
            f"{len(expected)}. Received: like with structure {treedef}"
        )
    for i, (got, want) in enumerate(zip(leaves, expected)):
        if np.shape(got) != np.shape(want):
            raise ValueError(
                f"load_variables: leaf {i} has shape {np.shape(got)} in the file, but "
                f"`like` expects {np.shape(want)}."
            )
    return jax.tree_util.tree_unflatten(treedef, leaves)
