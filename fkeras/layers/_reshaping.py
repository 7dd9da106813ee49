"""Reshaping layers: Cropping, ZeroPadding and UpSampling in 1, 2 and 3 D, Permute, RepeatVector.

Cropping and ZeroPadding share one implementation each (`_Cropping`, `_ZeroPadding`), holding
per spatial axis a `(before, after)` pair; the rank variants only normalise Keras's argument
spellings (an int, one int per axis, or one pair per axis). None of these layers has weights,
and none propagates a mask (as in Keras 3).
"""

import jax
import jax.numpy as jnp

from fkeras import _config
from fkeras.layers._base import Layer
from fkeras.layers._pooling import _as_spec, _check_ndim, _int_tuple, _is_int, _spatial_axes
from fkeras.layers._spec import TensorSpec

_ORDINALS = ("1st", "2nd", "3rd")
_RESIZE_METHODS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def _pairs(value, rank: int, name: str, owner: str) -> tuple:
    """Keras's `cropping`/`padding` spellings as `rank` `(before, after)` pairs of ints >= 0.

    Accepts an int (same on every side), `rank` ints (symmetric per axis) or `rank` pairs.
    """
    if rank == 1:
        return (_int_tuple(value, 2, name, allow_zero=True, owner=owner),)
    if _is_int(value):
        return (_int_tuple(value, 2, name, allow_zero=True, owner=owner),) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(
            f"{owner}: `{name}` must be an int, a tuple of {rank} ints or a tuple of {rank} "
            f"pairs of ints. Received: {name}={value!r}"
        )
    return tuple(
        _int_tuple(v, 2, f"{_ORDINALS[i]} entry of {name}", allow_zero=True, owner=owner)
        for i, v in enumerate(value)
    )


class _SpatialLayer(Layer):
    """A weightless layer acting on the `_rank` spatial axes of a rank `_rank + 2` input."""

    _rank = 0

    def _axes(self) -> tuple:
        return _spatial_axes(getattr(self, "data_format", "channels_last"), self._rank)

    def _new_size(self, i: int, size: int, input_shape: tuple) -> int:
        raise NotImplementedError

    def _output_shape(self, spec) -> tuple:
        _check_ndim(self, spec, self._rank + 2)
        shape = list(spec.shape)
        for i, axis in enumerate(self._axes()):
            if shape[axis] is not None:
                shape[axis] = self._new_size(i, shape[axis], spec.shape)
        return tuple(shape)

    def compute_output_spec(self, input_spec, **kwargs):
        return TensorSpec(self._output_shape(input_spec), input_spec.dtype)


# ---- cropping ------------------------------------------------------------------------------------


class _Cropping(_SpatialLayer):
    def __init__(self, cropping, data_format=None, **kwargs):
        cropping = _pairs(cropping, self._rank, "cropping", type(self).__name__)
        data_format = _config.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.cropping = cropping
        self.data_format = data_format

    def _new_size(self, i, size, input_shape):
        out = size - sum(self.cropping[i])
        if out <= 0:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}): `cropping` must remove fewer "
                f"elements than the input has along each spatial axis (spatial axis {i} has "
                f"{size}). Received: input shape={input_shape}, cropping={self.cropping}"
            )
        return out

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        self._output_shape(_as_spec(self, inputs))
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(self._axes(), self.cropping):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)], {}

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Crops along the time axis of a `(batch, steps, features)` tensor.

    Args:
        cropping: int (crop that many steps at both ends) or a pair `(start, end)`
            (default `(1, 1)`).

    Input shape:
        3D tensor `(batch_size, steps, features)`.

    Output shape:
        3D tensor `(batch_size, steps - start - end, features)`.
    """

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        config["cropping"] = self.cropping[0]
        return config


class Cropping2D(_Cropping):
    """Crops the rows and columns of an image tensor.

    Args:
        cropping: int (same crop on every side), `(rows, cols)` (symmetric crops) or
            `((top, bottom), (left, right))`; default no cropping.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last).

    Output shape:
        4D tensor `(batch_size, cropped_rows, cropped_cols, channels)` (channels_last).
    """

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes of a volume tensor.

    Args:
        cropping: int, 3 ints (symmetric per axis) or 3 pairs `(before, after)`
            (default `((1, 1), (1, 1), (1, 1))`).
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` (channels_last).

    Output shape:
        5D tensor with each spatial dim reduced by its two crops.
    """

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


# ---- zero padding --------------------------------------------------------------------------------


class _ZeroPadding(_SpatialLayer):
    def __init__(self, padding, data_format=None, **kwargs):
        padding = _pairs(padding, self._rank, "padding", type(self).__name__)
        data_format = _config.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.padding = padding
        self.data_format = data_format

    def _new_size(self, i, size, input_shape):
        return size + sum(self.padding[i])

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        self._output_shape(_as_spec(self, inputs))
        widths = [(0, 0)] * inputs.ndim
        for axis, pair in zip(self._axes(), self.padding):
            widths[axis] = pair
        return jnp.pad(inputs, widths), {}

    def get_config(self):
        padding = self.padding[0] if self._rank == 1 else self.padding
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Pads the time axis of a 3D tensor with zeros.

    Args:
        padding: int (that many zeros at both ends) or a pair `(start, end)` (default 1).
        data_format: 'channels_last' (`(batch, steps, features)`) or 'channels_first';
            default `image_data_format()`.

    Input shape:
        3D tensor `(batch_size, steps, features)` (channels_last).

    Output shape:
        3D tensor `(batch_size, start + steps + end, features)` (channels_last).
    """

    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pads the rows and columns of an image tensor with zeros.

    Args:
        padding: int, `(rows, cols)` (symmetric) or `((top, bottom), (left, right))`
            (default `(1, 1)`).
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last).

    Output shape:
        4D tensor `(batch_size, padded_rows, padded_cols, channels)` (channels_last).
    """

    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial axes of a volume tensor with zeros.

    Args:
        padding: int, 3 ints or 3 pairs (default `((1, 1), (1, 1), (1, 1))`).
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` (channels_last).

    Output shape:
        5D tensor with each spatial dim grown by its two pads.
    """

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


# ---- up-sampling ---------------------------------------------------------------------------------


class _UpSampling(_SpatialLayer):
    def __init__(self, size, data_format=None, **kwargs):
        size = _int_tuple(size, self._rank, "size", owner=type(self).__name__)
        data_format = _config.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.size = size
        self.data_format = data_format

    def _new_size(self, i, size, input_shape):
        return size * self.size[i]

    def _repeat(self, x):
        for axis, factor in zip(self._axes(), self.size):
            x = jnp.repeat(x, factor, axis=axis)
        return x

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        self._output_shape(_as_spec(self, inputs))
        return self._repeat(inputs), {}

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class UpSampling1D(_UpSampling):
    """Repeats each step of a 3D tensor `size` times along the time axis.

    Args:
        size: positive int, the up-sampling factor (default 2).

    Input shape:
        3D tensor `(batch_size, steps, features)`.

    Output shape:
        3D tensor `(batch_size, steps * size, features)`.
    """

    _rank = 1

    def __init__(self, size=2, **kwargs):
        if not _is_int(size):
            raise TypeError(f"UpSampling1D: `size` must be an integer. Received: size={size!r}")
        if size <= 0:
            raise ValueError(
                f"UpSampling1D: `size` must be a positive integer. Received: size={size!r}"
            )
        super().__init__(size, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Up-samples the rows and columns of an image tensor by `size`.

    Args:
        size: int or `(rows_factor, cols_factor)` (default `(2, 2)`).
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.
        interpolation: 'nearest' (repeat pixels, default), or 'bilinear', 'bicubic',
            'lanczos3', 'lanczos5' (`jax.image.resize` without antialiasing, as Keras 3).

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` (channels_last).

    Output shape:
        4D tensor `(batch_size, rows * size[0], cols * size[1], channels)` (channels_last).
    """

    _rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        method = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if not isinstance(method, str) or method not in _RESIZE_METHODS:
            raise ValueError(
                f"UpSampling2D: `interpolation` must be one of {_RESIZE_METHODS}. "
                f"Received: interpolation={interpolation!r}"
            )
        super().__init__(size, data_format, **kwargs)
        self.interpolation = method

    def apply(self, variables, inputs, *, training=False, rng=None):
        if self.interpolation == "nearest":
            return super().apply(variables, inputs, training=training, rng=rng)
        shape = self._output_shape(_as_spec(self, inputs))
        x = inputs if jnp.issubdtype(inputs.dtype, jnp.floating) else inputs.astype(self.dtype)
        return jax.image.resize(x, shape, method=self.interpolation, antialias=False), {}

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Up-samples the three spatial axes of a volume tensor by repeating elements.

    Args:
        size: int or 3 ints, the factors (default `(2, 2, 2)`).
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` (channels_last).

    Output shape:
        5D tensor with each spatial dim multiplied by its factor.
    """

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)


# ---- permute, repeat -----------------------------------------------------------------------------


class Permute(Layer):
    """Permutes the non-batch axes of its input: `dims` is a permutation of `1..n`.

    Args:
        dims: tuple of ints, e.g. `(2, 1)` swaps the two axes of a 3D input. Axis 0 (the batch)
            never moves.

    Input shape:
        Tensor of rank `len(dims) + 1`.

    Output shape:
        The input shape with axes `1..n` reordered as `dims` says.
    """

    def __init__(self, dims, **kwargs):
        try:
            dims = tuple(dims)
        except TypeError:
            raise TypeError(
                f"Permute: `dims` must be a tuple of ints. Received: dims={dims!r}"
            ) from None
        if not all(_is_int(d) for d in dims) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Permute: `dims` must be a permutation of the axes 1..n (the batch axis 0 cannot "
                f"move), e.g. (2, 1). Received: dims={dims!r}"
            )
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)

    def compute_output_spec(self, input_spec, **kwargs):
        _check_ndim(self, input_spec, len(self.dims) + 1)
        shape = input_spec.shape
        return TensorSpec((shape[0],) + tuple(shape[d] for d in self.dims), input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        _check_ndim(self, _as_spec(self, inputs), len(self.dims) + 1)
        return jnp.transpose(inputs, (0,) + self.dims), {}

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`.

    Args:
        n: positive int, the number of repetitions.

    Input shape:
        2D tensor `(batch_size, features)`.

    Output shape:
        3D tensor `(batch_size, n, features)`.
    """

    def __init__(self, n, **kwargs):
        if not _is_int(n):
            raise TypeError(f"RepeatVector: `n` must be an integer. Received: n={n!r}")
        if n <= 0:
            raise ValueError(f"RepeatVector: `n` must be a positive integer. Received: n={n!r}")
        super().__init__(**kwargs)
        self.n = int(n)

    def compute_output_spec(self, input_spec, **kwargs):
        _check_ndim(self, input_spec, 2)
        return TensorSpec((input_spec.shape[0], self.n, input_spec.shape[1]), input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        _check_ndim(self, _as_spec(self, inputs), 2)
        return jnp.repeat(inputs[:, None, :], self.n, axis=1), {}

    def get_config(self):
        return {**super().get_config(), "n": self.n}
