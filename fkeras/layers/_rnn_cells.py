"""Recurrent cells: one step of a recurrence, as pure functions.

The cell protocol
-----------------
`RNN` (in `_recurrent.py`) runs any cell over the time axis with `jax.lax.scan`. A cell is an
fkeras `Layer` spec with:

- `state_size`: an int, or a list of ints (one per state tensor); `output_size` (optional,
  default: the first state size).
- `init(rng, input_spec) -> {'params': {...}, 'state': {}}`, where `input_spec` describes ONE
  time step: `(batch, features)`.
- `step(params, inputs, states, *, training=False, rng=None) -> (output, new_states)`: one
  step. `inputs` is `(batch, features)`, `states` a list of `(batch, size)` arrays in
  `state_size` order; it returns the step's output and the list of new states. `rng` is the
  same key at every step of a sequence, so a dropout mask drawn from it is the same at every
  step (Keras's one mask per sequence).

Optional, for speed and for non-vector states:

- `prepare_sequence(params, sequences, *, training=False, rng=None) -> (xs, step_fn)`: called
  once per batch of sequences with the time-major inputs `(time, batch, ...)`. It returns the
  per-step inputs `xs` (a pytree with a leading time axis) and `step_fn(x_t, states) ->
  (output, new_states)`. The built-in cells project the inputs of all timesteps here in one
  matmul (`x @ kernel` over `(time * batch)` rows, hoisted out of the loop) and draw their
  dropout masks once.
- `state_shapes(step_shape) -> list of shapes`, `step_output_shape(step_shape) -> shape`: for
  states that are not `(batch, size)` (ConvLSTM's feature maps).

A weightless cell may define Keras's `call(inputs, states) -> (output, new_states)` instead
of `step`.

Example (a user cell):

    class MinimalRNNCell(RNNCell):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def init(self, rng, input_spec):
            k1, k2 = jax.random.split(rng)
            glorot, orthogonal = initializers.get("glorot_uniform"), initializers.get("orthogonal")
            return {"params": {
                "kernel": glorot((input_spec.shape[-1], self.units), key=k1),
                "recurrent_kernel": orthogonal((self.units, self.units), key=k2),
            }, "state": {}}

        def step(self, params, inputs, states, *, training=False, rng=None):
            h = inputs @ params["kernel"] + states[0] @ params["recurrent_kernel"]
            return h, [h]

    layer = RNN(MinimalRNNCell(32))
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import activations, constraints, initializers, regularizers
from fkeras.layers._base import Layer
from fkeras.layers._core import _serialize
from fkeras.layers._spec import TensorSpec, as_bool

MSG_NEEDS_RNG = (
    "Layer {name!r} has dropout and was applied with training=True but no `rng`. Pass a PRNG "
    "key:\n    outputs, state = layer.apply(variables, x, training=True, rng=jax.random.key(0))\n"
    "or apply with training=False (no dropout at inference)."
)

StepFn = Callable[[Any, list], tuple]


# ---- argument checks ---------------------------------------------------------------------------


def check_units(value, name: str = "units") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected a positive integer. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def check_implementation(value) -> int:
    """Keras's `implementation` mode of the LSTM/GRU cells: 1 or 2 (Keras 2 also took 0)."""
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not is_int or value not in (0, 1, 2):
        raise ValueError(
            f"Invalid value for argument `implementation`: expected 1 or 2. "
            f"Received: implementation={value!r}"
        )
    return int(value)


def check_rate(value, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.floating, np.integer))
        or not (0 <= value < 1)
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a float in [0, 1). "
            f"Received: {name}={value!r}"
        )
    return float(value)


# ---- helpers shared by the cells and RNN -----------------------------------------------------


def flat_state_sizes(state_size) -> list:
    """`state_size` (an int, a list, or a list of per-cell sizes) as a flat list."""
    if isinstance(state_size, (int, np.integer)):
        return [int(state_size)]
    return [s for item in state_size for s in flat_state_sizes(item)]


def cell_state_shapes(cell, step_shape: tuple) -> list:
    if hasattr(cell, "state_shapes"):
        return cell.state_shapes(step_shape)
    return [(step_shape[0], s) for s in flat_state_sizes(cell.state_size)]


def cell_output_shape(cell, step_shape: tuple) -> tuple:
    if hasattr(type(cell), "step_output_shape"):
        return cell.step_output_shape(step_shape)
    size = getattr(cell, "output_size", None)
    if size is None:
        size = flat_state_sizes(cell.state_size)[0]
    return (step_shape[0], size)


def cell_init(cell, rng, step_spec: TensorSpec) -> dict:
    v = cell.init(rng, step_spec) if isinstance(cell, Layer) else {}
    return {"params": dict(v.get("params", {})), "state": dict(v.get("state", {}))}


def cell_prepare(cell, params, sequences, *, training: bool, rng) -> tuple:
    """`(xs, step_fn)` for `cell` over time-major `sequences` (see the module docstring)."""
    prepare = getattr(cell, "prepare_sequence", None)
    if prepare is not None and getattr(cell, "_has_prepare", True):
        return prepare(params, sequences, training=training, rng=rng)
    own_step = getattr(type(cell), "step", None) not in (None, RNNCell.step)
    if own_step or not hasattr(cell, "call"):

        def step_fn(x_t, states):
            out, new = cell.step(params, x_t, list(states), training=training, rng=rng)
            return out, _as_list(new)
    else:

        def step_fn(x_t, states):
            out, new = cell.call(x_t, list(states))
            return out, _as_list(new)

    return sequences, step_fn


def _as_list(states) -> list:
    return list(states) if isinstance(states, (list, tuple)) else [states]


def dropout_masks(rng, rate: float, shape: tuple, count: int, dtype) -> list:
    """`count` inverted-dropout masks (`keep / (1 - rate)`), as Keras's `dropout(ones_like(x))`."""
    keep = 1.0 - rate
    keys = jax.random.split(rng, count)
    ones = jnp.ones(shape, dtype)
    return [
        jnp.where(jax.random.bernoulli(k, keep, shape), ones / keep, jnp.zeros_like(ones))
        for k in keys
    ]


def _activation_config(fn) -> Any:
    return activations.serialize(fn)


class RNNCell(Layer):
    """Base class of fkeras recurrent cells (see the module docstring for the protocol)."""

    state_size: Any = None
    output_size: Any = None

    @property
    def _has_prepare(self) -> bool:
        return type(self).prepare_sequence is not RNNCell.prepare_sequence

    def prepare_sequence(self, params, sequences, *, training=False, rng=None):
        raise NotImplementedError

    def step(self, params, inputs, states, *, training=False, rng=None):
        """One step: `(output, new_states)` for `inputs` `(batch, ...)` and `states` (a list)."""
        if not self._has_prepare:
            raise NotImplementedError(
                f"{type(self).__name__} must implement `step(params, inputs, states, *, training, "
                "rng)` (or `prepare_sequence`)."
            )
        xs, step_fn = self.prepare_sequence(params, inputs[None], training=training, rng=rng)
        return step_fn(jax.tree_util.tree_map(lambda a: a[0], xs), list(states))

    def get_initial_state(self, batch_size: int) -> list:
        """Zero states for `batch_size` samples (Keras's `cell.get_initial_state`)."""
        return [jnp.zeros((batch_size, s), self.dtype) for s in flat_state_sizes(self.state_size)]

    def check_input_spec(self, built_spec, input_spec):
        """A step input must keep the rank and feature axis the cell was built for."""
        fits = (
            isinstance(input_spec, TensorSpec)
            and input_spec.ndim == built_spec.ndim
            and input_spec.shape[-1] in (None, built_spec.shape[-1])
        )
        if not fits:
            raise ValueError(
                f"Input 0 of cell {self.name!r} ({type(self).__name__}) is incompatible with the "
                f"cell: expected step inputs of shape {built_spec.shape}. "
                f"Received: input shape={getattr(input_spec, 'shape', input_spec)}"
            )

    def compute_output_spec(self, input_spec, **kwargs):
        shape = cell_output_shape(self, tuple(input_spec.shape))
        states = [
            TensorSpec(s, self.dtype) for s in cell_state_shapes(self, tuple(input_spec.shape))
        ]
        return [TensorSpec(shape, self.dtype), states]

    def apply(self, variables, inputs, *, training=False, rng=None, states=None):
        """Keras's `cell(inputs, states)`: one step, returning `([output, new_states], {})`."""
        inputs = jnp.asarray(inputs)
        if inputs.dtype != jnp.dtype(self.dtype):
            inputs = inputs.astype(self.dtype)  # as the RNN layers do
        if states is None:
            # zeros shaped for this step input (a ConvLSTM cell's states have spatial axes)
            shapes = cell_state_shapes(self, tuple(inputs.shape))
            states = [jnp.zeros(s, self.dtype) for s in shapes]
        out, new = self.step(
            variables["params"], inputs, _as_list(states), training=training, rng=rng
        )
        return [out, list(new)], {}


class _GatedCell(RNNCell):
    """What SimpleRNNCell, GRUCell and LSTMCell share: arguments, weights, config."""

    _gates = 1
    _default_activation = "tanh"

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        implementation=2,
        **kwargs,
    ):
        units = check_units(units)
        dropout = check_rate(dropout, "dropout")
        recurrent_dropout = check_rate(recurrent_dropout, "recurrent_dropout")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = as_bool(self, "use_bias", use_bias)
        self.kernel_initializer = initializers.get_or_default(kernel_initializer, "glorot_uniform")
        self.recurrent_initializer = initializers.get_or_default(
            recurrent_initializer, "orthogonal"
        )
        self.bias_initializer = initializers.get_or_default(bias_initializer, "zeros")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        # Keras switches to per-gate matmuls (and per-gate dropout masks) with recurrent dropout.
        self.implementation = 1 if recurrent_dropout else check_implementation(implementation)
        self.state_size = units
        self.output_size = units

    def _input_dim(self, spec: TensorSpec) -> int:
        if not isinstance(spec, TensorSpec) or spec.ndim < 2 or spec.shape[-1] is None:
            raise ValueError(
                f"Cell {self.name!r} ({type(self).__name__}) needs step inputs `(batch, features)` "
                f"with a known feature axis. Received: input shape={getattr(spec, 'shape', spec)}"
            )
        return spec.shape[-1]

    def _bias_init(self, key, dtype):
        return self.bias_initializer((self._gates * self.units,), dtype, key=key)

    def init(self, rng, input_spec):
        k1, k2, k3 = jax.random.split(rng, 3)
        gu = self._gates * self.units
        params = {
            "kernel": self.kernel_initializer(
                (self._input_dim(input_spec), gu), self.dtype, key=k1
            ),
            "recurrent_kernel": self.recurrent_initializer((self.units, gu), self.dtype, key=k2),
        }
        if self.use_bias:
            params["bias"] = self._bias_init(k3, self.dtype)
        return {"params": params, "state": {}}

    def _masks(self, sequences, training, rng):
        """(input masks, recurrent masks): lists of per-gate masks, or None when not dropping."""
        use_dp = training and self.dropout > 0
        use_rdp = training and self.recurrent_dropout > 0
        if not (use_dp or use_rdp):
            return None, None
        if rng is None:
            raise ValueError(MSG_NEEDS_RNG.format(name=self.name))
        k_in, k_rec = jax.random.split(rng)
        count = self._gates if self.implementation == 1 else 1
        batch = sequences.shape[1]
        dp = (
            dropout_masks(k_in, self.dropout, (batch, sequences.shape[-1]), count, sequences.dtype)
            if use_dp
            else None
        )
        rdp = (
            dropout_masks(
                k_rec, self.recurrent_dropout, (batch, self.units), count, sequences.dtype
            )
            if use_rdp
            else None
        )
        return dp, rdp

    def _project(self, params, sequences, dp, add_bias: bool):
        """`x @ kernel (+ bias)` for every timestep at once; per-gate when there are gate masks."""
        kernel = params["kernel"]
        if dp is None:
            z = jnp.matmul(sequences, kernel)
        elif len(dp) == 1:
            z = jnp.matmul(sequences * dp[0], kernel)
        else:
            parts = jnp.split(kernel, self._gates, axis=1)
            z = jnp.concatenate([jnp.matmul(sequences * m, k) for m, k in zip(dp, parts)], axis=-1)
        if add_bias and self.use_bias:
            z = z + params["bias"]
        return z

    def penalty(self, params):
        total = 0.0
        for name, reg in (
            ("kernel", self.kernel_regularizer),
            ("recurrent_kernel", self.recurrent_regularizer),
            ("bias", self.bias_regularizer),
        ):
            if reg is not None and name in params:
                total = total + reg(params[name])
        return total

    def constrain(self, params):
        params = dict(params)
        for name, con in (
            ("kernel", self.kernel_constraint),
            ("recurrent_kernel", self.recurrent_constraint),
            ("bias", self.bias_constraint),
        ):
            if con is not None and name in params:
                params[name] = con(params[name])
        return params

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _activation_config(self.activation),
            "recurrent_activation": _activation_config(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _serialize(regularizers, self.kernel_regularizer),
            "recurrent_regularizer": _serialize(regularizers, self.recurrent_regularizer),
            "bias_regularizer": _serialize(regularizers, self.bias_regularizer),
            "kernel_constraint": _serialize(constraints, self.kernel_constraint),
            "recurrent_constraint": _serialize(constraints, self.recurrent_constraint),
            "bias_constraint": _serialize(constraints, self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class SimpleRNNCell(_GatedCell):
    """Cell of a fully-connected RNN: `h_t = activation(x_t W + b + h_{t-1} U)`.

    `W` is `kernel`, `U` is `recurrent_kernel`, `b` is `bias`.

    Args:
        units: positive integer, the size of the output and the state.
        activation: default 'tanh'.
        use_bias, kernel_initializer ('glorot_uniform'), recurrent_initializer ('orthogonal'),
        bias_initializer ('zeros'), *_regularizer, *_constraint: as in Keras.
        dropout, recurrent_dropout: floats in [0, 1), the fraction of the inputs / of the
            recurrent state dropped while training (one mask per sequence).
        seed: accepted for Keras compatibility; randomness comes from `rng`.

    Variables: `kernel (input_dim, units)`, `recurrent_kernel (units, units)`, `bias (units,)`.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation,
            None,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
            **kwargs,
        )

    def prepare_sequence(self, params, sequences, *, training=False, rng=None):
        dp, rdp = self._masks(sequences, training, rng)
        xs = self._project(params, sequences, dp, add_bias=True)
        rk = params["recurrent_kernel"]

        def step_fn(x_t, states):
            prev = states[0] if rdp is None else states[0] * rdp[0]
            out = self.activation(x_t + jnp.matmul(prev, rk))
            return out, [out]

        return xs, step_fn

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class GRUCell(_GatedCell):
    """Cell of a Gated Recurrent Unit (Cho et al., 2014), Keras's gate order `z, r, h`.

    `z = σ(x W_z + h U_z + b)`, `r = σ(x W_r + h U_r + b)`,
    `h̃ = tanh(x W_h + r ⊙ (h U_h + b_rec))` (reset_after=True, the cuDNN form) or
    `h̃ = tanh(x W_h + (r ⊙ h) U_h + b)` (reset_after=False); `h_t = z ⊙ h + (1 - z) ⊙ h̃`.

    Args:
        units, activation ('tanh'), recurrent_activation ('sigmoid'), use_bias, initializers,
        regularizers, constraints, dropout, recurrent_dropout, seed: as for `LSTMCell`.
        reset_after: apply the reset gate after the recurrent matmul (default True, Keras 3).

    Variables: `kernel (input_dim, 3*units)`, `recurrent_kernel (units, 3*units)`, `bias`
    `(2, 3*units)` (input and recurrent biases) with reset_after, else `(3*units,)`.
    """

    _gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation,
            recurrent_activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
            **kwargs,
        )
        self.reset_after = as_bool(self, "reset_after", reset_after)

    def _bias_init(self, key, dtype):
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        return self.bias_initializer(shape, dtype, key=key)

    def prepare_sequence(self, params, sequences, *, training=False, rng=None):
        dp, rdp = self._masks(sequences, training, rng)
        u = self.units
        bias = params.get("bias") if self.use_bias else None
        input_bias = None if bias is None else (bias[0] if self.reset_after else bias)
        rec_bias = bias[1] if (bias is not None and self.reset_after) else None
        xs = self._project(params, sequences, dp, add_bias=False)
        if input_bias is not None:
            xs = xs + input_bias
        rk = params["recurrent_kernel"]
        ra, act = self.recurrent_activation, self.activation

        def step_fn(x_t, states):
            h = states[0]
            # jnp.split, not three slices: its gradient is one concatenate where slices' are
            # three zero-pads summed (a GRU training step ~20% faster on XLA:CPU, measured)
            x_z, x_r, x_h = jnp.split(x_t, 3, axis=-1)
            hz, hr, hh = (h, h, h) if rdp is None else (h * rdp[0], h * rdp[1], h * rdp[2])
            if rdp is None and self.reset_after:
                inner = jnp.matmul(h, rk)
                if rec_bias is not None:
                    inner = inner + rec_bias
                r_z, r_r, r_h = jnp.split(inner, 3, axis=-1)
            elif rdp is None:
                inner = jnp.matmul(h, rk[:, : 2 * u])
                (r_z, r_r), r_h = jnp.split(inner, 2, axis=-1), None
            else:
                r_z, r_r = jnp.matmul(hz, rk[:, :u]), jnp.matmul(hr, rk[:, u : 2 * u])
                r_h = jnp.matmul(hh, rk[:, 2 * u :]) if self.reset_after else None
                if rec_bias is not None:
                    r_z, r_r, r_h = (
                        r_z + rec_bias[:u],
                        r_r + rec_bias[u : 2 * u],
                        r_h + rec_bias[2 * u :],
                    )
            z = ra(x_z + r_z)
            r = ra(x_r + r_r)
            rec_h = r * r_h if self.reset_after else jnp.matmul(r * hh, rk[:, 2 * u :])
            candidate = act(x_h + rec_h)
            new = z * h + (1 - z) * candidate
            return new, [new]

        return xs, step_fn

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


class LSTMCell(_GatedCell):
    """Cell of a Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997).

    Keras's gate order `i, f, c, o`: `z = x W + h U + b`, split in four;
    `c_t = σ(z_f) ⊙ c + σ(z_i) ⊙ tanh(z_c)`, `h_t = σ(z_o) ⊙ tanh(c_t)`. States: `[h, c]`.

    Args:
        units: positive integer, the size of the output and of each state.
        activation ('tanh'), recurrent_activation ('sigmoid'), use_bias, kernel_initializer
        ('glorot_uniform'), recurrent_initializer ('orthogonal'), bias_initializer ('zeros'),
        *_regularizer, *_constraint: as in Keras.
        unit_forget_bias: initialize the forget gate's bias to 1 (default True).
        dropout, recurrent_dropout: floats in [0, 1) (one mask per sequence; with recurrent
            dropout, one mask per gate, as Keras's `implementation=1`).
        seed: accepted for Keras compatibility; randomness comes from `rng`.

    Variables: `kernel (input_dim, 4*units)`, `recurrent_kernel (units, 4*units)`,
    `bias (4*units,)`.
    """

    _gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation,
            recurrent_activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
            **kwargs,
        )
        self.state_size = [self.units, self.units]
        self.unit_forget_bias = as_bool(self, "unit_forget_bias", unit_forget_bias)

    def _bias_init(self, key, dtype):
        if not self.unit_forget_bias:
            return self.bias_initializer((4 * self.units,), dtype, key=key)
        k1, k2 = jax.random.split(key)
        u = self.units
        return jnp.concatenate(
            [
                self.bias_initializer((u,), dtype, key=k1),
                jnp.ones((u,), dtype),
                self.bias_initializer((2 * u,), dtype, key=k2),
            ]
        )

    def prepare_sequence(self, params, sequences, *, training=False, rng=None):
        dp, rdp = self._masks(sequences, training, rng)
        # Keras's fused path adds the bias after the recurrent term, its per-gate path before.
        late_bias = self.implementation != 1 and self.use_bias
        xs = self._project(params, sequences, dp, add_bias=not late_bias)
        rk = params["recurrent_kernel"]
        bias = params["bias"] if late_bias else None
        ra, act = self.recurrent_activation, self.activation

        def step_fn(x_t, states):
            h, c = states
            if rdp is None:
                z = x_t + jnp.matmul(h, rk)
            else:
                parts = jnp.split(rk, 4, axis=1)
                rec = [jnp.matmul(h * m, k) for m, k in zip(rdp, parts)]
                z = x_t + jnp.concatenate(rec, axis=-1)
            if bias is not None:
                z = z + bias
            z_i, z_f, z_c, z_o = jnp.split(z, 4, axis=-1)  # one concatenate in the gradient
            i, f, o = ra(z_i), ra(z_f), ra(z_o)
            c_new = f * c + i * act(z_c)
            h_new = o * act(c_new)
            return h_new, [h_new, c_new]

        return xs, step_fn

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


def check_cell(cell) -> None:
    """Raise a ValueError unless `cell` follows the cell protocol."""
    if getattr(cell, "state_size", None) is None:
        raise ValueError(
            "The RNN cell should have a `state_size` attribute (an integer or a list of integers, "
            f"one per state). Received: cell={cell!r}"
        )
    if not (hasattr(cell, "step") or hasattr(cell, "prepare_sequence") or hasattr(cell, "call")):
        raise ValueError(
            "The RNN cell should have a `step(params, inputs, states, *, training, rng)` method "
            f"(or Keras's `call(inputs, states)`). Received: cell={cell!r}"
        )


def builtin_classes() -> dict:
    """The public layer classes of the recurrent, wrapper and embedding modules.

    Nested configs (a wrapped layer, an RNN's cell) resolve through these as well as through
    `fkeras.layers`, so they load whether or not `fkeras.layers` exports the classes yet.
    """
    from fkeras.layers import _conv_lstm, _embedding, _recurrent, _wrappers

    classes = {c.__name__: c for c in (SimpleRNNCell, GRUCell, LSTMCell)}
    for module in (_recurrent, _conv_lstm, _wrappers, _embedding):
        classes.update(
            {
                n: c
                for n, c in vars(module).items()
                if isinstance(c, type) and issubclass(c, Layer) and not n.startswith("_")
            }
        )
    return classes


def deserialize_layer(config, custom_objects=None):
    """A layer or cell from its serialized config (a layer object is returned as is)."""
    if isinstance(config, Layer):
        return config
    from fkeras.layers import _serialization

    return _serialization.deserialize(config, {**builtin_classes(), **(custom_objects or {})})
