"""Keras 3 weight constraints: config objects whose `__call__(w)` returns the projected weight.

The facade applies a layer's constraints after each optimizer update; each one is a pure
function of the weight array, safe under `jax.jit`.

Example:
    >>> constraints.get("non_neg")(jnp.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from fkeras import _config
from fkeras._registry import Registry

Array = jax.Array
Axis = int | tuple[int, ...] | list[int]


def _axis(axis: Axis) -> int | tuple[int, ...]:
    return tuple(axis) if isinstance(axis, list) else axis


def _norms(w: Array, axis: Axis) -> Array:
    return jnp.sqrt(jnp.sum(jnp.square(w), axis=_axis(axis), keepdims=True))


class Constraint:
    """Base class: a constraint maps a weight array to a weight of the same shape.

    Subclasses implement `__call__(self, w)` and, when they have arguments, `get_config`.
    """

    def __call__(self, w: Array) -> Array:
        return w

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        """Builds a constraint from the output of `get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescales slices whose L2 norm along `axis` exceeds `max_value` down to that norm.

    `w * clip(norm, 0, max_value) / (epsilon + norm)`, with `epsilon` from `fkeras.backend`.

    Args:
        max_value: Largest norm allowed.
        axis: Axis (or axes) along which norms are computed. For a `Dense` kernel
            `(input_dim, units)`, `axis=0` constrains each unit's incoming weights; for a
            `Conv2D` kernel `(rows, cols, in, out)`, use `axis=[0, 1, 2]`.
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: Array) -> Array:
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        desired = jnp.clip(norms, 0, self.max_value)
        return w * (desired / (_config.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Replaces negative weights by 0."""

    def __call__(self, w: Array) -> Array:
        w = jnp.asarray(w)
        return jnp.maximum(w, jnp.zeros((), w.dtype))


class UnitNorm(Constraint):
    """Divides by the L2 norm along `axis`: `w / (epsilon + norm)`.

    Args:
        axis: Axis (or axes) along which norms are computed (see `MaxNorm`).
    """

    def __init__(self, axis: Axis = 0):
        self.axis = axis

    def __call__(self, w: Array) -> Array:
        w = jnp.asarray(w)
        return w / (_config.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm towards the range `[min_value, max_value]`.

    The target norm is `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`, and the
    result is `w * target / (epsilon + norm)`.

    Args:
        min_value: Smallest norm allowed.
        max_value: Largest norm allowed.
        rate: Fraction of the way to move towards the range; 1.0 enforces it strictly.
        axis: Axis (or axes) along which norms are computed (see `MaxNorm`).
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0
    ):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: Array) -> Array:
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        desired = (
            self.rate * jnp.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        )
        return w * (desired / (_config.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


# Keras 3 lowercase aliases, and Keras 1/2's older spellings.
max_norm = maxnorm = MaxNorm
non_neg = nonneg = NonNeg
unit_norm = unitnorm = UnitNorm
min_max_norm = MinMaxNorm

_REGISTRY = Registry(
    "constraint",
    Constraint,
    "keras.constraints",
    (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm),
    aliases={"maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm},
)
_BY_NAME = _REGISTRY.by_name


def serialize(constraint: Constraint | Callable[..., Any]) -> dict[str, Any]:
    """Keras 3's config dict for `constraint` (`module`, `class_name`, `config`); a plain named
    function serializes by name and needs `custom_objects` to deserialize."""
    return _REGISTRY.serialize(constraint)


def deserialize(
    config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None
) -> Constraint:
    """Builds a constraint from a name or a Keras 2/3 config dict (`class_name`, `config`)."""
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier: Any) -> Constraint | Any | None:
    """Returns a constraint from `None`, a name, a config dict, a class or a callable.

    A class is instantiated with its defaults; any other callable is returned unchanged.

    Raises:
        ValueError: for an unknown name or an identifier of another type.
    """
    return _REGISTRY.get(identifier)
