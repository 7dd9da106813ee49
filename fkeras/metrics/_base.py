"""The `Metric` protocol (pure `init`/`update`/`compute` plus Keras's stateful facade), and the
reduction metrics `Sum`, `Mean` and `MeanMetricWrapper`.

A metric object is a spec: its config is fixed at construction. Its state is a pytree (a dict of
arrays) that the caller threads through the pure methods, which compose with `jax.jit`:

    >>> m = Mean()
    >>> state = m.init()                      # {'total': 0.0, 'count': 0.0}
    >>> state = jax.jit(m.update)(state, jnp.array([1.0, 3.0]))
    >>> m.compute(state)
    Array(2., dtype=float32)

The Keras facade (`update_state`, `result`, `reset_state`) keeps one such state on the object.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from fkeras import losses as _losses
from fkeras._naming import to_snake_case, uniquify

Array = jax.Array
State = dict[str, Array]
StateSpec = dict[str, tuple[tuple[int, ...], str]]


class Metric:
    """Base class of metrics.

    Subclasses define `state_spec()` (the state's array names, shapes and dtypes), the pure
    `update(state, ...)` and `compute(state)`; the Keras facade comes for free.

    Args:
        name: The metric's name; defaults to the snake-cased class name, made unique.
        dtype: Dtype of the state and result; defaults to `floatx()`.
    """

    def __init__(self, name: str | None = None, dtype: Any = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(
                f"{type(self).__name__}: `name` must be a string. "
                f"Received: name={name!r}"
            )
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self._dtype = _losses.standardize_dtype(dtype)
        self._state: State | None = None

    @property
    def dtype(self) -> str:
        return self._dtype

    # -- the pure protocol --------------------------------------------------------------------

    def state_spec(self) -> StateSpec:
        """Names, shapes and dtypes of the state arrays."""
        raise NotImplementedError(f"{type(self).__name__} must implement `state_spec()`.")

    def init(self) -> State:
        """A fresh state: zeros of `state_spec()`."""
        return {k: jnp.zeros(shape, dtype) for k, (shape, dtype) in self.state_spec().items()}

    def update(self, state: State, *args, **kwargs) -> State:
        """The state after accumulating one batch (pure, jittable)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update(state, ...)`.")

    def compute(self, state: State) -> Array:
        """The metric's value for a state (pure, jittable)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `compute(state)`.")

    def build(self, y_true_shape, y_pred_shape) -> None:
        """Fix shape-dependent configuration before `init` (a no-op for most metrics)."""
        del y_true_shape, y_pred_shape

    # -- Keras's stateful facade --------------------------------------------------------------

    def update_state(self, *args, **kwargs) -> None:
        """Accumulate one batch into the state this object holds."""
        if self._state is None:
            self._state = self.init()
        self._state = self.update(self._state, *args, **kwargs)

    def result(self) -> Array:
        """The value of the state this object holds."""
        return self.compute(self._state if self._state is not None else self.init())

    def reset_state(self) -> None:
        """Forget everything accumulated."""
        self._state = None

    def reset_states(self) -> None:
        """Keras 2 name of `reset_state`."""
        self.reset_state()

    def __call__(self, *args, **kwargs) -> Array:
        """`update_state(...)`, then `result()`."""
        self.update_state(*args, **kwargs)
        return self.result()

    @property
    def variables(self) -> list[Array]:
        """The arrays of the held state, in `state_spec()` order."""
        state = self._state if self._state is not None else self.init()
        return [state[k] for k in self.state_spec()]

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _mean(x: Array, axis=None) -> Array:
    return jnp.mean(x, axis=axis, dtype=jnp.promote_types(x.dtype, jnp.float32)).astype(x.dtype)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype, values_mask=None):
    """Reduce values to one per sample and weight them, with Keras 3's rules.

    Values are reduced (with `reduce_fn`) over the axes the weights lack, the weights are
    broadcast to the values and reduced over their own non-batch axes, then the values are
    reduced to rank 1. `values_mask` (a mask produced with the values) only applies when
    weights are given, as in Keras.

    Returns:
        `(values, sample_weight)`; `sample_weight` stays None when it was None.
    """
    values = jnp.asarray(values).astype(dtype)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
        sample_weight = _losses.apply_mask(sample_weight, values_mask, dtype, "sum")
        values, sample_weight = _losses.squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.ndim, values.ndim
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        sample_weight = jnp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen: state `total`.

    Example:
        >>> Sum()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        Array(4., dtype=float32)
    """

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def state_spec(self) -> StateSpec:
        return {"total": ((), self.dtype)}

    def update(self, state: State, values, sample_weight=None) -> State:
        values, _ = reduce_to_samplewise_values(values, sample_weight, jnp.sum, self.dtype)
        return {"total": state["total"] + jnp.sum(values)}

    def compute(self, state: State) -> Array:
        return state["total"].astype(self.dtype)


class Mean(Metric):
    """The (weighted) mean of the values seen: states `total` and `count`.

    Each call adds the sum of the per-sample values to `total` and the number of samples (the
    sum of the weights, when given) to `count`; a scalar value counts as one sample.

    Example:
        >>> Mean()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        Array(2., dtype=float32)
    """

    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def state_spec(self) -> StateSpec:
        return {"total": ((), self.dtype), "count": ((), self.dtype)}

    def update(self, state: State, values, sample_weight=None) -> State:
        return self._accumulate(state, values, sample_weight)

    def _accumulate(self, state: State, values, sample_weight, values_mask=None) -> State:
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, _mean, self.dtype, values_mask
        )
        if sample_weight is not None:
            num_samples = jnp.sum(sample_weight)
        elif values.ndim >= 1:
            num_samples = values.shape[0]
        else:
            num_samples = 1
        return {
            "total": state["total"] + jnp.sum(values),
            "count": state["count"] + jnp.asarray(num_samples, self.dtype),
        }

    def compute(self, state: State) -> Array:
        return _losses.divide_no_nan(state["total"], state["count"].astype(self.dtype))


def _is_array_like(x) -> bool:
    return hasattr(x, "shape") or isinstance(x, (int, float, list, tuple))


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred, **kwargs)` over all samples seen.

    `fn` returns per-sample values (or one scalar per batch, which counts as one sample). Like
    Keras 2 (Keras 3 skips it), `y_true` and `y_pred` whose ranks differ by a trailing size-1
    axis are first squeezed or expanded to agree.

    Args:
        fn: The metric function.
        name: Defaults to `fn.__name__`.
        dtype: See `Metric`.
        **kwargs: Passed on to `fn`.
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None, **kwargs):
        if not callable(fn):
            raise TypeError(f"`fn` must be callable. Received: fn={fn!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(
                f"{type(self).__name__}: `name` must be a string. "
                f"Received: name={name!r}"
            )
        if _is_builtin(fn):
            _losses.check_fn_kwargs(type(self).__name__, kwargs)
        super().__init__(name=name or _fn_name(fn), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update(self, state: State, y_true, y_pred, sample_weight=None, *, mask=None) -> State:
        """Accumulate a batch. `mask` is the output's mask (Keras reads it from `y_pred`)."""
        if _is_array_like(y_true) and _is_array_like(y_pred):
            y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
            y_true, y_pred = _losses.squeeze_or_expand_to_same_rank(y_true, y_pred)
            if "axis" in self._fn_kwargs and _is_builtin(self._fn):
                _losses.check_axis(type(self).__name__, self._fn_kwargs["axis"], jnp.ndim(y_pred))
        values, values_mask = _losses.call_with_mask(self._fn, y_true, y_pred, **self._fn_kwargs)
        sample_weight = _losses.apply_mask(sample_weight, mask, self.dtype, "sum")
        return self._accumulate(state, values, sample_weight, values_mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "fn": _losses.serialize(self._fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        config = dict(config)
        if isinstance(config.get("fn"), (dict, str)):
            config["fn"] = _deserialize_fn(config["fn"])
        return cls(**config)


class _BuiltinMeanMetric(MeanMetricWrapper):
    """A Keras mean metric class: its config is its constructor arguments (kept as attributes)."""

    def __init__(self, fn: Callable, name: str, dtype: Any, **kwargs):
        super().__init__(fn, name=name, dtype=dtype, **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)


def check_int(owner: str, name: str, value: Any, minimum: int | None = None,
              allow_none: bool = False) -> int | None:
    """`value` as an int (`>= minimum`), or None if allowed; else a ValueError naming `name`."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or (minimum is not None and value < minimum):
        expected = "an integer" + (f" >= {minimum}" if minimum is not None else "")
        raise ValueError(
            f"{owner}: argument `{name}` must be {expected}{' or None' if allow_none else ''}. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_real(owner: str, name: str, value: Any, low: float | None = None,
               high: float | None = None) -> float:
    """`value` as a float in `[low, high]`; else a ValueError naming `name`."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value
    if ok and ((low is not None and value < low) or (high is not None and value > high)):
        ok = False
    if not ok:
        bounds = f" in [{low}, {high}]" if low is not None and high is not None else ""
        raise ValueError(
            f"{owner}: argument `{name}` must be a number{bounds}. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def _is_builtin(fn: Callable) -> bool:
    """fkeras's own metric functions, whose keyword arguments fkeras checks (a user's it cannot)."""
    return (getattr(fn, "__module__", None) or "").startswith("fkeras.")


def _fn_name(fn: Callable) -> str:
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name else to_snake_case(type(fn).__name__)


def _deserialize_fn(config) -> Callable:
    # A metric function's config is a loss-style function config or name.
    from fkeras.metrics import _resolve

    return _resolve.deserialize_function(config)
