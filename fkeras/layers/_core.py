"""Core layers: Dense, Activation, Dropout, Flatten, Reshape."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import activations, constraints, initializers, regularizers
from fkeras.layers._base import Layer
from fkeras.layers._spec import TensorSpec, as_bool

MSG_DROPOUT_NEEDS_RNG = (
    "Dropout layer {name!r} was applied with training=True but no `rng`. Pass a PRNG key:\n"
    "    outputs, state = model.apply(variables, x, training=True, rng=jax.random.key(0))\n"
    "or apply with training=False (dropout is the identity at inference)."
)


def _serialize(module, obj):
    """Keras's serialization of an optional regularizer/constraint (None stays None)."""
    return None if obj is None else module.serialize(obj)


def _check_rank(layer: Layer, spec: TensorSpec, min_rank: int, what: str = "input") -> None:
    if not isinstance(spec, TensorSpec):
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects a single {what} tensor. "
            f"Received: {len(spec)} tensors."
        )
    if spec.ndim < min_rank:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects an {what} of rank >= "
            f"{min_rank}. Received: {what} shape={spec.shape}"
        )


def standardize_noise_shape(owner: str, noise_shape):
    """A dropout `noise_shape`: None, or a tuple of positive ints and None (one per input axis)."""
    if noise_shape is None:
        return None
    bad = not isinstance(noise_shape, (tuple, list)) or any(
        not (d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0))
        for d in noise_shape
    )
    if bad:
        raise ValueError(
            f"{owner}: `noise_shape` must be a tuple of positive integers or None, one per input "
            f"axis. Received: noise_shape={noise_shape!r}"
        )
    return tuple(None if d is None else int(d) for d in noise_shape)


def check_noise_shape(layer: Layer, spec: TensorSpec) -> None:
    """The mask shape must broadcast over the input: one entry per axis, each 1 or the axis size."""
    noise_shape = layer.noise_shape
    if noise_shape is None:
        return
    fits = len(noise_shape) == spec.ndim and all(
        n is None or n == 1 or d is None or n == d for n, d in zip(noise_shape, spec.shape)
    )
    if not fits:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}): `noise_shape` must have one entry "
            "per input axis, each None, 1 or that axis's size. "
            f"Received: noise_shape={noise_shape}, input shape={spec.shape}"
        )


class Dense(Layer):
    """Densely-connected layer: `outputs = activation(inputs @ kernel + bias)`.

    Args:
        units: positive integer, the size of the output's last axis.
        activation: activation function or its name (default: none, i.e. linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (defaults 'glorot_uniform', 'zeros').
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        N-D tensor `(batch_size, ..., input_dim)`.

    Output shape:
        N-D tensor `(batch_size, ..., units)`.

    Example:
        >>> layer = Dense(3)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 4)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (3,), 'kernel': (4, 3)}, 'state': {}}
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units!r}"
            )
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = as_bool(self, "use_bias", use_bias)
        self.kernel_initializer = initializers.get_or_default(kernel_initializer, "glorot_uniform")
        self.bias_initializer = initializers.get_or_default(bias_initializer, "zeros")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _input_dim(self, spec: TensorSpec) -> int:
        _check_rank(self, spec, 1)
        dim = spec.shape[-1]
        if dim is None:
            raise ValueError(
                f"Layer {self.name!r} (Dense) needs the last axis of its input to be known. "
                f"Received: input shape={spec.shape}"
            )
        return dim

    def init(self, rng, input_spec):
        k_rng, b_rng = jax.random.split(rng)
        params = {"kernel": self.kernel_initializer((self._input_dim(input_spec), self.units), self.dtype, key=k_rng)}
        if self.use_bias:
            params["bias"] = self.bias_initializer((self.units,), self.dtype, key=b_rng)
        return {"params": params, "state": {}}

    def check_input_spec(self, built_spec, input_spec):
        dim = self._input_dim(input_spec)
        if dim != built_spec.shape[-1]:
            raise ValueError(
                f"Input 0 of layer {self.name!r} (Dense) is incompatible with the layer: expected "
                f"axis -1 of input shape to have value {built_spec.shape[-1]}. "
                f"Received: input shape={input_spec.shape}"
            )

    def compute_output_spec(self, input_spec, **kwargs):
        self._input_dim(input_spec)
        return TensorSpec(input_spec.shape[:-1] + (self.units,), self.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del training, rng
        params = variables["params"]
        x = jnp.asarray(inputs)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(self.dtype)
        y = jnp.matmul(x, params["kernel"])
        if self.use_bias:
            y = y + params["bias"]
        return self.activation(y), {}

    def penalty(self, params):
        total = 0.0
        if self.kernel_regularizer is not None:
            total = total + self.kernel_regularizer(params["kernel"])
        if self.bias_regularizer is not None and self.use_bias:
            total = total + self.bias_regularizer(params["bias"])
        return total

    def constrain(self, params):
        params = dict(params)
        if self.kernel_constraint is not None:
            params["kernel"] = self.kernel_constraint(params["kernel"])
        if self.bias_constraint is not None and self.use_bias:
            params["bias"] = self.bias_constraint(params["bias"])
        return params

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _serialize(regularizers, self.kernel_regularizer),
            "bias_regularizer": _serialize(regularizers, self.bias_regularizer),
            "kernel_constraint": _serialize(constraints, self.kernel_constraint),
            "bias_constraint": _serialize(constraints, self.bias_constraint),
        }


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: an activation function, or the name of one ('relu', 'softmax', ...).

    Input shape: arbitrary. Output shape: same as the input.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 0)
        return TensorSpec(input_spec.shape, input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        return self.activation(inputs), {}

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Sets a fraction `rate` of its inputs to 0 while training and scales the rest by 1/(1-rate).

    Args:
        rate: float in [0, 1), the fraction of units to drop.
        noise_shape: shape of the binary mask broadcast over the input (None dims take the
            input's size), e.g. `(batch_size, 1, features)` to drop whole features.
        seed: accepted for Keras compatibility; randomness comes from the `rng` passed to `apply`.

    Input shape: arbitrary. Output shape: same as the input.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0 <= rate <= 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1. Received: rate={rate!r}"
            )
        noise_shape = standardize_noise_shape("Dropout", noise_shape)
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 0)
        check_noise_shape(self, input_spec)
        return TensorSpec(input_spec.shape, input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables
        if not training or self.rate == 0:
            return inputs, {}
        if rng is None:
            raise ValueError(MSG_DROPOUT_NEEDS_RNG.format(name=self.name))
        if self.rate == 1:
            return jnp.zeros_like(inputs), {}
        check_noise_shape(self, TensorSpec(jnp.shape(inputs)))
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = 1.0 - self.rate
        mask = jax.random.bernoulli(rng, keep, shape)
        return jnp.where(mask, inputs / keep, jnp.zeros_like(inputs)), {}

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class Flatten(Layer):
    """Flattens every axis but the batch axis: `(batch, d1, d2, ...)` -> `(batch, d1*d2*...)`.

    Args:
        data_format: 'channels_last' (default) or 'channels_first'; with 'channels_first' the
            channel axis is moved last before flattening, so weights stay portable.
    """

    def __init__(self, data_format=None, **kwargs):
        from fkeras import _config

        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 1)
        rest = input_spec.shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return TensorSpec((input_spec.shape[0], size), input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = jnp.moveaxis(inputs, 1, -1)
        return inputs.reshape(inputs.shape[0], -1), {}

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (one entry may be -1, inferred).

    Input shape: arbitrary, with as many elements per sample as `target_shape`.
    Output shape: `(batch_size,) + target_shape`.
    """

    def __init__(self, target_shape, **kwargs):
        try:
            target_shape = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise TypeError(
                f"Reshape: `target_shape` must be a tuple of integers. Received: target_shape={target_shape!r}"
            ) from None
        if sum(d == -1 for d in target_shape) > 1 or any(d < -1 or d == 0 for d in target_shape):
            raise ValueError(
                "Reshape: `target_shape` must hold positive integers and at most one -1. "
                f"Received: target_shape={target_shape}"
            )
        super().__init__(**kwargs)
        self.target_shape = target_shape

    def _resolve(self, sample_shape) -> tuple:
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(self._mismatch(sample_shape))
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if size != known:
            raise ValueError(self._mismatch(sample_shape))
        return self.target_shape

    def _mismatch(self, sample_shape) -> str:
        return (
            f"Layer {self.name!r} (Reshape): the input's sample shape {tuple(sample_shape)} "
            f"({math.prod(sample_shape)} elements) cannot be reshaped to "
            f"target_shape={self.target_shape}."
        )

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 1)
        return TensorSpec((input_spec.shape[0],) + self._resolve(input_spec.shape[1:]), input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        return inputs.reshape((inputs.shape[0],) + self._resolve(inputs.shape[1:])), {}

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}
