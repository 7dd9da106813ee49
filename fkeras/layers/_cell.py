"""Facade state beside each layer spec: its current variables and its `trainable` flag.

A layer spec never holds arrays. The stateful Keras facade (`layer.get_weights()`,
`model.fit`) keeps one `Cell` per layer object in a weak dictionary; the pure `init`/`apply`
never read or write a cell. The same layer object used twice shares one cell: that is what
weight sharing means.
"""

import weakref
from typing import Any

import jax.numpy as jnp
import numpy as np

Variables = dict  # {'params': {name: array}, 'state': {name: array}}


class Cell:
    __slots__ = ("variables", "_trainable", "built_spec", "order", "pending_weights", "__weakref__")

    def __init__(self) -> None:
        self.variables: Variables | None = None
        self._trainable = True
        self.built_spec = None  # the input spec the variables were built for
        self.order: list[tuple[str, str]] = []  # (collection, name) in creation order
        self.pending_weights = None  # Keras 2 `weights=` constructor argument

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        global trainable_version
        if value != self._trainable:
            self._trainable = value
            trainable_version += 1


_cells: "weakref.WeakKeyDictionary[Any, Cell]" = weakref.WeakKeyDictionary()

# Bumped on every write from outside the engine, so a running fit knows to re-read the cells.
write_version = 0
# Bumped whenever a layer's `trainable` flag changes (what `fit` trains is keyed on it).
trainable_version = 0
# Bumped on every write of any layer's variables (build, the engine's write-back,
# `Weight.assign`): a model caches the variables tree it composes from its layers on it.
assign_version = 0


def cell(layer) -> Cell:
    found = _cells.get(layer)
    if found is None:
        found = _cells[layer] = Cell()
    return found


def weight_order(variables: Variables) -> list[tuple[str, str]]:
    """(collection, name) pairs in creation order: params first, then state (Keras's `weights`)."""
    return [(c, n) for c in ("params", "state") for n in variables.get(c, {})]


class Weight:
    """A live view of one layer weight, like a Keras variable: `.numpy()`, `.assign()`, `.shape`."""

    __slots__ = ("_layer", "_collection", "_name")

    def __init__(self, layer, collection: str, name: str) -> None:
        self._layer = layer
        self._collection = collection
        self._name = name

    @property
    def value(self):
        return cell(self._layer).variables[self._collection][self._name]

    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> str:
        return f"{self._layer.name}/{self._name}"

    @property
    def shape(self) -> tuple:
        return tuple(self.value.shape)

    @property
    def dtype(self) -> str:
        return str(self.value.dtype)

    @property
    def trainable(self) -> bool:
        return self._collection == "params" and self._layer.trainable

    def numpy(self) -> np.ndarray:
        return np.asarray(self.value)

    def __array__(self, dtype=None, copy=None):
        value = np.asarray(self.value)
        return value.astype(dtype) if dtype is not None else value

    def assign(self, value) -> None:
        global write_version, assign_version
        old = self.value
        value = jnp.asarray(value, dtype=old.dtype)
        if value.shape != old.shape:
            raise ValueError(
                f"Cannot assign to weight `{self.path}`: expected shape {tuple(old.shape)}. "
                f"Received: value.shape={tuple(value.shape)}"
            )
        variables = cell(self._layer).variables
        variables[self._collection] = {**variables[self._collection], self._name: value}
        write_version += 1
        assign_version += 1

    def __repr__(self) -> str:
        return f"<Weight path={self.path}, shape={self.shape}, dtype={self.dtype}>"
