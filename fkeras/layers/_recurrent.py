"""Recurrent layers on `jax.lax.scan`: RNN, SimpleRNN, GRU, LSTM, StackedRNNCells.

`RNN(cell)` runs a cell (see `_rnn_cells.py` for the cell protocol) over the time axis. The
cell's input projection is computed for all timesteps at once before the loop (one
`(time * batch, features) @ (features, gates * units)` matmul); only the recurrent matmul runs
per step inside `lax.scan` (or a Python loop with `unroll=True`).

Semantics follow Keras 3 on the JAX backend (`keras/src/backend/jax/rnn.py`):

- `go_backwards=True` reads the sequence from the end and returns the outputs in processing
  order (reversed), as Keras does.
- With a `mask` `(batch, timesteps)`, a masked step keeps the previous states. Its output is
  the previous step's first state (`zero_output_for_mask=False`), or zeros
  (`zero_output_for_mask=True`); with `unroll=True`, Keras instead repeats the previous
  output (zeros before the first step) whatever `zero_output_for_mask` says, and so does this.
- `stateful=True`: the final states are carried to the next call. They live in the layer's
  `state` collection (`rnn_state_0`, `rnn_state_1`, ...), so `apply` returns them as the new
  state, and they need a fixed batch size (`batch_size=` / `batch_input_shape=`). Like Keras,
  they are not weights: `get_weights()` leaves them out. `reset_state_variables(variables)`
  (pure) zeroes them; `reset_states()` does it on the layer's current variables.
- `initial_state=`: a list of arrays (Keras's call argument). Symbolic initial states are
  recorded as extra graph inputs: `lstm(x, initial_state=[h, c])` is the node `lstm([x, h, c])`,
  as Keras 2 did.
"""

import inspect

import jax
import jax.numpy as jnp
from jax import lax

from fkeras.graph import _tensor
from fkeras.layers import _cell, _cudnn
from fkeras.layers._base import Layer
from fkeras.layers._rnn_cells import (
    MSG_NEEDS_RNG,
    GRUCell,
    LSTMCell,
    RNNCell,
    SimpleRNNCell,
    cell_init,
    cell_output_shape,
    cell_prepare,
    cell_state_shapes,
    check_cell,
    deserialize_layer,
    flat_state_sizes,
)
from fkeras.layers._spec import TensorSpec, as_bool

MSG_STATEFUL_BATCH = (
    "Layer {name!r} is stateful (`stateful=True`), so it needs a fixed batch size to hold its "
    "states, but its input shape is {shape}. Give the batch size to the first layer or Input:\n"
    "    LSTM(32, stateful=True, batch_input_shape=(32, 10, 16))   # Keras 2 style, or\n"
    "    Input(shape=(10, 16), batch_size=32)"
)
MSG_UNROLL = (
    "Cannot unroll layer {name!r}: its number of timesteps is unknown (input shape {shape}). "
    "Give the time dimension in the input shape (`Input(shape=(timesteps, features))`) or "
    "use unroll=False."
)
_STATE = "rnn_state_{}"


def _expand_like(m, x):
    """A (batch,) boolean reshaped to broadcast over `x` (batch, ...)."""
    return m.reshape(m.shape + (1,) * (x.ndim - 1))


def run_recurrence(
    step_fn,
    xs,
    states: tuple,
    mask,
    *,
    go_backwards: bool = False,
    unroll: bool = False,
    zero_output_for_mask: bool = False,
    prev_output_index: int = 0,
    return_sequences: bool = True,
):
    """Run `step_fn(x_t, states) -> (output, new_states)` over time-major `xs`.

    Args:
        step_fn: one step of the recurrence.
        xs: the per-step inputs, a pytree whose leaves have a leading time axis.
        states: the initial states (a tuple of arrays).
        mask: None or a boolean `(time, batch)` array; False marks a step to skip.
        go_backwards: process the steps from last to first (outputs in processing order).
        unroll: a Python loop instead of `lax.scan`.
        zero_output_for_mask: masked steps output zeros (scan only, as in Keras).
        prev_output_index: which state a masked step outputs (scan, not zero_output_for_mask).
        return_sequences: whether to collect the outputs of every step.

    Returns:
        `(last_output, outputs or None, final_states)`; `outputs` is time-major.
    """
    if go_backwards:
        xs = jax.tree_util.tree_map(lambda a: jnp.flip(a, 0), xs)
        mask = None if mask is None else jnp.flip(mask, 0)
    x0 = jax.tree_util.tree_map(lambda a: a[0], xs)
    out_struct = jax.eval_shape(lambda x, s: step_fn(x, list(s))[0], x0, states)
    zero_out = jnp.zeros(out_struct.shape, out_struct.dtype)

    def one_step(states, prev_out, x_t, m_t):
        out, new = step_fn(x_t, list(states))
        new = tuple(new)
        if m_t is None:
            return out, new
        if unroll:
            fallback = prev_out
        elif zero_output_for_mask:
            fallback = jnp.zeros_like(out)
        else:
            fallback = states[prev_output_index]
        out = jnp.where(_expand_like(m_t, out), out, fallback)
        new = tuple(jnp.where(_expand_like(m_t, n), n, s) for n, s in zip(new, states))
        return out, new

    if unroll:
        outputs, last = [], zero_out
        for t in range(jax.tree_util.tree_leaves(xs)[0].shape[0]):
            x_t = jax.tree_util.tree_map(lambda a, t=t: a[t], xs)
            last, states = one_step(states, last, x_t, None if mask is None else mask[t])
            if return_sequences:
                outputs.append(last)
        return last, (jnp.stack(outputs) if return_sequences else None), states

    def body(carry, inp):
        states, prev = carry
        x_t, m_t = inp
        out, new = one_step(states, prev, x_t, m_t)
        return (new, out), (out if return_sequences else None)

    (states, last), outputs = lax.scan(body, (tuple(states), zero_out), (xs, mask))
    return last, outputs, states


def _is_symbolic(tree) -> bool:
    leaves = jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, _tensor.KerasTensor))
    return any(isinstance(x, _tensor.KerasTensor) for x in leaves)


def states_into_inputs(inputs, kwargs: dict):
    """Symbolic `initial_state=` become graph inputs: the node is `layer([inputs, *states])`.

    The tracer records only the first argument as graph inputs (call keywords are constants),
    so symbolic initial states travel in the inputs list, as in Keras 2.
    """
    initial_state = kwargs.get("initial_state")
    if initial_state is None or not _is_symbolic(initial_state):
        return inputs, kwargs
    kwargs = {k: v for k, v in kwargs.items() if k != "initial_state"}
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    return [inputs, *states], kwargs


def split_inputs(layer, inputs, initial_state):
    """`(sequences, initial_state)` from `inputs` that may be `[sequences, *initial_states]`."""
    if isinstance(inputs, (list, tuple)):
        if len(inputs) > 1:
            if initial_state is not None:
                raise ValueError(
                    f"Layer {layer.name!r}: give the initial states either in the inputs list or "
                    "as `initial_state=`, not both."
                )
            initial_state = list(inputs[1:])
        inputs = inputs[0]
    return inputs, initial_state


def _uses_dropout(cell) -> bool:
    cells = getattr(cell, "cells", [cell])
    return any(getattr(c, "dropout", 0) or getattr(c, "recurrent_dropout", 0) for c in cells)


class StackedRNNCells(RNNCell):
    """Runs a list of cells as one cell: each cell's output is the next cell's input.

    Variables: every cell's variables, prefixed by its position (`cell_0/kernel`, ...), in
    order. States: every cell's states, flattened in order; `return_state` regroups them per
    cell as Keras does.

    Args:
        cells: a list of cells (see the module docstring).
    """

    def __init__(self, cells, **kwargs):
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(
                f"StackedRNNCells needs a non-empty list of cells. Received: cells={cells!r}"
            )
        for cell in cells:
            check_cell(cell)
        super().__init__(**kwargs)
        self.cells = list(cells)
        self.state_size = [c.state_size for c in self.cells]
        last = self.cells[-1]
        self.output_size = (
            getattr(last, "output_size", None) or flat_state_sizes(last.state_size)[0]
        )

    def _counts(self) -> list:
        return [len(flat_state_sizes(c.state_size)) for c in self.cells]

    def _split_params(self, params) -> list:
        out = [{} for _ in self.cells]
        for key, value in params.items():
            index, name = key.split("/", 1)
            out[int(index[len("cell_") :])][name] = value
        return out

    def group_states(self, flat: list) -> list:
        groups, start = [], 0
        for n in self._counts():
            groups.append(list(flat[start : start + n]))
            start += n
        return groups

    def prev_output_index(self) -> int:
        return sum(self._counts()[:-1])

    def init(self, rng, input_spec):
        params = {}
        shape = tuple(input_spec.shape)
        for i, cell in enumerate(self.cells):
            v = cell_init(cell, jax.random.fold_in(rng, i), TensorSpec(shape, input_spec.dtype))
            params.update({f"cell_{i}/{k}": p for k, p in v["params"].items()})
            shape = cell_output_shape(cell, shape)
        return {"params": params, "state": {}}

    def state_shapes(self, step_shape):
        shapes, shape = [], tuple(step_shape)
        for cell in self.cells:
            shapes.extend(cell_state_shapes(cell, shape))
            shape = cell_output_shape(cell, shape)
        return shapes

    def step_output_shape(self, step_shape):
        shape = tuple(step_shape)
        for cell in self.cells:
            shape = cell_output_shape(cell, shape)
        return shape

    def prepare_sequence(self, params, sequences, *, training=False, rng=None):
        per_cell = self._split_params(params)
        rngs = [None if rng is None else jax.random.fold_in(rng, i) for i in range(len(self.cells))]
        xs, first_fn = cell_prepare(
            self.cells[0], per_cell[0], sequences, training=training, rng=rngs[0]
        )

        def step_fn(x_t, states):
            groups = self.group_states(list(states))
            y, new = first_fn(x_t, groups[0])
            new_states = list(new)
            for cell, p, r, group in zip(self.cells[1:], per_cell[1:], rngs[1:], groups[1:]):
                # Same key at every step: the dropout masks stay fixed over the sequence.
                ys, fn = cell_prepare(cell, p, y[None], training=training, rng=r)
                y, new = fn(jax.tree_util.tree_map(lambda a: a[0], ys), group)
                new_states.extend(new)
            return y, new_states

        return xs, step_fn

    def penalty(self, params):
        return sum(
            (
                c.penalty(p)
                for c, p in zip(self.cells, self._split_params(params))
                if isinstance(c, Layer)
            ),
            0.0,
        )

    def constrain(self, params):
        out = {}
        for i, (c, p) in enumerate(zip(self.cells, self._split_params(params))):
            p = c.constrain(p) if isinstance(c, Layer) else p
            out.update({f"cell_{i}/{k}": v for k, v in p.items()})
        return {k: out[k] for k in params}

    def get_config(self):
        from fkeras.layers import _serialization

        return {**super().get_config(), "cells": [_serialization.serialize(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cells"] = [deserialize_layer(c, custom_objects) for c in config["cells"]]
        return cls(**config)


class RNN(Layer):
    """Base class of recurrent layers: runs `cell` over the time axis of its inputs.

    Args:
        cell: an RNN cell (`LSTMCell(32)`, a user cell following the protocol of
            `_rnn_cells.py`), or a list of cells (stacked with `StackedRNNCells`).
        return_sequences: return the output of every step `(batch, timesteps, units)` rather
            than the last one `(batch, units)`.
        return_state: also return the final states: `[output, state_1, state_2, ...]`.
        go_backwards: process the sequence backwards (and return the reversed outputs).
        stateful: carry the final states of a batch over as the initial states of the next
            one (needs a fixed batch size).
        unroll: unroll the loop in Python (only for short sequences of known length).
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Call arguments:
        inputs: `(batch, timesteps, features)` (or a list `[inputs, *initial_states]`).
        mask: boolean `(batch, timesteps)`; False skips a step.
        initial_state: list of initial state arrays (default: zeros, or the carried states).
        training: enables the cell's dropout (with `rng`).

    Output shape:
        `(batch, units)`, or `(batch, timesteps, units)` with `return_sequences`; with
        `return_state`, a list `[output, *states]`, each state `(batch, state_size)`.

    Example:
        >>> layer = RNN(LSTMCell(4), return_sequences=True)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 7, 3)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (16,), 'kernel': (3, 16), 'recurrent_kernel': (4, 16)}, 'state': {}}
    """

    _mixed_compute_in_variable_dtype = True  # see mixed_precision/_autocast.py

    supports_masking = True
    _input_rank: int | None = None  # the exact input rank required (None: at least 3)

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = as_bool(self, "return_sequences", return_sequences)
        self.return_state = as_bool(self, "return_state", return_state)
        self.go_backwards = as_bool(self, "go_backwards", go_backwards)
        self.stateful = as_bool(self, "stateful", stateful)
        self.unroll = as_bool(self, "unroll", unroll)
        self.zero_output_for_mask = as_bool(self, "zero_output_for_mask", zero_output_for_mask)
        self.state_size = cell.state_size

    # ---- shapes ---------------------------------------------------------------------------

    def _sequence_spec(self, input_spec) -> TensorSpec:
        if isinstance(input_spec, (list, tuple)):
            input_spec = input_spec[0] if input_spec else None
        if not isinstance(input_spec, TensorSpec):
            raise TypeError(
                f"Layer {self.name!r} ({type(self).__name__}) expects a sequence tensor. "
                f"Received: {input_spec!r}"
            )
        rank = self._input_rank
        if (rank is not None and input_spec.ndim != rank) or input_spec.ndim < 3:
            want = f"rank {rank}" if rank else "rank >= 3"
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expects inputs of {want}, "
                f"`(batch, timesteps, ...features)`. Received: input shape={input_spec.shape}"
            )
        if input_spec.shape[1] == 0:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) needs at least one timestep. "
                f"Received: input shape={input_spec.shape}"
            )
        return input_spec

    def _state_count(self) -> int:
        return len(flat_state_sizes(self.cell.state_size))

    def _group(self, flat: list) -> list:
        group = getattr(self.cell, "group_states", None)
        return group(list(flat)) if group is not None else list(flat)

    def compute_output_spec(self, input_spec, **kwargs):
        spec = self._sequence_spec(input_spec)
        if self.unroll and spec.shape[1] is None:
            raise ValueError(MSG_UNROLL.format(name=self.name, shape=spec.shape))
        step = (spec.shape[0],) + tuple(spec.shape[2:])
        out = cell_output_shape(self.cell, step)
        if self.return_sequences:
            out = (spec.shape[0], spec.shape[1]) + tuple(out[1:])
        output = TensorSpec(out, self.dtype)
        if not self.return_state:
            return output
        states = [TensorSpec(s, self.dtype) for s in cell_state_shapes(self.cell, step)]
        return [output, *self._group(states)]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        out_mask = mask if self.return_sequences else None
        if self.return_state:
            return [out_mask] + [None] * self._state_count()
        return out_mask

    def check_input_spec(self, built_spec, input_spec):
        built, spec = self._sequence_spec(built_spec), self._sequence_spec(input_spec)
        same = spec.ndim == built.ndim and all(
            a is None or b is None or a == b for a, b in zip(built.shape[2:], spec.shape[2:])
        )
        if self.stateful:
            same = same and spec.shape[0] in (None, built.shape[0])
        if not same:
            raise ValueError(
                f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible with "
                f"the layer: expected shape {built.shape}. Received: input shape={spec.shape}"
            )

    # ---- variables ------------------------------------------------------------------------

    def init(self, rng, input_spec):
        spec = self._sequence_spec(input_spec)
        step = TensorSpec((spec.shape[0],) + tuple(spec.shape[2:]), self.dtype)
        params = cell_init(self.cell, rng, step)["params"]
        state = {}
        if self.stateful:
            if spec.shape[0] is None:
                raise ValueError(MSG_STATEFUL_BATCH.format(name=self.name, shape=spec.shape))
            for i, shape in enumerate(cell_state_shapes(self.cell, tuple(step.shape))):
                state[_STATE.format(i)] = jnp.zeros(shape, self.dtype)
        return {"params": params, "state": state}

    def reset_state_variables(self, variables, states=None):
        """The variables with the carried states reset: to zeros, or to `states` (a list).

        Pure: returns a new variables tree (Keras's `layer.reset_states(states)`).
        """
        if not self.stateful:
            raise AttributeError(
                f"Layer {self.name!r} must be stateful (`stateful=True`) to reset its states."
            )
        current = variables.get("state", {})
        names = [_STATE.format(i) for i in range(self._state_count())]
        values = [jnp.zeros_like(current[n]) for n in names]
        if states is not None:
            given = jax.tree_util.tree_leaves(states)
            if len(given) != len(names):
                raise ValueError(
                    f"Layer {self.name!r} expects {len(names)} state arrays. "
                    f"Received: {len(given)} arrays."
                )
            for i, (g, v) in enumerate(zip(given, values)):
                if tuple(jnp.shape(g)) != v.shape:
                    raise ValueError(
                        f"Layer {self.name!r}: state {i} has shape {v.shape}. "
                        f"Received: an array of shape {tuple(jnp.shape(g))}."
                    )
            values = [jnp.asarray(g, v.dtype) for g, v in zip(given, values)]
        return {**variables, "state": {**current, **dict(zip(names, values))}}

    def reset_states(self, states=None) -> None:
        """Reset the carried states of a stateful layer (facade: writes the layer's variables)."""
        self._assign_variables(self.reset_state_variables(self._current_variables(), states))
        _cell.write_version += 1

    reset_state = reset_states

    def _weight_views(self):
        # The carried states are not weights (Keras keeps them out of `get_weights` too).
        return [w for w in super()._weight_views() if not w.name.startswith("rnn_state_")]

    def penalty(self, params):
        return self.cell.penalty(params) if isinstance(self.cell, Layer) else 0.0

    def constrain(self, params):
        return self.cell.constrain(params) if isinstance(self.cell, Layer) else params

    # ---- calling --------------------------------------------------------------------------

    def __call__(self, inputs, *args, **kwargs):
        inputs, kwargs = states_into_inputs(inputs, kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def _split_inputs(self, inputs, initial_state):
        x, initial_state = split_inputs(self, inputs, initial_state)
        return jnp.asarray(x), initial_state

    def _initial_states(self, variables, x, initial_state) -> tuple:
        expected = cell_state_shapes(self.cell, (x.shape[0],) + tuple(x.shape[2:]))
        if initial_state is not None:
            given = jax.tree_util.tree_leaves(initial_state)
            shapes = [tuple(jnp.shape(s)) for s in given]
            if shapes != [tuple(s) for s in expected]:
                raise ValueError(
                    f"Layer {self.name!r}: `initial_state` must be {len(expected)} array(s) of "
                    f"shape(s) {[tuple(s) for s in expected]}. Received: shapes={shapes}"
                )
            return tuple(jnp.asarray(s).astype(self.dtype) for s in given)
        if self.stateful:
            carried = tuple(variables["state"][_STATE.format(i)] for i in range(len(expected)))
            if carried[0].shape[0] != x.shape[0]:
                raise ValueError(
                    f"Layer {self.name!r} is stateful: the batch size of its inputs must be the "
                    f"batch size of its states. Expected batch size: {carried[0].shape[0]}. "
                    f"Received: input shape={tuple(x.shape)}"
                )
            return carried
        return tuple(jnp.zeros(s, self.dtype) for s in expected)

    def _standardize_mask(self, mask, x):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if mask is None:
            return None
        mask = jnp.asarray(mask)
        if mask.ndim < 2 or tuple(mask.shape[:2]) != tuple(x.shape[:2]):
            raise ValueError(
                f"Layer {self.name!r}: the mask must have shape (batch, timesteps) = "
                f"{tuple(x.shape[:2])}. Received: mask.shape={tuple(mask.shape)}"
            )
        mask = mask.astype(bool)
        if mask.ndim > 2:  # a step is skipped only if masked everywhere (Keras's `all(~mask)`)
            mask = jnp.any(mask, axis=tuple(range(2, mask.ndim)))
        return jnp.swapaxes(mask, 0, 1)

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None, initial_state=None):
        x, initial_state = self._split_inputs(inputs, initial_state)
        self._sequence_spec(TensorSpec(tuple(x.shape), self.dtype))
        if x.dtype != jnp.dtype(self.dtype):
            x = x.astype(self.dtype)
        if training and rng is None and _uses_dropout(self.cell):
            raise ValueError(MSG_NEEDS_RNG.format(name=self.name))
        states = self._initial_states(variables, x, initial_state)
        mask_tm = self._standardize_mask(mask, x)
        params = variables["params"]
        last, outputs, final = self._recurrence(params, x, states, mask_tm, bool(training), rng)
        output = jnp.swapaxes(outputs, 0, 1) if self.return_sequences else last
        new_state = {_STATE.format(i): s for i, s in enumerate(final)} if self.stateful else {}
        if self.return_state:
            return [output, *self._group(final)], new_state
        return output, new_state

    def _recurrence(self, params, x, states, mask_tm, training, rng):
        """`(last output, time-major outputs or None, final states)` of the cell over batch-major
        `x` (`mask_tm` is time-major)."""
        xs, step_fn = cell_prepare(
            self.cell, params, jnp.swapaxes(x, 0, 1), training=training, rng=rng
        )
        return run_recurrence(
            step_fn,
            xs,
            states,
            mask_tm,
            go_backwards=self.go_backwards,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
            prev_output_index=getattr(self.cell, "prev_output_index", lambda: 0)(),
            return_sequences=self.return_sequences,
        )

    # ---- config ---------------------------------------------------------------------------

    def _rnn_config(self) -> dict:
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    def get_config(self):
        from fkeras.layers import _serialization

        return {**self._rnn_config(), "cell": _serialization.serialize(self.cell)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects)
        return cls(cell, **config)


class _CellRNN(RNN):
    """An RNN whose config is its cell's config (SimpleRNN, GRU, LSTM, ConvLSTM)."""

    _cell_keys = ("name", "trainable", "dtype", "batch_input_shape")

    def get_config(self):
        cell_config = {k: v for k, v in self.cell.get_config().items() if k not in self._cell_keys}
        return {**self._rnn_config(), **cell_config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        del custom_objects
        return cls(**config)


def _delegate(cls, names):
    """Read-only properties forwarding `names` to `self.cell` (Keras's `lstm.units`, ...)."""
    for name in names:
        setattr(cls, name, property(lambda self, n=name: getattr(self.cell, n)))
    return cls


_CELL_ATTRIBUTES = (
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
)


_RNN_ARGUMENTS = (
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
    "zero_output_for_mask",
)


def _cell_arguments(cell_cls, arguments: dict) -> dict:
    """The arguments of `cell_cls` (and its bases) among a layer constructor's `locals()`."""
    names = set()
    for klass in cell_cls.__mro__:
        if "__init__" in vars(klass):
            names.update(inspect.signature(klass.__init__).parameters)
    names -= {"self", "kwargs", "name", "dtype", "trainable"}
    return {k: v for k, v in arguments.items() if k in names}


def _rnn_arguments(arguments: dict) -> dict:
    return {k: arguments[k] for k in _RNN_ARGUMENTS}


def _cell_kwargs(kwargs: dict) -> dict:
    """What the layer's cell shares with the layer: dtype and trainable (not the name)."""
    return {"dtype": kwargs.get("dtype"), "trainable": kwargs.get("trainable", True)}


class SimpleRNN(_CellRNN):
    """Fully-connected RNN whose output is fed back as its state (`SimpleRNNCell` over time).

    Args:
        units: positive integer, dimensionality of the output space.
        activation: default 'tanh'.
        use_bias, kernel_initializer ('glorot_uniform'), recurrent_initializer ('orthogonal'),
        bias_initializer ('zeros'), kernel/recurrent/bias regularizers and constraints: as in Keras.
        dropout, recurrent_dropout: floats in [0, 1).
        seed: accepted for Keras compatibility (randomness comes from `rng`).
        return_sequences, return_state, go_backwards, stateful, unroll: see `RNN`.

    Input shape: `(batch, timesteps, features)`.
    Output shape: `(batch, units)`; `(batch, timesteps, units)` with `return_sequences`.
    """

    _input_rank = 3

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
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        cell = SimpleRNNCell(
            **_cell_arguments(SimpleRNNCell, locals()),
            name="simple_rnn_cell",
            **_cell_kwargs(kwargs),
        )
        super().__init__(cell, **_rnn_arguments(locals()), **kwargs)


class GRU(_CellRNN):
    """Gated Recurrent Unit (Cho et al., 2014): `GRUCell` over time.

    Args:
        units: positive integer, dimensionality of the output space.
        activation ('tanh'), recurrent_activation ('sigmoid'), use_bias, initializers,
        regularizers, constraints, dropout, recurrent_dropout, seed: as for `GRUCell`.
        reset_after: Keras 3's default True (separate input and recurrent biases,
            `bias (2, 3*units)`); False is the original formulation (`bias (3*units,)`).
        return_sequences, return_state, go_backwards, stateful, unroll: see `RNN`.
        implementation, use_cudnn: accepted for Keras compatibility (no effect on the numbers).

    Input shape: `(batch, timesteps, features)`.
    Output shape: `(batch, units)`; `(batch, timesteps, units)` with `return_sequences`.
    """

    _input_rank = 3

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
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        use_cudnn="auto",
        implementation=2,
        zero_output_for_mask=False,
        **kwargs,
    ):
        _check_use_cudnn(use_cudnn)
        cell = GRUCell(
            **_cell_arguments(GRUCell, locals()), name="gru_cell", **_cell_kwargs(kwargs)
        )
        super().__init__(cell, **_rnn_arguments(locals()), **kwargs)
        self.use_cudnn = use_cudnn


class LSTM(_CellRNN):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997): `LSTMCell` over time.

    Args:
        units: positive integer, dimensionality of the output space.
        activation ('tanh'), recurrent_activation ('sigmoid'), use_bias, initializers
        (kernel 'glorot_uniform', recurrent 'orthogonal', bias 'zeros'), unit_forget_bias
        (True), regularizers, constraints, dropout, recurrent_dropout, seed: as for `LSTMCell`.
        return_sequences, return_state, go_backwards, stateful, unroll: see `RNN`.
        implementation: accepted for Keras compatibility (no effect on the numbers).
        use_cudnn: True: run on cuDNN's fused LSTM kernel (GPU only; tanh and sigmoid, a bias,
            no mask, no recurrent dropout, no unrolling, float32; a ValueError otherwise): it
            compiles faster than the scan, which trains faster on small layers (measured, see
            `fkeras/layers/_cudnn.py`). 'auto' (default) and False: the `lax.scan` recurrence.

    Input shape: `(batch, timesteps, features)`.
    Output shape: `(batch, units)`; `(batch, timesteps, units)` with `return_sequences`;
    with `return_state`, `[output, h, c]`.

    Example:
        >>> layer = LSTM(4)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 10, 8)))
        >>> jax.tree.map(jnp.shape, v["params"])
        {'bias': (16,), 'kernel': (8, 16), 'recurrent_kernel': (4, 16)}
    """

    _input_rank = 3

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
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        implementation=2,
        zero_output_for_mask=False,
        **kwargs,
    ):
        _check_use_cudnn(use_cudnn)
        cell = LSTMCell(
            **_cell_arguments(LSTMCell, locals()), name="lstm_cell", **_cell_kwargs(kwargs)
        )
        super().__init__(cell, **_rnn_arguments(locals()), **kwargs)
        self.use_cudnn = use_cudnn

    def _recurrence(self, params, x, states, mask_tm, training, rng):
        if _cudnn.use_kernel(self, params, x, mask_tm, training):
            return _cudnn.lstm(self, params, x, states, training, rng)
        return super()._recurrence(params, x, states, mask_tm, training, rng)


def _check_use_cudnn(value) -> None:
    if not isinstance(value, (str, bool)) or value not in ("auto", True, False):
        raise ValueError(
            "Invalid value received for argument `use_cudnn`. Expected one of {'auto', True, "
            f"False}}. Received: use_cudnn={value!r}"
        )


_delegate(SimpleRNN, _CELL_ATTRIBUTES)
_delegate(GRU, _CELL_ATTRIBUTES + ("recurrent_activation", "reset_after", "implementation"))
_delegate(LSTM, _CELL_ATTRIBUTES + ("recurrent_activation", "unit_forget_bias", "implementation"))
