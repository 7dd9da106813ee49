"""Keras 3 weight regularizers: config objects whose `__call__(x)` returns a scalar penalty.

A regularizer is a pure function of the weight array (its factors are static floats), so the
penalty can be added to a loss inside `jax.jit` and differentiated with `jax.grad`.

Example:
    >>> reg = regularizers.get("l2")          # L2(l2=0.01)
    >>> reg(jnp.array([1.0, -2.0]))           # 0.01 * (1 + 4)
    Array(0.05, dtype=float32)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from fkeras import _config
from fkeras._registry import Registry

Array = jax.Array


def _validate_factor(value: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. "
            f"Received: {name}={value!r}"
        )
    return float(value)


class Regularizer:
    """Base class: a regularizer maps a weight array to a scalar penalty.

    Subclasses implement `__call__(self, x)` and `get_config()`; the default `from_config`
    calls the constructor with the config.
    """

    def __call__(self, x: Array) -> Array | float:
        return 0.0

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments as a JSON-serializable dict."""
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """Builds a regularizer from the output of `get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """Penalty `l1 * sum(abs(x)) + l2 * sum(square(x))`.

    Both factors default to 0, as in Keras 3; the Keras 2 function `l1_l2()` defaults both to
    0.01.

    Args:
        l1: Non-negative L1 factor (`None` means 0).
        l2: Non-negative L2 factor (`None` means 0).
    """

    def __init__(self, l1: float | None = 0.0, l2: float | None = 0.0):
        self.l1 = _validate_factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _validate_factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Array) -> Array:
        x = jnp.asarray(x)
        penalty = jnp.zeros((), x.dtype)
        # Zero factors are skipped (as in Keras), so they add no work to the compiled step.
        if self.l1:
            penalty = penalty + jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))
        if self.l2:
            penalty = penalty + jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """Penalty `l1 * sum(abs(x))`.

    Args:
        l1: Non-negative factor (`None` means the default, 0.01).
    """

    def __init__(self, l1: float | None = 0.01):
        self.l1 = _validate_factor(0.01 if l1 is None else l1, "l1")

    def __call__(self, x: Array) -> Array:
        x = jnp.asarray(x)
        return jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """Penalty `l2 * sum(square(x))`.

    Args:
        l2: Non-negative factor (`None` means the default, 0.01).
    """

    def __init__(self, l2: float | None = 0.01):
        self.l2 = _validate_factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: Array) -> Array:
        x = jnp.asarray(x)
        return jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalizes non-orthogonal rows (or columns) of a rank-2 weight.

    The rows (`mode="rows"`) or columns (`mode="columns"`) are L2-normalized, and the penalty
    is `factor * 0.5 * sum(|off-diagonal dot products|) / (n * (n - 1) / 2)`, the mean absolute
    cosine similarity over the `n * (n - 1) / 2` pairs, halved.

    Args:
        factor: Non-negative scale of the penalty.
        mode: `"rows"` or `"columns"`.
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _validate_factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                "Invalid value for argument `mode`. Expected one of {'rows', 'columns'}. "
                f"Received: mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, inputs: Array) -> Array:
        inputs = jnp.asarray(inputs)
        if inputs.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. "
                f"Received: inputs.shape={inputs.shape}"
            )
        vectors = inputs if self.mode == "rows" else inputs.T
        # Keras's L2 normalization: x * min(rsqrt(sum(x**2)), 1 / epsilon).
        inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(vectors), axis=1, keepdims=True))
        vectors = vectors * jnp.minimum(inv_norm, 1.0 / _config.epsilon())
        size = vectors.shape[0]
        product = vectors @ vectors.T
        off_diagonal = product * (1.0 - jnp.eye(size, dtype=vectors.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * jnp.sum(jnp.abs(off_diagonal)) / num_pairs

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras 2's `l1_l2`: an `L1L2` regularizer whose factors default to 0.01 each.

    Keras 3 made `l1_l2` an alias of `L1L2`, whose defaults are 0; fkeras keeps the Keras 2
    defaults here because `l1_l2()` in Keras 2 scripts means a real penalty.
    """
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer

_REGISTRY = Registry(
    "regularizer",
    Regularizer,
    "keras.regularizers",
    (Regularizer, L1, L2, L1L2, OrthogonalRegularizer),
    aliases={"l1l2": L1L2, "l1_l2": l1_l2},  # "l1l2": Keras 3's snake case of "L1L2"
)
_BY_NAME = _REGISTRY.by_name


def serialize(regularizer: Regularizer | Callable[..., Any]) -> dict[str, Any]:
    """Keras 3's config dict for `regularizer` (`module`, `class_name`, `config`); a plain named
    function serializes by name and needs `custom_objects` to deserialize."""
    return _REGISTRY.serialize(regularizer)


def deserialize(
    config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None
) -> Regularizer:
    """Builds a regularizer from a name or a Keras 2/3 config dict (`class_name`, `config`)."""
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier: Any) -> Regularizer | Any | None:
    """Returns a regularizer from `None`, a name, a config dict, a class or a callable.

    A class is instantiated with its defaults; any other callable is returned unchanged.

    Raises:
        ValueError: for an unknown name or an identifier of another type.
    """
    return _REGISTRY.get(identifier)
