"""Keras 3's numeric preprocessing layers: `Rescaling` and `Normalization` (with `adapt`).

Both are pure maps inside the model, so they run in the same jitted program as the rest of it.
`Normalization.adapt(data)` is the one host-side step: it computes the mean and variance of
`data` per kept axis (NumPy, Keras's batch-combination formula for an iterable of batches) and
writes them into the layer's non-trainable weights `mean`, `variance` (and Keras's `count`, which
Keras leaves at 0).
"""

from __future__ import annotations

import itertools
import math

import jax.numpy as jnp
import numpy as np

from fkeras import _config
from fkeras.layers import _cell
from fkeras.layers._base import Layer
from fkeras.layers._core import _check_rank
from fkeras.layers._spec import TensorSpec, as_bool


def _check_numbers(owner: str, **values) -> None:
    """Each value a number or a (nested) sequence / array of numbers: a TypeError otherwise."""
    for name, value in values.items():
        try:
            if isinstance(value, (str, bytes)) or np.asarray(value).dtype.kind not in "biuf":
                raise TypeError
            np.asarray(value, dtype="float64")
        except (TypeError, ValueError):
            raise TypeError(
                f"{owner}: `{name}` must be a number or an array of numbers. "
                f"Received: {name}={value!r}"
            ) from None


def float_dtype(layer) -> str:
    """The dtype a preprocessing layer computes and returns: its compute dtype if that is a float
    type, else floatx (a layer given `dtype='uint8'` still returns floats, as in Keras)."""
    dtype = layer.compute_dtype
    return dtype if jnp.issubdtype(jnp.dtype(dtype), jnp.floating) else _config.floatx()


class Rescaling(Layer):
    """`inputs * scale + offset`, in the layer's float dtype (e.g. `Rescaling(1 / 255)` maps
    [0, 255] to [0, 1]; `Rescaling(1 / 127.5, offset=-1)` to [-1, 1]).

    Args:
        scale: a float, or an array broadcast against the inputs (per channel: with
            `image_data_format() == 'channels_first'` it is reshaped to `(channels, 1, 1)`).
        offset: a float or an array, added after scaling.
    """

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        _check_numbers("Rescaling", scale=scale, offset=offset)
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 0)
        return TensorSpec(input_spec.shape, float_dtype(self))

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        dtype = float_dtype(self)
        scale = jnp.asarray(self.scale, dtype)
        if scale.ndim and _config.image_data_format() == "channels_first":
            scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))
        return jnp.asarray(inputs).astype(dtype) * scale + jnp.asarray(self.offset, dtype), {}

    def get_config(self):
        def plain(v):
            return np.asarray(v).tolist() if np.ndim(v) else v

        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}


class Normalization(Layer):
    """`(inputs - mean) / max(sqrt(variance), epsilon)` per position of the kept `axis`
    (Keras 3's `Normalization`); `invert=True` maps back: `mean + inputs * sqrt(variance)`.

    The statistics come from `mean=` and `variance=` (constants), or from `adapt(data)`, which
    fills the layer's non-trainable weights `mean` and `variance` (zeros and ones until then).

    Args:
        axis: the axis or axes that keep their own statistics (default -1: one mean per feature);
            None: one mean and variance for everything.
        mean, variance: optional constants (scalars or arrays over the kept axes).
        invert: apply the inverse map.

    Example:
        >>> norm = Normalization()
        >>> norm.adapt(np.array([[1.0, 10.0], [3.0, 30.0]]))
        >>> norm(np.array([[2.0, 20.0]]))  # -> [[0., 0.]]
    """

    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (tuple, list)) and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis
        ):
            axis = tuple(int(a) for a in axis)
        else:
            raise TypeError(
                f"Normalization: `axis` must be an int, a tuple of ints or None. Received: "
                f"axis={axis!r}"
            )
        if (mean is None) != (variance is None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}"
                )
            if np.ndim(mean) > len(axis):
                raise ValueError(
                    f"The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(axis)}). Received: mean shape {np.shape(mean)} for axis {axis}"
                )
        if mean is not None:
            _check_numbers("Normalization", mean=mean, variance=variance)
        super().__init__(**kwargs)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = as_bool(self, "invert", invert)

    # ---- shapes ----

    def _axes(self, shape):
        """(kept axes, reduced axes, broadcast shape) for inputs of `shape`."""
        ndim = len(shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"Layer {self.name!r}: all `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        keep = tuple(sorted(a % ndim for a in self.axis))
        for d in keep:
            if shape[d] is None:
                raise ValueError(
                    f"Layer {self.name!r}: all `axis` values to be kept must have a known shape. "
                    f"Received axis={self.axis}, inputs.shape={tuple(shape)}, with unknown axis "
                    f"at index {d}"
                )
        reduce = tuple(d for d in range(ndim) if d not in keep)
        broadcast = tuple(shape[d] if d in keep else 1 for d in range(ndim))
        return keep, reduce, broadcast

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 0)
        self._axes(input_spec.shape)
        return TensorSpec(input_spec.shape, float_dtype(self))

    def init(self, rng, input_spec):
        _check_rank(self, input_spec, 0)
        keep, _, _ = self._axes(input_spec.shape)
        if self.input_mean is not None:
            return {"params": {}, "state": {}}
        shape = tuple(input_spec.shape[d] for d in keep)
        return {
            "params": {},
            "state": {
                "mean": jnp.zeros(shape, _config.floatx()),
                "variance": jnp.ones(shape, _config.floatx()),
                "count": jnp.zeros((), "int32"),
            },
        }

    def check_input_spec(self, built_spec, input_spec) -> None:
        _check_rank(self, input_spec, 0)
        keep, _, _ = self._axes(input_spec.shape)
        if len(input_spec.shape) != len(built_spec.shape) or any(
            input_spec.shape[d] != built_spec.shape[d] for d in keep
        ):
            raise ValueError(
                f"Layer {self.name!r} was built for inputs of shape {built_spec.shape} "
                f"(axes {keep} kept). Received: inputs of shape {input_spec.shape}"
            )

    def _statistics(self, variables, shape):
        keep, _, broadcast = self._axes(shape)
        if self.input_mean is None:
            mean, variance = variables["state"]["mean"], variables["state"]["variance"]
            return mean.reshape(broadcast), variance.reshape(broadcast)
        mean, variance = jnp.asarray(self.input_mean), jnp.asarray(self.input_variance)
        if mean.ndim:  # trailing kept axes, as Keras places them
            expanded = [1] * len(shape)
            for i in range(1, mean.ndim + 1):
                expanded[keep[-i]] = mean.shape[-i]
            mean, variance = mean.reshape(expanded), variance.reshape(expanded)
        return jnp.broadcast_to(mean, broadcast), jnp.broadcast_to(variance, broadcast)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del training, rng
        dtype = float_dtype(self)
        x = jnp.asarray(inputs).astype(dtype)
        mean, variance = (s.astype(dtype) for s in self._statistics(variables, x.shape))
        std = jnp.maximum(jnp.sqrt(variance), _config.epsilon())
        return (mean + x * std if self.invert else (x - mean) / std), {}

    # ---- adapt (host) ----

    def adapt(self, data, batch_size=None, steps=None):
        """Set `mean` and `variance` from `data`: an array, or an iterable of batches (a list of
        arrays, a generator, a `Sequence` yielding arrays or `(x, y)` tuples)."""
        if self.input_mean is not None:
            raise ValueError(
                f"Layer {self.name!r} was given `mean` and `variance`: it has nothing to adapt."
            )
        batches = _batches(data, batch_size, steps)
        first = next(batches, None)
        if first is None:
            raise ValueError(
                "adapt() received an empty iterable (no batches). Expected at least one batch."
            )
        shape = (None,) + tuple(first.shape[1:])
        keep, reduce, _ = self._axes(first.shape)
        self._ensure_built(TensorSpec(shape if 0 not in keep else tuple(first.shape), self.dtype))
        built = tuple(self._current_variables()["state"]["mean"].shape)
        total_mean = total_var = None
        total_count = 0
        for batch in itertools.chain([first], batches):
            batch = np.asarray(batch, dtype="float64")
            if tuple(batch.shape[d] for d in keep) != built:
                raise ValueError(
                    f"Layer {self.name!r} was built for inputs whose kept axes {keep} have sizes "
                    f"{built}; adapt() received a batch of shape {batch.shape}."
                )
            mean, var = np.mean(batch, axis=reduce), np.var(batch, axis=reduce)
            count = math.prod(batch.shape[d] for d in reduce) if reduce else 1
            if total_mean is None:
                total_mean, total_var, total_count = mean, var, count
                continue
            total_count += count
            w = count / total_count  # Keras's combination of batch statistics
            new_mean = total_mean * (1 - w) + mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) + (
                var + (mean - new_mean) ** 2
            ) * w
            total_mean = new_mean
        current = self._current_variables()
        dtype = current["state"]["mean"].dtype
        state = {
            **current["state"],
            "mean": jnp.asarray(total_mean, dtype),
            "variance": jnp.asarray(total_var, dtype),
        }
        self._assign_variables({"params": current["params"], "state": state})
        _cell.write_version += 1

    def get_config(self):
        def plain(v):
            return None if v is None else np.asarray(v).tolist()

        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": plain(self.input_mean),
            "variance": plain(self.input_variance),
        }


def _batches(data, batch_size, steps):
    """`data` as an iterator of NumPy batches (the `x` of `(x, y)` pairs)."""
    from fkeras.utils._sequence import Sequence

    if isinstance(data, Sequence):
        items = (data[i] for i in range(len(data)))
    elif isinstance(data, (list, tuple)) or (
        hasattr(data, "__iter__") and not hasattr(data, "__array__")
    ):
        items = iter(data)
    elif hasattr(data, "__array__"):
        array = np.asarray(data)
        if array.ndim == 0:
            raise ValueError(f"adapt() needs data with at least one axis. Received: {data!r}")
        if batch_size is None:
            return iter([array])
        return (array[i : i + batch_size] for i in range(0, len(array), batch_size))
    else:
        raise TypeError(
            f"Unsupported data type: {type(data)}. `adapt` supports arrays and iterables of "
            "batches (a list of arrays, a generator, a Sequence)."
        )
    if steps is not None:
        items = itertools.islice(items, steps)
    return (np.asarray(b[0] if isinstance(b, tuple) else b) for b in items)
