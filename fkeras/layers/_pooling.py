"""Pooling layers: max and average pooling over windows, and global pooling, in 1, 2 and 3 D.

Each family is one general implementation (`_Pooling`, `_GlobalPooling`) with thin rank
variants that only fix the number of spatial dimensions and document their shapes, as Keras's
`MaxPooling2D` sits over `BasePooling`. Keras 2's short names (`MaxPool2D`, `AvgPool2D`,
`GlobalAvgPool2D`, ...) are aliases of the same classes.

The module also holds the small argument helpers that the reshaping and core-extra layers share
(`_int_tuple`, `_check_ndim`, `_spatial_axes`).
"""

import numbers

import jax.numpy as jnp
import numpy as np
from jax import lax

from fkeras import _config
from fkeras.layers._base import Layer
from fkeras.layers._spec import TensorSpec, as_bool

_PADDINGS = ("valid", "same")


# ---- shared argument helpers (also used by _reshaping and _core_extra) --------------------------


def _is_int(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _int_tuple(value, n: int, name: str, *, allow_zero: bool = False, owner: str = "") -> tuple:
    """`value` (an int, or an iterable of `n` ints) as a tuple of `n` Python ints.

    Raises:
        ValueError: for the wrong length, a non-integer entry, or a negative (or, unless
            `allow_zero`, zero) entry. The message names `owner` (the layer class) and `name`.
    """
    prefix = f"{owner}: " if owner else ""
    bound = ">= 0" if allow_zero else "> 0"
    expected = (
        f"{prefix}The `{name}` argument must be an integer or a tuple of {n} integers {bound}."
    )
    if _is_int(value):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(f"{expected} Received: {name}={value!r}") from None
        if len(values) != n or not all(_is_int(v) for v in values):
            raise ValueError(f"{expected} Received: {name}={value!r}")
        values = tuple(int(v) for v in values)
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        raise ValueError(f"{expected} Received: {name}={value!r}")
    return values


def _check_ndim(layer: Layer, spec, ndim: int) -> None:
    """Raise a ValueError naming `layer` unless `spec` is one TensorSpec of rank `ndim`."""
    if not isinstance(spec, TensorSpec):
        # ValueError, as Keras raises for a layer given the wrong number of inputs.
        raise ValueError(  # noqa: TRY004
            f"Layer {layer.name!r} ({type(layer).__name__}) expects a single input tensor. "
            f"Received: {len(spec) if isinstance(spec, (list, tuple)) else spec!r} inputs."
        )
    if spec.ndim != ndim:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects an input of rank {ndim}. "
            f"Received: input shape={spec.shape}"
        )
    if jnp.issubdtype(spec.dtype, jnp.complexfloating):
        raise TypeError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects real-valued inputs. "
            f"Received: input dtype={spec.dtype}"
        )


def _spatial_axes(data_format: str, rank: int) -> tuple:
    """The spatial axes of a `(batch, ..., channels)` or `(batch, channels, ...)` tensor."""
    start = 1 if data_format == "channels_last" else 2
    return tuple(range(start, start + rank))


def _check_padding(padding, owner: str) -> str:
    value = padding.lower() if isinstance(padding, str) else padding
    if not isinstance(value, str) or value not in _PADDINGS:
        raise ValueError(
            f"{owner}: `padding` must be 'valid' or 'same'. Received: padding={padding!r}"
        )
    return value


def _as_spec(layer: Layer, inputs):
    """The spec of a concrete (or traced) input, or a list of specs (which `_check_ndim` refuses)."""
    if isinstance(inputs, (list, tuple)):
        return [_as_spec(layer, x) for x in inputs]
    return TensorSpec(tuple(inputs.shape), str(inputs.dtype))


# ---- windowed pooling ----------------------------------------------------------------------------


class _Pooling(Layer):
    """Max or average pooling over `rank` spatial dimensions (the shared implementation)."""

    _rank = 0
    _mode = ""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        owner = type(self).__name__
        pool_size = _int_tuple(pool_size, self._rank, "pool_size", owner=owner)
        strides = (
            pool_size
            if strides is None
            else _int_tuple(strides, self._rank, "strides", owner=owner)
        )
        padding = _check_padding(padding, owner)
        data_format = _config.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.pool_size = pool_size
        self.strides = strides
        self.padding = padding
        self.data_format = data_format

    def _window(self) -> tuple:
        return self._full(self.pool_size)

    def _full(self, spatial: tuple) -> tuple:
        """Spatial window dims padded with 1 for the batch and channel axes."""
        if self.data_format == "channels_last":
            return (1,) + spatial + (1,)
        return (1, 1) + spatial

    def _output_shape(self, spec: TensorSpec) -> tuple:
        _check_ndim(self, spec, self._rank + 2)
        shape = list(spec.shape)
        for axis, pool, stride in zip(
            _spatial_axes(self.data_format, self._rank), self.pool_size, self.strides
        ):
            size = shape[axis]
            if size is None:
                continue
            ((lo, hi),) = lax.padtype_to_pads((size,), (pool,), (stride,), self.padding.upper())
            out = (size + lo + hi - pool) // stride + 1
            if size + lo + hi < pool or out <= 0:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): the pooling window is larger "
                    f"than the input with padding='valid', so the output would be empty. "
                    f"Received: input shape={spec.shape}, pool_size={self.pool_size}, "
                    f"strides={self.strides}"
                )
            shape[axis] = out
        return tuple(shape)

    def compute_output_spec(self, input_spec, **kwargs):
        shape = self._output_shape(input_spec)
        dtype = (
            input_spec.dtype if self._mode == "max" or _is_float(input_spec.dtype) else self.dtype
        )
        return TensorSpec(shape, dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        self._output_shape(_as_spec(self, inputs))
        x = jnp.asarray(inputs)
        window, strides, padding = self._window(), self._full(self.strides), self.padding.upper()
        if self._mode == "max":
            # numpy (not jnp) init values stay concrete under jit, so JAX picks its
            # differentiable max/add window reducers.
            if x.dtype == jnp.bool_:
                init = False
            else:
                init = -np.inf if jnp.issubdtype(x.dtype, jnp.floating) else jnp.iinfo(x.dtype).min
            return lax.reduce_window(
                x, np.array(init, x.dtype), lax.max, window, strides, padding
            ), {}
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(self.dtype)
        zero = np.array(0, x.dtype)
        summed = lax.reduce_window(x, zero, lax.add, window, strides, padding)
        if self.padding == "valid":
            return summed / int(np.prod(self.pool_size)), {}
        # 'same': divide by the number of real (unpadded) elements in each window, as Keras's JAX
        # backend does; a window over the border averages fewer values.
        ones_shape = tuple(d if w != 1 else 1 for d, w in zip(x.shape, window))
        counts = lax.reduce_window(
            jnp.ones(ones_shape, x.dtype), zero, lax.add, window, strides, padding
        )
        return summed / counts, {}

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


def _is_float(dtype) -> bool:
    return jnp.issubdtype(jnp.dtype(dtype), jnp.floating)


class MaxPooling1D(_Pooling):
    """Max pooling for temporal data: the maximum over windows of `pool_size` steps.

    Args:
        pool_size: int, the window size (default 2).
        strides: int or None, the step between windows (default: `pool_size`).
        padding: 'valid' (no padding; windows must fit) or 'same' (pad so that
            `output_length = ceil(input_length / strides)`).
        data_format: 'channels_last' (`(batch, steps, features)`) or 'channels_first'
            (`(batch, features, steps)`); default `image_data_format()`.

    Input shape:
        3D tensor `(batch_size, steps, features)` (channels_last).

    Output shape:
        3D tensor `(batch_size, pooled_steps, features)` (channels_last).
    """

    _rank, _mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pooling):
    """Max pooling for 2D spatial data: the maximum over `pool_size` windows.

    Args:
        pool_size: int or tuple of 2 ints, the window size (default `(2, 2)`).
        strides: int, tuple of 2 ints or None (default: `pool_size`).
        padding: 'valid' or 'same' (output size `ceil(input_size / strides)`).
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last) or
        `(batch_size, channels, rows, cols)` (channels_first).

    Output shape:
        4D tensor `(batch_size, pooled_rows, pooled_cols, channels)` (channels_last) or
        `(batch_size, channels, pooled_rows, pooled_cols)` (channels_first).
    """

    _rank, _mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_Pooling):
    """Max pooling for 3D (spatial or spatio-temporal) data.

    Args:
        pool_size: int or tuple of 3 ints, the window size (default `(2, 2, 2)`).
        strides: int, tuple of 3 ints or None (default: `pool_size`).
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` (channels_last) or
        `(batch_size, channels, dim1, dim2, dim3)` (channels_first).

    Output shape:
        5D tensor with the three spatial dims pooled.
    """

    _rank, _mode = 3, "max"

    def __init__(
        self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """Average pooling for temporal data: the mean over windows of `pool_size` steps.

    With `padding='same'`, windows that overlap the border average only the real (unpadded)
    elements, as Keras 3 does.

    Args:
        pool_size: int, the window size (Keras 3 requires it; default 2 as in Keras 2).
        strides: int or None (default: `pool_size`).
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        3D tensor `(batch_size, steps, features)` (channels_last).

    Output shape:
        3D tensor `(batch_size, pooled_steps, features)` (channels_last).
    """

    _rank, _mode = 1, "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Average pooling for 2D spatial data (border windows average real elements only).

    Args:
        pool_size: int or tuple of 2 ints (default `(2, 2)`, as in Keras 2).
        strides: int, tuple of 2 ints or None (default: `pool_size`).
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last) or
        `(batch_size, channels, rows, cols)` (channels_first).

    Output shape:
        4D tensor with rows and cols pooled.
    """

    _rank, _mode = 2, "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pooling):
    """Average pooling for 3D data (border windows average real elements only).

    Args:
        pool_size: int or tuple of 3 ints (default `(2, 2, 2)`, as in Keras 2).
        strides: int, tuple of 3 ints or None (default: `pool_size`).
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` (channels_last).

    Output shape:
        5D tensor with the three spatial dims pooled.
    """

    _rank, _mode = 3, "average"

    def __init__(
        self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


# ---- global pooling ------------------------------------------------------------------------------


class _GlobalPooling(Layer):
    """Max or mean over all spatial axes (the shared implementation)."""

    _rank = 0
    _mode = ""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        data_format = _config.standardize_data_format(data_format)
        if not isinstance(keepdims, (bool, np.bool_)):
            raise TypeError(
                f"{type(self).__name__}: `keepdims` must be a boolean. Received: keepdims={keepdims!r}"
            )
        super().__init__(**kwargs)
        self.data_format = data_format
        self.keepdims = as_bool(self, "keepdims", keepdims)

    def _axes(self) -> tuple:
        return _spatial_axes(self.data_format, self._rank)

    def compute_output_spec(self, input_spec, **kwargs):
        _check_ndim(self, input_spec, self._rank + 2)
        axes = self._axes()
        if self.keepdims:
            shape = tuple(1 if i in axes else d for i, d in enumerate(input_spec.shape))
        else:
            shape = tuple(d for i, d in enumerate(input_spec.shape) if i not in axes)
        dtype = (
            input_spec.dtype if self._mode == "max" or _is_float(input_spec.dtype) else "float32"
        )
        return TensorSpec(shape, dtype)

    def _reduce(self, x):
        _check_ndim(self, _as_spec(self, x), self._rank + 2)
        if self._mode == "max":
            if any(x.shape[a] == 0 for a in self._axes()):
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): the maximum over an empty "
                    f"axis is undefined. Received: input shape={x.shape}"
                )
            return jnp.max(x, axis=self._axes(), keepdims=self.keepdims)
        return _mean(x, self._axes(), self.keepdims)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        return self._reduce(jnp.asarray(inputs)), {}

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


def _mean(x, axis, keepdims: bool):
    """Keras's `ops.mean`: accumulate in at least float32, return the input's float dtype."""
    compute = jnp.result_type(x.dtype, jnp.float32)
    out = jnp.mean(x, axis=axis, keepdims=keepdims, dtype=compute)
    return out.astype(x.dtype) if jnp.issubdtype(x.dtype, jnp.floating) else out


_GLOBAL_ARGS = """
    Args:
        data_format: 'channels_last' (channels on the last axis) or 'channels_first';
            default `image_data_format()`.
        keepdims: keep the pooled spatial axes with size 1 (default False: drop them)."""


class GlobalMaxPooling1D(_GlobalPooling):
    __doc__ = f"""Global max pooling for temporal data: the maximum over the steps axis.
{_GLOBAL_ARGS}

    Input shape:
        3D tensor `(batch_size, steps, features)` (channels_last).

    Output shape:
        `(batch_size, features)`, or `(batch_size, 1, features)` with `keepdims=True`.
    """

    _rank, _mode = 1, "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalMaxPooling2D(_GlobalPooling):
    __doc__ = f"""Global max pooling for 2D spatial data: the maximum over rows and cols.
{_GLOBAL_ARGS}

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last).

    Output shape:
        `(batch_size, channels)`, or `(batch_size, 1, 1, channels)` with `keepdims=True`.
    """

    _rank, _mode = 2, "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalMaxPooling3D(_GlobalPooling):
    __doc__ = f"""Global max pooling for 3D data: the maximum over the three spatial axes.
{_GLOBAL_ARGS}

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` (channels_last).

    Output shape:
        `(batch_size, channels)`, or `(batch_size, 1, 1, 1, channels)` with `keepdims=True`.
    """

    _rank, _mode = 3, "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalAveragePooling1D(_GlobalPooling):
    __doc__ = f"""Global average pooling for temporal data: the mean over the steps axis.

    Consumes a mask: with `mask` (`(batch_size, steps)`, True where a step is real), masked steps
    are left out of the mean, as Keras does. The output carries no mask.
{_GLOBAL_ARGS}

    Input shape:
        3D tensor `(batch_size, steps, features)` (channels_last).

    Output shape:
        `(batch_size, features)`, or `(batch_size, 1, features)` with `keepdims=True`.
    """

    _rank, _mode = 1, "average"
    supports_masking = True

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        del variables, training, rng
        x = jnp.asarray(inputs)
        if mask is None:
            return self._reduce(x), {}
        _check_ndim(self, _as_spec(self, x), 3)
        steps = self._axes()[0]
        keep = jnp.expand_dims(jnp.asarray(mask).astype(bool), 2 if steps == 1 else 1)
        x = jnp.where(keep, x, jnp.zeros((), x.dtype))
        counts = jnp.sum(keep.astype(x.dtype), axis=steps, keepdims=self.keepdims)
        return jnp.sum(x, axis=steps, keepdims=self.keepdims) / counts, {}

    def compute_mask(self, inputs, mask=None):
        """The mask is consumed here: the pooled output has none."""
        del inputs, mask


class GlobalAveragePooling2D(_GlobalPooling):
    __doc__ = f"""Global average pooling for 2D spatial data: the mean over rows and cols.
{_GLOBAL_ARGS}

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last).

    Output shape:
        `(batch_size, channels)`, or `(batch_size, 1, 1, channels)` with `keepdims=True`.
    """

    _rank, _mode = 2, "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalAveragePooling3D(_GlobalPooling):
    __doc__ = f"""Global average pooling for 3D data: the mean over the three spatial axes.
{_GLOBAL_ARGS}

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` (channels_last).

    Output shape:
        `(batch_size, channels)`, or `(batch_size, 1, 1, 1, channels)` with `keepdims=True`.
    """

    _rank, _mode = 3, "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


# Keras 2 (and Keras 3) short names.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
