"""Static tensor specs: a shape that may hold `None` (any size) and a dtype, nothing else."""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """Shape (ints or None) and dtype name of a tensor, known before any arithmetic runs.

    Deliberately not a pytree node: nested structures of specs (a list of inputs) flatten to
    TensorSpec leaves.
    """

    shape: tuple
    dtype: str = "float32"

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(self.shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def with_shape(self, shape) -> "TensorSpec":
        return TensorSpec(tuple(shape), self.dtype)


def standardize_shape(shape, what: str = "shape") -> tuple:
    """A tuple of positive ints or None; raise a ValueError naming `what` otherwise."""
    if shape is None:
        raise ValueError(f"`{what}` must be a tuple of integers or None. Received: {what}=None")
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(
            f"`{what}` must be a tuple of integers or None. Received: {what}={shape!r}"
        ) from None
    out = []
    for dim in shape:
        if dim is None:
            out.append(None)
            continue
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
            raise TypeError(
                f"`{what}` must contain only integers or None. Received: {what}={shape!r}"
            )
        if dim < 0:
            raise ValueError(
                f"`{what}` must contain only non-negative integers or None. "
                f"Received: {what}={shape!r}"
            )
        out.append(int(dim))
    return tuple(out)


def standardize_dtype(dtype: Any) -> str:
    """A canonical dtype name ('float32', 'int32', ...) for strings, numpy and jax dtypes.

    Raises a TypeError naming `dtype` for anything that is not a numeric dtype (an array, a
    list, `object`, a string dtype), so the mistake surfaces where the dtype was given.
    """
    if dtype is None:
        from fkeras import _config

        return _config.floatx()
    if isinstance(dtype, dict) and "config" in dtype:  # Keras 3 DTypePolicy config
        dtype = dtype["config"].get("name", "float32")
    if hasattr(dtype, "name") and not isinstance(dtype, (str, np.dtype, type)):
        dtype = getattr(dtype, "variable_dtype", None) or dtype.name  # a policy object
    if isinstance(dtype, str) and dtype in ("mixed_float16", "mixed_bfloat16"):
        dtype = "float32"
    if isinstance(dtype, str) and dtype == "bfloat16":
        return "bfloat16"
    # only names, numpy dtypes and scalar types: np.dtype() also reads lists and tuples as
    # structured dtypes, and arrays compare elementwise
    if not isinstance(dtype, (str, np.dtype, type)):
        raise TypeError(f"Invalid dtype: expected a dtype name such as 'float32'. Received: dtype={dtype!r}")
    try:
        resolved = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"Invalid dtype. Received: dtype={dtype!r}") from None
    if not (resolved.kind in "biufc" or jnp.issubdtype(resolved, jnp.number)):  # bfloat16, float8
        raise TypeError(
            f"Invalid dtype: expected a numeric or boolean dtype. Received: dtype={dtype!r}"
        )
    return resolved.name


def as_bool(owner: Any, name: str, value: Any) -> bool:
    """A boolean constructor flag of layer `owner`: a bool (an int, or None meaning False, as
    Keras's `bool()` reads them); a string, float, array or other object is a TypeError."""
    if value is None or isinstance(value, (bool, int, np.bool_, np.integer)):
        return bool(value)
    raise TypeError(
        f"{type(owner).__name__}: `{name}` must be a bool. Received: {name}={value!r}"
    )


def spec_of(x) -> TensorSpec:
    """The spec of a concrete array (or anything with .shape/.dtype)."""
    return TensorSpec(tuple(x.shape), standardize_dtype(x.dtype))


def to_struct(spec: TensorSpec, fill: int) -> jax.ShapeDtypeStruct:
    """A concrete ShapeDtypeStruct with every None dim set to `fill` (for jax.eval_shape)."""
    return jax.ShapeDtypeStruct(tuple(fill if d is None else d for d in spec.shape), spec.dtype)


def is_float(dtype) -> bool:
    return np.issubdtype(np.dtype(dtype), np.floating) or str(dtype) == "bfloat16"
