"""Merge layers: combine a list of tensors into one (Add, Concatenate, Dot, ...).

Each layer takes a list of tensors as its one input (`Add()([x1, x2])`), and each has a
function form that builds the layer and calls it (`add([x1, x2])`), as in Keras.

Element-wise merges broadcast as Keras 3 does: the sample shapes (all axes but the batch axis)
broadcast NumPy-style, and an input of lower rank gets unit axes inserted after its batch axis.
Masks (one per input, shape `(batch, steps)`) are combined with a logical OR; `Multiply`,
`Maximum` and `Minimum` also use them in the arithmetic exactly as Keras 3 does.
"""

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import _config
from fkeras.layers._base import Layer
from fkeras.layers._spec import TensorSpec, as_bool, standardize_dtype


def _name(layer: Layer) -> str:
    return f"Layer {layer.name!r} ({type(layer).__name__})"


def _shapes(specs) -> list:
    return [tuple(s.shape) for s in specs]


def _broadcast_dims(layer: Layer, specs: list, a: tuple, b: tuple) -> tuple:
    """NumPy broadcasting of two sample shapes (None: unknown), Keras's merge rule."""
    if len(a) < len(b):
        a, b = b, a
    out = list(a[: len(a) - len(b)])
    for i, j in zip(a[len(a) - len(b) :], b):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1 or i == j:
            out.append(j if i == 1 else i)
        else:
            raise ValueError(
                f"{_name(layer)} requires inputs with shapes that broadcast together "
                f"(the batch axis aside). Received: input shapes={_shapes(specs)}"
            )
    return tuple(out)


def _expand_mask(mask, x):
    """A `(batch, steps)` mask broadcast to the shape of `x` (Keras: expand the last axis)."""
    mask = mask.astype(bool)
    while mask.ndim < x.ndim:
        mask = mask[..., None]
    return jnp.broadcast_to(mask, x.shape)


def _check_mask_list(layer: Layer, inputs, mask) -> list:
    if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
        raise ValueError(
            f"{_name(layer)} expects `mask` to be a list with one entry (or None) per input "
            f"({len(inputs)} inputs). Received: mask={mask!r}"
        )
    return list(mask)


def _input_specs(layer: "_Merge", inputs) -> list:
    """The specs of a list of concrete inputs, checked like `compute_output_spec` checks them."""
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(  # noqa: TRY004 -- Keras raises ValueError for a non-list input
            f"{_name(layer)} should be called on a list of tensors. "
            f"Received: inputs of type {type(inputs).__name__} with shape {jnp.shape(inputs)}"
        )
    return layer._specs(
        [TensorSpec(jnp.shape(x), standardize_dtype(jnp.result_type(x))) for x in inputs]
    )


class _Merge(Layer):
    """Base of the element-wise merges: checks the input list, broadcasts, ORs the masks."""

    supports_masking = True
    _min_inputs = 1
    _max_inputs: int | None = None

    def _specs(self, input_spec) -> list:
        if not isinstance(input_spec, (list, tuple)) or not all(
            isinstance(s, TensorSpec) for s in input_spec
        ):
            raise ValueError(
                f"{_name(self)} should be called on a list of tensors. "
                f"Received: inputs={input_spec!r}"
            )
        n = len(input_spec)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            if self._max_inputs == self._min_inputs:
                expected = f"exactly {self._min_inputs}"
            else:
                expected = f"at least {self._min_inputs}"
            raise ValueError(
                f"{_name(self)} should be called on a list of {expected} input(s). "
                f"Received: {n} inputs with shapes={_shapes(input_spec)}"
            )
        for s in input_spec:
            if s.ndim < 1:
                raise ValueError(
                    f"{_name(self)} expects inputs with a batch axis (rank >= 1). "
                    f"Received: input shapes={_shapes(input_spec)}"
                )
        batch_sizes = {s.shape[0] for s in input_spec} - {None}
        if len(batch_sizes) > 1 and self._checks_batch(input_spec):
            raise ValueError(
                f"{_name(self)} cannot merge tensors with different batch sizes. "
                f"Received: input shapes={_shapes(input_spec)}"
            )
        return list(input_spec)

    def _checks_batch(self, specs) -> bool:
        del specs
        return True

    def _output_dtype(self, specs: list) -> str:
        return standardize_dtype(jnp.result_type(*[s.dtype for s in specs]))

    def compute_output_spec(self, input_spec, **kwargs):
        specs = self._specs(input_spec)
        sample = specs[0].shape[1:]
        for s in specs[1:]:
            sample = _broadcast_dims(self, specs, sample, s.shape[1:])
        batch = ({s.shape[0] for s in specs} - {None} or {None}).pop()
        return TensorSpec((batch,) + sample, self._output_dtype(specs))

    def check_input_spec(self, built_spec, input_spec) -> None:
        self.compute_output_spec(input_spec)

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        del variables, training, rng
        self.compute_output_spec(_input_specs(self, inputs))
        xs = [jnp.asarray(x) for x in inputs]
        masks = [None] * len(xs) if mask is None else _check_mask_list(self, xs, mask)
        ranks = {x.ndim for x in xs}
        if len(ranks) > 1:
            # Keras inserts unit axes after the batch axis; the reshaped tensors lose their
            # masks there, so the masks take no part in the arithmetic in this case.
            top = max(ranks)
            xs = [x.reshape(x.shape[:1] + (1,) * (top - x.ndim) + x.shape[1:]) for x in xs]
            masks = [None] * len(xs)
        return self._merge(xs, masks), {}

    def _merge(self, xs: list, masks: list):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        masks = _check_mask_list(self, inputs, mask)
        if any(m is None for m in masks):
            return None
        out = jnp.asarray(masks[0]).astype(bool)
        for m in masks[1:]:
            out = jnp.logical_or(out, m)
        return out


class Add(_Merge):
    """Adds a list of tensors element-wise: `inputs[0] + inputs[1] + ...`.

    Input shape: a list of tensors whose shapes broadcast together.
    Output shape: the broadcast shape.

    Example:
        >>> y = Add()([np.ones((2, 3)), np.ones((2, 3))])   # all 2.0
    """

    def _merge(self, xs, masks):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """Subtracts two tensors element-wise: `inputs[0] - inputs[1]`.

    Input shape: a list of exactly two tensors whose shapes broadcast together.
    Output shape: the broadcast shape.
    """

    _min_inputs = 2
    _max_inputs = 2

    def _merge(self, xs, masks):
        return xs[0] - xs[1]


class Multiply(_Merge):
    """Multiplies a list of tensors element-wise.

    With masks on the inputs, masked entries count as 1 in the product; when every input has
    a mask, the entries masked in all of them are 0 in the output (Keras 3's rule).
    """

    def _merge(self, xs, masks):
        all_masked = all(m is not None for m in masks)
        out = None
        out_mask = None
        for x, m in zip(xs, masks):
            if m is not None:
                m = _expand_mask(m, x)
                x = jnp.where(m, x, jnp.ones((), x.dtype))
                if all_masked:
                    out_mask = m if out_mask is None else jnp.logical_or(out_mask, m)
            out = x if out is None else out * x
        if all_masked:
            out = jnp.where(out_mask, out, jnp.zeros((), out.dtype))
        return out


class Average(_Merge):
    """Averages a list of tensors element-wise: `(inputs[0] + ... + inputs[n-1]) / n`."""

    def _output_dtype(self, specs):
        return standardize_dtype(jnp.result_type(super()._output_dtype(specs), float))

    def _merge(self, xs, masks):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / len(xs)


class _MaskedExtremum(_Merge):
    """Maximum/Minimum: a masked entry takes the other operand's value (Keras 3's rule)."""

    def _op(self, a, b):
        raise NotImplementedError

    def _merge(self, xs, masks):
        out, out_mask = None, None
        for x, m in zip(xs, masks):
            if m is not None:
                m = _expand_mask(m, x)
            if out is None:
                out, out_mask = x, m
                continue
            if m is not None:
                x = jnp.where(m, x, out)
            if out_mask is not None:
                out = jnp.where(out_mask, out, x)
            out_mask = (
                jnp.logical_or(out_mask, m) if m is not None and out_mask is not None else None
            )
            out = self._op(out, x)
        return out


class Maximum(_MaskedExtremum):
    """Element-wise maximum of a list of tensors."""

    def _op(self, a, b):
        return jnp.maximum(a, b)


class Minimum(_MaskedExtremum):
    """Element-wise minimum of a list of tensors."""

    def _op(self, a, b):
        return jnp.minimum(a, b)


class Concatenate(_Merge):
    """Concatenates a list of tensors along `axis`.

    Args:
        axis: the concatenation axis (default -1). The inputs must have the same rank and the
            same size on every other axis.

    Input shape: a list of tensors of equal rank. Output shape: the inputs' shape, with the
    sizes along `axis` summed (None if any is unknown).
    """

    def __init__(self, axis: int = -1, **kwargs):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Concatenate: `axis` must be an integer. Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _checks_batch(self, specs) -> bool:
        return self.axis % max(1, specs[0].ndim) != 0  # concatenating batches is allowed

    def _concat_axis(self, specs: list) -> int:
        ranks = {s.ndim for s in specs}
        if len(ranks) > 1:
            raise ValueError(
                f"{_name(self)} requires inputs of the same rank. "
                f"Received: input shapes={_shapes(specs)}"
            )
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"{_name(self)}: axis {self.axis} is out of range for inputs of rank {rank}. "
                f"Received: axis={self.axis}, input shapes={_shapes(specs)}"
            )
        return self.axis % rank

    def compute_output_spec(self, input_spec, **kwargs):
        specs = self._specs(input_spec)
        axis = self._concat_axis(specs)
        out = []
        for i in range(specs[0].ndim):
            dims = [s.shape[i] for s in specs]
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            known = set(dims) - {None}
            if len(known) > 1:
                raise ValueError(
                    f"{_name(self)} requires inputs with matching shapes except for the "
                    f"concatenation axis (axis={self.axis}). "
                    f"Received: input shapes={_shapes(specs)}"
                )
            out.append(known.pop() if known else None)
        return TensorSpec(tuple(out), self._output_dtype(specs))

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        del variables, training, rng, mask  # masks only shape the output mask
        self.compute_output_spec(_input_specs(self, inputs))
        xs = [jnp.asarray(x) for x in inputs]
        return jnp.concatenate(xs, axis=self.axis), {}

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        masks = _check_mask_list(self, inputs, mask)
        if all(m is None for m in masks):
            return None
        full = []
        for x, m in zip(inputs, masks):
            if m is None:
                full.append(jnp.ones(jnp.shape(x), bool))
            elif jnp.ndim(m) < jnp.ndim(x):
                full.append(jnp.broadcast_to(jnp.expand_dims(m, -1).astype(bool), jnp.shape(x)))
            else:
                full.append(jnp.asarray(m).astype(bool))
        return jnp.any(jnp.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _dot_axes(axes) -> int | tuple:
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        return int(axes)
    if not isinstance(axes, (list, tuple)):
        raise TypeError(
            f"Dot: invalid type for argument `axes`, expected an int or a list of two ints. "
            f"Received: axes={axes!r}"
        )
    if len(axes) != 2 or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes
    ):
        raise ValueError(
            f"Dot: `axes` should be an int or a list of two ints. Received: axes={axes!r}"
        )
    return (int(axes[0]), int(axes[1]))


class Dot(_Merge):
    """Batch-wise dot product of two tensors along `axes`.

    For inputs `x` of shape `(batch, ..., d)` and `y`, the output holds, per sample, the sum of
    `x * y` over `x`'s axis `axes[0]` and `y`'s axis `axes[1]`; its axes are `x`'s remaining
    axes followed by `y`'s remaining non-batch axes (at least 2 axes: `(batch, 1)` for two
    vectors), as `keras.backend.batch_dot`.

    Args:
        axes: an int (the same axis of both inputs) or a pair of ints. Axis 0 (the batch
            axis) cannot be included.
        normalize: whether to L2-normalize both inputs along the dot axes first, making the
            output the cosine similarity.

    Example:
        >>> Dot(axes=(1, 2))([np.ones((2, 3, 5)), np.ones((2, 10, 3))]).shape
        (2, 5, 10)
    """

    _min_inputs = 2
    _max_inputs = 2

    def __init__(self, axes, normalize: bool = False, **kwargs):
        axes = _dot_axes(axes)
        super().__init__(**kwargs)
        self.axes = list(axes) if isinstance(axes, tuple) else axes
        self.normalize = as_bool(self, "normalize", normalize)

    def _resolve(self, specs: list) -> tuple[int, int]:
        x, y = specs
        if x.ndim < 2 or y.ndim < 2:
            raise ValueError(
                f"{_name(self)} requires inputs of rank >= 2. "
                f"Received: input shapes={_shapes(specs)}"
            )
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        out = []
        for a, s in zip(pair, specs):
            if not -s.ndim <= a < s.ndim:
                raise ValueError(
                    f"{_name(self)}: axis {a} is out of range for an input of shape {s.shape}. "
                    f"Received: axes={self.axes}"
                )
            out.append(a % s.ndim)
        if 0 in out:
            raise ValueError(
                f"{_name(self)} cannot take the dot product over the batch axis (axis 0). "
                f"Received: axes={self.axes}, input shapes={_shapes(specs)}"
            )
        d1, d2 = x.shape[out[0]], y.shape[out[1]]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(
                f"{_name(self)}: incompatible input shapes, axis values {d1} (at axis {out[0]}) "
                f"!= {d2} (at axis {out[1]}). Received: input shapes={_shapes(specs)}"
            )
        return out[0], out[1]

    def compute_output_spec(self, input_spec, **kwargs):
        specs = self._specs(input_spec)
        a0, a1 = self._resolve(specs)
        x, y = specs
        shape = [d for i, d in enumerate(x.shape) if i != a0]
        shape += [d for i, d in enumerate(y.shape) if i not in (0, a1)]
        if len(shape) == 1:
            shape.append(1)
        return TensorSpec(tuple(shape), self._output_dtype(specs))

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        del variables, training, rng, mask
        a0, a1 = self._resolve(_input_specs(self, inputs))
        x, y = (jnp.asarray(t) for t in inputs)
        if self.normalize:
            x, y = _l2_normalize(x, a0), _l2_normalize(y, a1)
        # batch dims first, then x's free axes, then y's free axes: batch_dot's layout.
        out = jax.lax.dot_general(x, y, (((a0,), (a1,)), ((0,), (0,))))
        if out.ndim == 1:
            out = out[:, None]
        return out, {}

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x, axis: int):
    """`x / max(||x||, epsilon)` along `axis`, as `keras.ops.normalize` (rsqrt form)."""
    inv = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
    return x * jnp.minimum(inv, 1.0 / _config.epsilon())


# ---- function forms: build the layer and call it on the list, as `keras.layers.add` -------


def add(inputs: Sequence, **kwargs):
    """Functional interface to `Add`: `add([x1, x2]) == Add()([x1, x2])`."""
    return Add(**kwargs)(inputs)


def subtract(inputs: Sequence, **kwargs):
    """Functional interface to `Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Sequence, **kwargs):
    """Functional interface to `Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs: Sequence, **kwargs):
    """Functional interface to `Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs: Sequence, **kwargs):
    """Functional interface to `Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence, **kwargs):
    """Functional interface to `Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: Sequence, axis: int = -1, **kwargs):
    """Functional interface to `Concatenate`: `concatenate([x1, x2], axis=-1)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: Sequence, axes=-1, normalize: bool = False, **kwargs):
    """Functional interface to `Dot`: `dot([x1, x2], axes=1)`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
