"""Advanced activation layers: ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax.

All of them keep the input's shape and pass its mask through. Only `PReLU` has a weight
(`alpha`); `Softmax` also takes a `mask` call argument, as in Keras 3.
"""

import jax.numpy as jnp
import jax.scipy.special
import numpy as np

from fkeras import activations, constraints, initializers, regularizers
from fkeras.layers._base import Layer
from fkeras.layers._core import _check_rank, _serialize
from fkeras.layers._spec import TensorSpec, is_float


def _number(layer: str, arg: str, value, *, allow_none: bool = False, minimum: float | None = 0.0):
    """`value` as a float, checked against `minimum`; raise naming the layer and argument."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or (minimum is not None and value < minimum):
        expected = "a number" if minimum is None else f"a number >= {minimum}"
        if allow_none:
            expected += " or None"
        raise ValueError(f"{layer}: `{arg}` must be {expected}. Received: {arg}={value!r}")
    return float(value)


class _Elementwise(Layer):
    """Shape-preserving, mask-preserving, weightless."""

    supports_masking = True

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 0)
        return TensorSpec(input_spec.shape, input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        return self._fn(jnp.asarray(inputs)), {}

    def _fn(self, x):
        raise NotImplementedError


class ReLU(_Elementwise):
    """Rectified linear unit with an optional ceiling, slope and threshold.

    `f(x) = max_value` for `x >= max_value`, `x` for `threshold <= x < max_value`, and
    `negative_slope * (x - threshold)` otherwise.

    Args:
        max_value: float >= 0, the largest output (None: no ceiling).
        negative_slope: float >= 0, slope below the threshold (default 0).
        threshold: float >= 0, where the slope changes (default 0).
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        max_value = _number("ReLU", "max_value", max_value, allow_none=True)
        negative_slope = _number("ReLU", "negative_slope", negative_slope)
        threshold = _number("ReLU", "threshold", threshold)
        super().__init__(**kwargs)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def _fn(self, x):
        return activations.relu(
            x,
            negative_slope=self.negative_slope,
            max_value=self.max_value,
            threshold=self.threshold,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(_Elementwise):
    """Leaky ReLU: `f(x) = x` for `x >= 0`, `negative_slope * x` otherwise.

    Args:
        negative_slope: float >= 0 (default 0.3). Keras 2's name `alpha` is accepted too.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2 spelling
            negative_slope = kwargs.pop("alpha")
        negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def _fn(self, x):
        return activations.leaky_relu(x, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

    Args:
        alpha: the scale of the negative part (default 1.0).
    """

    def __init__(self, alpha=1.0, **kwargs):
        alpha = _number("ELU", "alpha", alpha, minimum=None)
        super().__init__(**kwargs)
        self.alpha = alpha

    def _fn(self, x):
        return activations.elu(x, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ThresholdedReLU(_Elementwise):
    """Keras 2's thresholded ReLU: `f(x) = x` for `x > theta`, 0 otherwise.

    Removed from Keras 3 (where `ReLU(threshold=theta)` is the replacement); kept here so
    Keras 2 scripts run unchanged.

    Args:
        theta: float >= 0, the threshold (default 1.0).
    """

    def __init__(self, theta=1.0, **kwargs):
        theta = _number("ThresholdedReLU", "theta", theta)
        super().__init__(**kwargs)
        self.theta = theta

    def _fn(self, x):
        return x * (x > self.theta).astype(x.dtype)

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}


def _large_negative(dtype) -> float:
    # Keras's fill for masked logits: -1e9 overflows float16, so it uses -3e4 there.
    return -3e4 if jnp.dtype(dtype) == jnp.float16 else -1e9


class Softmax(_Elementwise):
    """Softmax along `axis`: `exp(x) / sum(exp(x))`, with an optional mask.

    Args:
        axis: an int, or a list of ints to normalize over several axes jointly (default -1).

    Call arguments:
        mask: boolean (or 0/1) array broadcastable to the inputs, each of its axes 1 or equal
            to the input's; masked positions get probability 0 (also when a whole slice is
            masked).
    """

    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, (list, tuple)):
            bad = not axis or not all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis
            )
            axis = [int(a) for a in axis] if not bad else axis
        else:
            bad = isinstance(axis, bool) or not isinstance(axis, (int, np.integer))
            axis = axis if bad else int(axis)
        if bad:
            raise TypeError(
                f"Softmax: `axis` must be an int or a list of ints. Received: axis={axis!r}"
            )
        super().__init__(**kwargs)
        self.axis = axis

    def _axes(self, ndim: int) -> tuple:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(
                    f"Layer {self.name!r} (Softmax): axis {a} is out of bounds for an input of "
                    f"rank {ndim}. Received: axis={self.axis}"
                )
        return tuple(a % ndim for a in axes)

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 1)
        self._axes(input_spec.ndim)
        dtype = input_spec.dtype if is_float(input_spec.dtype) else self.dtype
        return TensorSpec(input_spec.shape, dtype)

    def _check_mask(self, x, mask) -> None:
        bad = mask.ndim > x.ndim or any(
            m != 1 and m != i for m, i in zip(mask.shape[::-1], x.shape[::-1])
        )
        if bad:
            raise ValueError(
                f"Layer {self.name!r} (Softmax): the `mask` must be broadcastable to the inputs "
                "(no more axes, each axis 1 or equal to the input's). "
                f"Received: inputs.shape={x.shape}, mask.shape={mask.shape}"
            )

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        del variables, training, rng
        x = jnp.asarray(inputs)
        if not jnp.issubdtype(x.dtype, jnp.floating):  # ints/bools: softmax in the layer dtype
            x = x.astype(self.dtype)
        axes = self._axes(x.ndim)
        if mask is not None:
            mask = jnp.asarray(mask)
            self._check_mask(x, mask)
            if mask.dtype != jnp.bool_:
                mask = mask > jnp.asarray(0.5, mask.dtype)
            x = jnp.where(mask, x, jnp.asarray(_large_negative(x.dtype), x.dtype))
        if len(axes) > 1:
            out = jnp.exp(x - _logsumexp(x, axes))
        else:
            out = activations.softmax(x, axis=axes[0])
        if mask is not None:
            out = jnp.where(mask, out, jnp.zeros((), out.dtype))
        return out, {}

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _logsumexp(x, axes):
    return jax.scipy.special.logsumexp(x, axis=axes, keepdims=True)


class PReLU(Layer):
    """Parametric ReLU: `f(x) = x` for `x >= 0`, `alpha * x` otherwise, `alpha` learned.

    Args:
        alpha_initializer: initializer of `alpha` (default 'Zeros').
        alpha_regularizer, alpha_constraint: penalty and projection for `alpha`.
        shared_axes: input axes (1-based, the batch axis is 0) along which one `alpha` is
            shared, e.g. `[1, 2]` for one slope per channel of `(batch, h, w, channels)` maps.

    Input shape: `(batch, d1, d2, ...)` with known `d` axes (except shared ones).
    Output shape: same as the input.

    Example:
        >>> layer = PReLU(shared_axes=[1])
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 5, 3)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'alpha': (1, 3)}, 'state': {}}
    """

    supports_masking = True

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        if shared_axes is not None:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 1
                for a in axes
            ):
                raise ValueError(
                    "PReLU: `shared_axes` must be positive integers (axis 0 is the batch axis). "
                    f"Received: shared_axes={shared_axes!r}"
                )
            shared_axes = [int(a) for a in axes]
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get_or_default(alpha_initializer, "Zeros")
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.shared_axes = shared_axes

    def _alpha_shape(self, spec: TensorSpec) -> tuple:
        _check_rank(self, spec, 2)
        shape = list(spec.shape[1:])
        for a in self.shared_axes or ():
            if a >= spec.ndim:
                raise ValueError(
                    f"Layer {self.name!r} (PReLU): shared axis {a} is out of range for an input "
                    f"of rank {spec.ndim}. Received: shared_axes={self.shared_axes}"
                )
            shape[a - 1] = 1
        if None in shape:
            raise ValueError(
                f"Layer {self.name!r} (PReLU) needs every non-shared, non-batch axis of its input "
                f"to be known. Received: input shape={spec.shape}, shared_axes={self.shared_axes}"
            )
        return tuple(shape)

    def init(self, rng, input_spec):
        alpha = self.alpha_initializer(self._alpha_shape(input_spec), self.dtype, key=rng)
        return {"params": {"alpha": alpha}, "state": {}}

    def check_input_spec(self, built_spec, input_spec):
        built, got = self._alpha_shape(built_spec), self._alpha_shape(input_spec)
        if built != got or built_spec.ndim != input_spec.ndim:
            raise ValueError(
                f"Input 0 of layer {self.name!r} (PReLU) is incompatible with the layer: expected "
                f"an input like {built_spec.shape} (alpha shape {built}). "
                f"Received: input shape={input_spec.shape}"
            )

    def compute_output_spec(self, input_spec, **kwargs):
        self._alpha_shape(input_spec)
        dtype = self.dtype if input_spec.dtype == "bool" else input_spec.dtype
        return TensorSpec(input_spec.shape, dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del training, rng
        x = jnp.asarray(inputs)
        if x.dtype == jnp.bool_:  # `-x` is undefined for booleans
            x = x.astype(self.dtype)
        alpha = variables["params"]["alpha"]
        return activations.relu(x) - alpha * activations.relu(-x), {}

    def penalty(self, params):
        if self.alpha_regularizer is None:
            return 0.0
        return self.alpha_regularizer(params["alpha"])

    def constrain(self, params):
        if self.alpha_constraint is None:
            return params
        return {**params, "alpha": self.alpha_constraint(params["alpha"])}

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": _serialize(regularizers, self.alpha_regularizer),
            "alpha_constraint": _serialize(constraints, self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }
