"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
UnitNormalization.

Numerics follow Keras 3 on the JAX backend operation for operation (statistics with
`jnp.mean`/`jnp.var`, `x * inv + (beta - mean * inv)` with `inv = gamma * rsqrt(var + eps)`),
computed in at least float32 and cast back to the layer's dtype (under a mixed-precision
policy: from float32 weights, with the output in the compute dtype, as Keras does).
"""

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import _config, constraints, initializers, regularizers
from fkeras.layers._base import Layer
from fkeras.layers._core import _check_rank, _serialize
from fkeras.layers._spec import TensorSpec, as_bool


def _nonneg(cls: str, arg: str, value) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or value < 0:
        raise ValueError(f"{cls}: `{arg}` must be a number >= 0. Received: {arg}={value!r}")
    return float(value)


def _axis_arg(cls: str, axis, allow_list: bool = True):
    """An int, or (if allowed) a list of ints; raise a TypeError naming `cls` otherwise."""

    def is_int(a):
        return isinstance(a, (int, np.integer)) and not isinstance(a, bool)

    if is_int(axis):
        return int(axis)
    if allow_list and isinstance(axis, (list, tuple)) and axis and all(is_int(a) for a in axis):
        return [int(a) for a in axis]
    expected = "an int or a list of ints" if allow_list else "an int"
    raise TypeError(f"{cls}: `axis` must be {expected}. Received: axis={axis!r}")


def _check_axes(layer: Layer, spec: TensorSpec, axis) -> None:
    _check_rank(layer, spec, 1)
    for a in axis if isinstance(axis, list) else [axis]:
        if not -spec.ndim <= a < spec.ndim:
            raise ValueError(
                f"Layer {layer.name!r} ({type(layer).__name__}): axis {a} is out of bounds for "
                f"input shape {spec.shape}. Received: axis={axis}"
            )


def _compute_dtype(x):
    """At least float32 for the statistics (Keras: `result_type(x.dtype, 'float32')`)."""
    return jnp.result_type(x.dtype, jnp.float32)


class _AffineNorm(Layer):
    """Shared config of the layers with an optional `gamma` (scale) and `beta` (center)."""

    supports_masking = True
    # Mixed precision: the weights are read in float32 (Keras's `autocast=False` weights); the
    # statistics are computed in float32 and the output cast to the compute dtype.
    _autocast_variables = False

    def _init_affine(
        self,
        center,
        scale,
        beta_initializer,
        gamma_initializer,
        beta_regularizer,
        gamma_regularizer,
        beta_constraint,
        gamma_constraint,
    ):
        self.center = as_bool(self, "center", center)
        self.scale = as_bool(self, "scale", scale)
        self.beta_initializer = initializers.get_or_default(beta_initializer, "zeros")
        self.gamma_initializer = initializers.get_or_default(gamma_initializer, "ones")
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _has_gamma(self) -> bool:
        return self.scale

    def _has_beta(self) -> bool:
        return self.center

    def _affine_params(self, rng, shape) -> dict:
        g_rng, b_rng = jax.random.split(rng)
        params = {}
        if self._has_gamma():
            params["gamma"] = self.gamma_initializer(shape, self.dtype, key=g_rng)
        if self._has_beta():
            params["beta"] = self.beta_initializer(shape, self.dtype, key=b_rng)
        return params

    def compute_output_spec(self, input_spec, **kwargs):
        _check_axes(self, input_spec, self.axis)
        return TensorSpec(input_spec.shape, self.dtype)

    def penalty(self, params):
        total = 0.0
        if self.gamma_regularizer is not None and "gamma" in params:
            total = total + self.gamma_regularizer(params["gamma"])
        if self.beta_regularizer is not None and "beta" in params:
            total = total + self.beta_regularizer(params["beta"])
        return total

    def constrain(self, params):
        params = dict(params)
        if self.gamma_constraint is not None and "gamma" in params:
            params["gamma"] = self.gamma_constraint(params["gamma"])
        if self.beta_constraint is not None and "beta" in params:
            params["beta"] = self.beta_constraint(params["beta"])
        return params

    def _affine_config(self) -> dict:
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": _serialize(regularizers, self.beta_regularizer),
            "gamma_regularizer": _serialize(regularizers, self.gamma_regularizer),
            "beta_constraint": _serialize(constraints, self.beta_constraint),
            "gamma_constraint": _serialize(constraints, self.gamma_constraint),
        }


def _normalize(x, mean, variance, epsilon, gamma=None, beta=None):
    """Keras's `batch_normalization` arithmetic: `x * inv + (beta - mean * inv)`."""
    inv = jax.lax.rsqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * gamma
    res = -mean * inv
    if beta is not None:
        res = res + beta
    return x * inv + res


MSG_BN_FROZEN = (
    "A frozen BatchNormalization layer (`trainable=False`) runs in inference mode in Keras 3 "
    "even under `training=True`; the fkeras facade passes training=False to frozen layers."
)


class BatchNormalization(_AffineNorm):
    """Normalizes each channel with batch statistics while training, moving ones otherwise.

    With `training=True` the output uses the batch's mean and (biased) variance over every axis
    but `axis`, and `apply` returns the updated moving statistics in its new state:
    `moving = moving * momentum + batch_stat * (1 - momentum)`. With `training=False` the
    moving statistics are used and the state is unchanged. The output is
    `gamma * (x - mean) / sqrt(var + epsilon) + beta`.

    Keras 3 runs a frozen layer (`trainable=False`) in inference mode even under
    `training=True`. The spec cannot see the facade's `trainable` flag, so the facade passes
    `training=False` to frozen BatchNormalization layers; callers of the pure `apply` do the same.

    Args:
        axis: the channel axis (default -1).
        momentum: momentum of the moving averages (default 0.99).
        epsilon: small float added to the variance (default 1e-3).
        center, scale: whether to learn `beta` / `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: initializers (zeros, ones, zeros, ones).
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: as for Dense.
        synchronized: accepted and ignored (cross-device statistics come from jax sharding).

    Call arguments:
        mask: optional boolean `(batch, ...)` array with one axis less than the inputs; masked
            entries take no part in the batch statistics.

    Example:
        >>> bn = BatchNormalization()
        >>> v = bn.init(jax.random.key(0), TensorSpec((None, 3)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'gamma': (3,), 'beta': (3,)},
         'state': {'moving_mean': (3,), 'moving_variance': (3,)}}
        >>> y, new_state = bn.apply(v, x, training=True)
    """

    # Keras 3: a frozen (trainable=False) BatchNormalization runs in inference mode.
    inference_when_frozen = True

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        if isinstance(axis, (list, tuple)) and len(axis) == 1:  # Keras 2 configs store [axis]
            axis = axis[0]
        axis = _axis_arg("BatchNormalization", axis, allow_list=False)
        ok = isinstance(momentum, (int, float, np.integer, np.floating)) and not isinstance(
            momentum, bool
        )
        if not ok:
            raise TypeError(
                f"BatchNormalization: `momentum` must be a number. Received: momentum={momentum!r}"
            )
        epsilon = _nonneg("BatchNormalization", "epsilon", epsilon)
        if renorm:
            raise ValueError(
                "BatchNormalization: batch renormalization is not supported. Received: renorm=True"
            )
        kwargs.pop("fused", None)  # Keras 2: an implementation choice, no effect on results
        for key in ("virtual_batch_size", "adjustment"):  # Keras 2 options that change results
            value = kwargs.pop(key, None)
            if value is not None:
                raise ValueError(
                    f"BatchNormalization: `{key}` is not supported. Received: {key}={value!r}"
                )
        del renorm_clipping, renorm_momentum  # only used with renorm=True
        super().__init__(**kwargs)
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = epsilon
        self._init_affine(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
        )
        self.moving_mean_initializer = initializers.get_or_default(moving_mean_initializer, "zeros")
        self.moving_variance_initializer = initializers.get_or_default(
            moving_variance_initializer, "ones"
        )
        self.synchronized = as_bool(self, "synchronized", synchronized)

    def _channels(self, spec: TensorSpec) -> int:
        _check_axes(self, spec, self.axis)
        dim = spec.shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Layer {self.name!r} (BatchNormalization) needs axis {self.axis} of its input to "
                f"be known. Received: input shape={spec.shape}"
            )
        return dim

    def init(self, rng, input_spec):
        shape = (self._channels(input_spec),)
        p_rng, m_rng, v_rng = jax.random.split(rng, 3)
        state = {
            "moving_mean": self.moving_mean_initializer(shape, self.dtype, key=m_rng),
            "moving_variance": self.moving_variance_initializer(shape, self.dtype, key=v_rng),
        }
        return {"params": self._affine_params(p_rng, shape), "state": state}

    def check_input_spec(self, built_spec, input_spec):
        _check_rank(self, input_spec, 1)
        dim = self._channels(input_spec)
        if input_spec.ndim != built_spec.ndim or dim != built_spec.shape[self.axis]:
            raise ValueError(
                f"Input 0 of layer {self.name!r} (BatchNormalization) is incompatible with the "
                f"layer: expected rank {built_spec.ndim} with axis {self.axis} of size "
                f"{built_spec.shape[self.axis]}. Received: input shape={input_spec.shape}"
            )

    def _reduction_axes(self, ndim: int) -> tuple:
        return tuple(i for i in range(ndim) if i != self.axis % ndim)

    def _moments(self, x, mask):
        axes = self._reduction_axes(x.ndim)
        if mask is None:
            mean = jnp.mean(x, axes, keepdims=True)
            variance = jnp.var(x, axis=axes, keepdims=True)
        else:
            m = jnp.broadcast_to(jnp.expand_dims(mask, -1), x.shape).astype(bool)
            weight = jnp.sum(m.astype(x.dtype), axes, keepdims=True) + _config.epsilon()
            mean = jnp.sum(jnp.where(m, x, 0), axes, keepdims=True) / weight
            variance = jnp.sum(jnp.square(jnp.where(m, x - mean, 0)), axes, keepdims=True) / weight
        return mean.reshape(-1), variance.reshape(-1)

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        del rng
        x = jnp.asarray(inputs)
        if mask is not None:
            mask = jnp.asarray(mask)
            if mask.ndim != x.ndim - 1:
                raise ValueError(
                    f"Layer {self.name!r} (BatchNormalization): the mask should have one axis "
                    f"less than the inputs. Received: mask.shape={mask.shape}, "
                    f"inputs.shape={x.shape}"
                )
        x = x.astype(_compute_dtype(x))
        params, state = variables["params"], variables["state"]
        moving_mean = state["moving_mean"].astype(x.dtype)
        moving_variance = state["moving_variance"].astype(x.dtype)
        new_state = {}
        if training:
            mean, variance = self._moments(x, mask)
            new_state = {
                "moving_mean": (moving_mean * self.momentum + mean * (1.0 - self.momentum)).astype(
                    state["moving_mean"].dtype
                ),
                "moving_variance": (
                    moving_variance * self.momentum + variance * (1.0 - self.momentum)
                ).astype(state["moving_variance"].dtype),
            }
        else:
            mean, variance = moving_mean, moving_variance
        shape = [1] * x.ndim
        shape[self.axis] = mean.shape[0]

        def channel(v):
            return None if v is None else v.astype(x.dtype).reshape(shape)

        out = _normalize(
            x,
            mean.reshape(shape),
            variance.reshape(shape),
            self.epsilon,
            channel(params.get("gamma")),
            channel(params.get("beta")),
        )
        return out.astype(self.dtype), new_state

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            **self._affine_config(),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
            "renorm": False,
            "renorm_clipping": None,
            "renorm_momentum": 0.99,
        }


class LayerNormalization(_AffineNorm):
    """Normalizes each sample over `axis`: `gamma * (x - mean) / sqrt(var + epsilon) + beta`.

    Args:
        axis: int or list of ints, the axes normalized together (default -1); `gamma` and
            `beta` have the shape of those axes.
        epsilon: small float added to the variance (default 1e-3).
        center, scale: whether to learn `beta` / `gamma`.
        rms_scaling: Keras 3's deprecated option: scale by `rsqrt(var + epsilon)` and `gamma`
            only (no centering, no `beta`).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
            beta_constraint, gamma_constraint: as for BatchNormalization.

    Input shape: arbitrary. Output shape: same as the input.
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        rms_scaling=False,
        **kwargs,
    ):
        axis = _axis_arg("LayerNormalization", axis)
        epsilon = _nonneg("LayerNormalization", "epsilon", epsilon)
        super().__init__(**kwargs)
        self.autocast = False  # as Keras: float32 inputs are normalized in float32, not cast first
        # Keras sorts the axes without normalizing their sign, which fixes the weight shape.
        self.axis = sorted(axis) if isinstance(axis, list) else axis
        self.epsilon = epsilon
        self.rms_scaling = as_bool(self, "rms_scaling", rms_scaling)
        self._init_affine(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
        )

    def _has_gamma(self):
        return self.scale or self.rms_scaling

    def _has_beta(self):
        return self.center and not self.rms_scaling

    def _axes(self) -> list:
        return self.axis if isinstance(self.axis, list) else [self.axis]

    def _param_shape(self, spec: TensorSpec) -> tuple:
        _check_axes(self, spec, self.axis)
        shape = tuple(spec.shape[a] for a in self._axes())
        if None in shape:
            raise ValueError(
                f"Layer {self.name!r} (LayerNormalization) needs axis {self.axis} of its input to "
                f"be known. Received: input shape={spec.shape}"
            )
        return shape

    def init(self, rng, input_spec):
        return {"params": self._affine_params(rng, self._param_shape(input_spec)), "state": {}}

    def check_input_spec(self, built_spec, input_spec):
        _check_rank(self, input_spec, 1)
        if input_spec.ndim != built_spec.ndim or self._param_shape(input_spec) != self._param_shape(
            built_spec
        ):
            raise ValueError(
                f"Input 0 of layer {self.name!r} (LayerNormalization) is incompatible with the "
                f"layer: expected an input like {built_spec.shape} on axis {self.axis}. "
                f"Received: input shape={input_spec.shape}"
            )

    def apply(self, variables, inputs, *, training=False, rng=None):
        del training, rng
        x = jnp.asarray(inputs)
        x = x.astype(_compute_dtype(x))
        axes = self._axes()
        shape = [1] * x.ndim
        for a in axes:
            shape[a] = x.shape[a]
        params = variables["params"]

        def broadcast(v):
            return None if v is None else v.astype(x.dtype).reshape(shape)

        gamma, beta = broadcast(params.get("gamma")), broadcast(params.get("beta"))
        red = tuple(a % x.ndim for a in axes)
        if self.rms_scaling:
            out = x * jax.lax.rsqrt(jnp.var(x, axis=red, keepdims=True) + self.epsilon)
            if gamma is not None:
                out = out * gamma
        else:
            mean = jnp.mean(x, red, keepdims=True)
            variance = jnp.var(x, axis=red, keepdims=True)
            out = _normalize(x, mean, variance, self.epsilon, gamma, beta)
        return out.astype(self.dtype), {}

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "rms_scaling": self.rms_scaling,
            **self._affine_config(),
        }


class GroupNormalization(_AffineNorm):
    """Splits the channels into `groups` and normalizes each group of each sample.

    The statistics of a group are taken over its channels and over every non-batch axis.
    `groups=1` is LayerNormalization over all axes, `groups=-1` (one group per channel) is
    instance normalization.

    Args:
        groups: positive int dividing the number of channels, or -1 (default 32).
        axis: the channel axis (default -1).
        epsilon: small float added to the variance (default 1e-3).
        center, scale and their initializers, regularizers and constraints: as for
            BatchNormalization; `gamma` and `beta` have one entry per channel.
    """

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if (
            isinstance(groups, bool)
            or not isinstance(groups, (int, np.integer))
            or (groups <= 0 and groups != -1)
        ):
            raise ValueError(
                "GroupNormalization: `groups` must be a positive integer (or -1 for instance "
                f"normalization). Received: groups={groups!r}"
            )
        axis = _axis_arg("GroupNormalization", axis, allow_list=False)
        epsilon = _nonneg("GroupNormalization", "epsilon", epsilon)
        super().__init__(**kwargs)
        self.autocast = False  # as Keras: float32 inputs are normalized in float32, not cast first
        self.groups = int(groups)
        self.axis = axis
        self.epsilon = epsilon
        self._init_affine(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
        )

    def _channels_and_groups(self, spec: TensorSpec) -> tuple[int, int]:
        _check_axes(self, spec, self.axis)
        dim = spec.shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Layer {self.name!r} (GroupNormalization) needs axis {self.axis} of its input to "
                f"be known. Received: input shape={spec.shape}"
            )
        groups = dim if self.groups == -1 else self.groups
        if dim < groups or dim % groups:
            raise ValueError(
                f"Layer {self.name!r} (GroupNormalization): the number of groups must divide the "
                f"number of channels ({dim}, axis {self.axis} of input shape {spec.shape}). "
                f"Received: groups={self.groups}"
            )
        return dim, groups

    def compute_output_spec(self, input_spec, **kwargs):
        self._channels_and_groups(input_spec)
        return TensorSpec(input_spec.shape, self.dtype)

    def init(self, rng, input_spec):
        dim, _ = self._channels_and_groups(input_spec)
        return {"params": self._affine_params(rng, (dim,)), "state": {}}

    def check_input_spec(self, built_spec, input_spec):
        _check_rank(self, input_spec, 1)
        dim, _ = self._channels_and_groups(input_spec)
        if input_spec.ndim != built_spec.ndim or dim != built_spec.shape[self.axis]:
            raise ValueError(
                f"Input 0 of layer {self.name!r} (GroupNormalization) is incompatible with the "
                f"layer: expected rank {built_spec.ndim} with axis {self.axis} of size "
                f"{built_spec.shape[self.axis]}. Received: input shape={input_spec.shape}"
            )

    def apply(self, variables, inputs, *, training=False, rng=None):
        del training, rng
        x = jnp.asarray(inputs)
        in_dtype = x.dtype
        dim, groups = self._channels_and_groups(TensorSpec(x.shape, str(x.dtype)))
        axis = self.axis % x.ndim
        # (..., C, ...) -> (..., G, C/G, ...): the group axis sits where the channel axis was.
        grouped_shape = x.shape[:axis] + (groups, dim // groups) + x.shape[axis + 1 :]
        g = x.reshape(grouped_shape)
        g = g.astype(_compute_dtype(g))
        red = tuple(i for i in range(1, g.ndim) if i != axis)
        mean = jnp.mean(g, red, keepdims=True)
        variance = jnp.var(g, axis=red, keepdims=True)
        bshape = [1] * g.ndim
        bshape[axis], bshape[axis + 1] = groups, dim // groups
        params = variables["params"]

        def broadcast(v):
            return None if v is None else v.reshape(bshape).astype(g.dtype)

        out = _normalize(
            g,
            mean,
            variance,
            self.epsilon,
            broadcast(params.get("gamma")),
            broadcast(params.get("beta")),
        )
        out = out.astype(in_dtype).reshape(x.shape)
        return out.astype(self.dtype), {}

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            **self._affine_config(),
        }


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`: `x / max(||x||, 1e-12)`.

    Args:
        axis: int or list of ints, the axes whose joint norm becomes 1 (default -1).

    Input shape: arbitrary. Output shape: same as the input.
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        axis = _axis_arg("UnitNormalization", axis)
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_spec(self, input_spec, **kwargs):
        _check_axes(self, input_spec, self.axis)
        dtype = (
            input_spec.dtype
            if np.issubdtype(np.dtype(input_spec.dtype), np.floating)
            else self.dtype
        )
        return TensorSpec(input_spec.shape, dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        x = jnp.asarray(inputs)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(self.dtype)
        axes = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        inv = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axes, keepdims=True))
        # Keras's `ops.normalize(x, epsilon=1e-12)`: the norm is floored at epsilon. In half
        # precision 1e12 is not representable: cap at the dtype's largest finite value instead
        # (Keras's inf turns an all-zero float16 input into NaN; this keeps it zero).
        cap = min(1.0 / 1e-12, float(jnp.finfo(x.dtype).max))
        return x * jnp.minimum(inv, cap), {}

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
