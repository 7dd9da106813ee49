"""Convolutional LSTM layers: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (Shi et al., 2015).

An LSTM whose input and recurrent transformations are convolutions. The input convolution of
all timesteps runs once before the time loop (the `(time * batch)` frames in one
`lax.conv_general_dilated`); only the recurrent 'same' convolution runs per step. Kernels and
gate order (`i, f, c, o` along the last kernel axis) are Keras 3's.

Masks: Keras 3's ConvLSTM broadcasts a `(batch, 1)` step mask against `(batch, rows, cols,
filters)` states, which fails or mixes axes; here a masked step keeps the whole previous state
of that sample (the intended semantics, as for the other RNNs).
"""

import jax
import jax.numpy as jnp
from jax import lax

from fkeras import _config, activations, constraints, initializers, regularizers
from fkeras.layers._conv_utils import (
    assemble,
    channel_axis,
    conv_output_spatial,
    dimension_numbers,
    normalize_padding,
    normalize_tuple,
    positive_int,
    spatial_of,
)
from fkeras.layers._core import _serialize
from fkeras.layers._recurrent import _CellRNN, _delegate
from fkeras.layers._rnn_cells import MSG_NEEDS_RNG, RNNCell, check_rate, dropout_masks
from fkeras.layers._spec import as_bool


class ConvLSTMCell(RNNCell):
    """One step of a convolutional LSTM of spatial rank `rank` (1, 2 or 3).

    Args:
        rank: the number of spatial dimensions.
        filters: the number of output channels of the output and of both states.
        kernel_size, strides, dilation_rate: ints or tuples of `rank` ints (strides > 1 and
            dilation > 1 exclude each other); the recurrent convolution has stride 1.
        padding: 'valid' or 'same' for the input convolution (the recurrent one is 'same').
        data_format: 'channels_last' (default) or 'channels_first'.
        activation, recurrent_activation, use_bias, initializers, unit_forget_bias,
        regularizers, constraints, dropout, recurrent_dropout, seed: as for `LSTMCell`.

    Variables: `kernel (*kernel_size, channels, 4*filters)`, `recurrent_kernel
    (*kernel_size, filters, 4*filters)`, `bias (4*filters,)`.
    """

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
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
        owner = f"ConvLSTM{rank}D"
        if not isinstance(rank, int) or rank not in (1, 2, 3):
            raise ValueError(f"ConvLSTMCell: `rank` must be 1, 2 or 3. Received: rank={rank!r}")
        filters = positive_int(filters, "filters", owner)
        kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        strides = normalize_tuple(strides, rank, "strides", owner)
        dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        if max(strides) > 1 and max(dilation_rate) > 1:
            raise ValueError(
                f"{owner}: `strides > 1` is not compatible with `dilation_rate > 1`. "
                f"Received: strides={strides} and dilation_rate={dilation_rate}"
            )
        padding = normalize_padding(padding, owner)
        dropout = check_rate(dropout, "dropout")
        recurrent_dropout = check_rate(recurrent_dropout, "recurrent_dropout")
        super().__init__(**kwargs)
        self.rank = rank
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.data_format = _config.standardize_data_format(data_format)
        self.dilation_rate = dilation_rate
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = as_bool(self, "use_bias", use_bias)
        self.kernel_initializer = initializers.get_or_default(kernel_initializer, "glorot_uniform")
        self.recurrent_initializer = initializers.get_or_default(
            recurrent_initializer, "orthogonal"
        )
        self.bias_initializer = initializers.get_or_default(bias_initializer, "zeros")
        self.unit_forget_bias = as_bool(self, "unit_forget_bias", unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        self.state_size = [filters, filters]
        self.output_size = filters

    # ---- shapes ---------------------------------------------------------------------------

    def _check_step(self, step_shape) -> None:
        if len(step_shape) != self.rank + 2:
            raise ValueError(
                f"ConvLSTM{self.rank}D expects inputs of rank {self.rank + 3} "
                f"`(batch, timesteps, ...)`. Received: a step shape {tuple(step_shape)}"
            )

    def step_output_shape(self, step_shape):
        self._check_step(step_shape)
        spatial = conv_output_spatial(
            spatial_of(step_shape, self.data_format),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )
        if any(s is not None and s <= 0 for s in spatial):
            raise ValueError(
                f"ConvLSTM{self.rank}D: the input frames {tuple(step_shape[1:])} are too small for "
                f"kernel_size={self.kernel_size} with padding={self.padding!r}."
            )
        return assemble(step_shape[0], spatial, self.filters, self.data_format)

    def state_shapes(self, step_shape):
        out = self.step_output_shape(step_shape)
        return [out, out]

    def init(self, rng, input_spec):
        shape = tuple(input_spec.shape)
        self._check_step(shape)
        channels = shape[channel_axis(self.data_format)]
        if channels is None or None in spatial_of(shape, self.data_format):
            raise ValueError(
                f"ConvLSTM{self.rank}D needs static spatial and channel dimensions. "
                f"Received: a step shape {shape}"
            )
        self.step_output_shape(shape)
        k1, k2, k3, k4 = jax.random.split(rng, 4)
        f = self.filters
        params = {
            "kernel": self.kernel_initializer(
                self.kernel_size + (channels, 4 * f), self.dtype, key=k1
            ),
            "recurrent_kernel": self.recurrent_initializer(
                self.kernel_size + (f, 4 * f), self.dtype, key=k2
            ),
        }
        if self.use_bias:
            if self.unit_forget_bias:
                params["bias"] = jnp.concatenate(
                    [
                        self.bias_initializer((f,), self.dtype, key=k3),
                        jnp.ones((f,), self.dtype),
                        self.bias_initializer((2 * f,), self.dtype, key=k4),
                    ]
                )
            else:
                params["bias"] = self.bias_initializer((4 * f,), self.dtype, key=k3)
        return {"params": params, "state": {}}

    # ---- the recurrence -------------------------------------------------------------------

    def _conv(self, x, kernel, strides, padding, dilation):
        return lax.conv_general_dilated(
            x,
            kernel,
            strides,
            padding.upper(),
            rhs_dilation=dilation,
            dimension_numbers=dimension_numbers(self.rank, self.data_format),
        )

    def _gated_conv(self, x, kernel, masks, strides, padding, dilation):
        """One conv with all 4 gates' kernels, or one per gate with its dropout mask."""
        if masks is None:
            return self._conv(x, kernel, strides, padding, dilation)
        kernels = jnp.split(kernel, 4, axis=-1)
        axis = channel_axis(self.data_format)
        return jnp.concatenate(
            [self._conv(x * m, k, strides, padding, dilation) for m, k in zip(masks, kernels)],
            axis=axis,
        )

    def prepare_sequence(self, params, sequences, *, training=False, rng=None):
        use_dp = training and self.dropout > 0
        use_rdp = training and self.recurrent_dropout > 0
        dp = rdp = None
        if use_dp or use_rdp:
            if rng is None:
                raise ValueError(MSG_NEEDS_RNG.format(name=self.name))
            k_in, k_rec = jax.random.split(rng)
            step_shape = tuple(sequences.shape[1:])
            if use_dp:
                dp = dropout_masks(k_in, self.dropout, step_shape, 4, sequences.dtype)
            if use_rdp:
                state_shape = self.step_output_shape(step_shape)
                rdp = dropout_masks(k_rec, self.recurrent_dropout, state_shape, 4, sequences.dtype)
        steps, batch = sequences.shape[:2]
        frames = sequences.reshape((steps * batch,) + tuple(sequences.shape[2:]))
        if dp is not None:
            dp = [jnp.tile(m, (steps,) + (1,) * (m.ndim - 1)) for m in dp]
        xs = self._gated_conv(
            frames, params["kernel"], dp, self.strides, self.padding, self.dilation_rate
        )
        axis = channel_axis(self.data_format)
        if self.use_bias:
            bias_shape = [1] * xs.ndim
            bias_shape[axis] = 4 * self.filters
            xs = xs + params["bias"].reshape(bias_shape)
        xs = xs.reshape((steps, batch) + tuple(xs.shape[1:]))
        rk = params["recurrent_kernel"]
        ones = (1,) * self.rank
        ra, act = self.recurrent_activation, self.activation

        def step_fn(x_t, states):
            h, c = states
            z = x_t + self._gated_conv(h, rk, rdp, ones, "same", ones)
            i, f, g, o = jnp.split(z, 4, axis=axis)
            c_new = ra(f) * c + ra(i) * act(g)
            h_new = ra(o) * act(c_new)
            return h_new, [h_new, c_new]

        return xs, step_fn

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
            "rank": self.rank,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
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


_RNN_FLAGS = (
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
    "zero_output_for_mask",
)


class _ConvLSTM(_CellRNN):
    """The rank-generic ConvLSTM layer behind ConvLSTM1D/2D/3D."""

    _rank = 2
    _cell_keys = _CellRNN._cell_keys + ("rank",)

    def __init__(self, filters, kernel_size, **kwargs):
        flags = {k: kwargs.pop(k) for k in _RNN_FLAGS if k in kwargs}
        layer_keys = (
            "name",
            "dtype",
            "trainable",
            "input_shape",
            "input_dim",
            "batch_size",
            "batch_input_shape",
            "batch_shape",
            "weights",
        )
        layer_kwargs = {k: kwargs.pop(k) for k in layer_keys if k in kwargs}
        cell = ConvLSTMCell(
            self._rank,
            filters,
            kernel_size,
            name="conv_lstm_cell",
            dtype=layer_kwargs.get("dtype"),
            trainable=layer_kwargs.get("trainable", True),
            **kwargs,
        )
        super().__init__(cell, **flags, **layer_kwargs)

    @property
    def _input_rank(self) -> int:
        return self._rank + 3


_delegate(
    _ConvLSTM,
    (
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "seed",
    ),
)


def _conv_lstm_class(rank: int):
    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
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
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        args = dict(locals())
        for key in ("self", "filters", "kernel_size", "kwargs", "__class__"):
            args.pop(key, None)
        _ConvLSTM.__init__(self, filters, kernel_size, **args, **kwargs)

    return __init__


_SHAPES = {
    1: "(batch, time, steps, channels)",
    2: "(batch, time, rows, cols, channels)",
    3: "(batch, time, depth, rows, cols, channels)",
}


def _doc(rank: int) -> str:
    return f"""{rank}D convolutional LSTM: `ConvLSTMCell` (rank {rank}) over time.

    Args:
        filters: the number of output channels.
        kernel_size, strides, dilation_rate: an int or a tuple of {rank} ints.
        padding: 'valid' (default) or 'same' for the input convolution.
        data_format: 'channels_last' (default) or 'channels_first'.
        activation ('tanh'), recurrent_activation ('sigmoid'), use_bias, kernel_initializer
        ('glorot_uniform'), recurrent_initializer ('orthogonal'), bias_initializer ('zeros'),
        unit_forget_bias (True), regularizers, constraints, dropout, recurrent_dropout, seed:
        as for `LSTM`.
        return_sequences, return_state, go_backwards, stateful, unroll: see `RNN`.

    Input shape: `{_SHAPES[rank]}` (channels_last), static spatial and channel sizes.
    Output shape: the convolution of one frame `(batch, ...new spatial, filters)`, with a time
    axis after the batch axis with `return_sequences`; with `return_state`, `[output, h, c]`.
    """


class ConvLSTM1D(_ConvLSTM):
    __doc__ = _doc(1)
    _rank = 1
    __init__ = _conv_lstm_class(1)


class ConvLSTM2D(_ConvLSTM):
    __doc__ = _doc(2)
    _rank = 2
    __init__ = _conv_lstm_class(2)


class ConvLSTM3D(_ConvLSTM):
    __doc__ = _doc(3)
    _rank = 3
    __init__ = _conv_lstm_class(3)
