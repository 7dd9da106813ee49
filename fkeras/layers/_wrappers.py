"""Wrappers: TimeDistributed and Bidirectional, layers built from other layers.

Both are combinators: their `init`/`apply` are made of the wrapped layers' own. Their
variables are the wrapped layers' trees: `TimeDistributed(layer)`'s tree IS `layer`'s tree;
`Bidirectional`'s is `{forward_name: forward tree, backward_name: backward tree}`.

On the facade side a wrapper holds no weights of its own: its current variables,
`get_weights`/`set_weights` and `trainable` read and write the wrapped layers' cells. So
`TimeDistributed(model)` shares `model`'s weights, as Keras's does, and `get_weights()` lists
the forward layer's weights, then the backward layer's (Keras's order).
"""

import jax
import jax.numpy as jnp

from fkeras.layers import _cell
from fkeras.layers._base import Layer
from fkeras.layers._recurrent import split_inputs, states_into_inputs
from fkeras.layers._rnn_cells import deserialize_layer, flat_state_sizes
from fkeras.layers._spec import TensorSpec, spec_of

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _child_mask(child: Layer, on: bool):
    if hasattr(child, "trainable_mask"):
        return child.trainable_mask(on)
    variables = child._current_variables() or {}
    return {k: on and child.trainable for k in variables.get("params", {})}


class Wrapper(Layer):
    """Base class of layers that wrap other layers (Keras's `Wrapper`).

    Subclasses say which children they run on which input spec (`_child_specs`) and how the
    children's variables make up their own (`_compose` / `_decompose`).
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(
                f"{type(self).__name__} wraps a layer: `layer` must be an fkeras Layer instance. "
                f"Received: layer={layer!r}"
            )
        trainable = kwargs.get("trainable", True)
        super().__init__(**kwargs)
        self.layer = layer
        self._trainable_init = trainable

    def _children(self) -> tuple:
        return (self.layer,)

    def _child_specs(self, input_spec) -> list:
        raise NotImplementedError

    def _compose(self, per_child) -> dict:
        """The wrapper's tree from one value per child (a variables-like subtree)."""
        raise NotImplementedError

    def _decompose(self, tree) -> list:
        raise NotImplementedError

    # ---- the pure protocol ----------------------------------------------------------------

    def penalty(self, params):
        total = 0.0
        for child, p in zip(self._children(), self._decompose(params)):
            total = total + child.penalty(p)
        return total

    def constrain(self, params):
        return self._compose(
            [c.constrain(p) for c, p in zip(self._children(), self._decompose(params))]
        )

    def _variables_of(self, variables) -> list:
        params = self._decompose(variables.get("params", {}))
        state = self._decompose(variables.get("state", {}))
        return [{"params": p, "state": s} for p, s in zip(params, state)]

    def _variables_from(self, per_child: list) -> dict:
        return {
            "params": self._compose([v.get("params", {}) for v in per_child]),
            "state": self._compose([v.get("state", {}) for v in per_child]),
        }

    # ---- facade: the wrapped layers' cells hold the weights --------------------------------

    @property
    def built(self) -> bool:
        return _cell.cell(self).built_spec is not None and all(c.built for c in self._children())

    def _ensure_built(self, input_spec) -> None:
        state = _cell.cell(self)
        if state.built_spec is not None:
            self.check_input_spec(state.built_spec, input_spec)
        for child, spec in self._child_specs(input_spec):
            child._ensure_built(spec)
        if state.built_spec is None:
            state.built_spec = input_spec
            if not self._trainable_init:
                self.trainable = False
        if state.pending_weights is not None:
            weights, state.pending_weights = state.pending_weights, None
            self.set_weights(weights)

    def _current_variables(self):
        per_child = [c._current_variables() for c in self._children()]
        if any(v is None for v in per_child):
            return None
        return self._variables_from(per_child)

    def _assign_variables(self, variables) -> None:
        for child, v in zip(self._children(), self._variables_of(variables)):
            child._assign_variables(v)

    def _weight_views(self):
        return [w for c in self._children() for w in c._weight_views()]

    @property
    def trainable(self) -> bool:
        return _cell.cell(self).trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        _cell.cell(self).trainable = bool(value)
        for child in self._children():
            child.trainable = value

    def trainable_mask(self, parent_trainable: bool = True) -> dict:
        """A tree of booleans over `params`: is each parameter trained by `fit`?"""
        on = parent_trainable and self.trainable
        return self._compose([_child_mask(c, on) for c in self._children()])

    def get_config(self):
        from fkeras.layers import _serialization

        return {**super().get_config(), "layer": _serialization.serialize(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)


class TimeDistributed(Wrapper):
    """Applies `layer` to every temporal slice of its input.

    The input `(batch, time, ...)` is reshaped to `(batch * time, ...)`, run through `layer`
    once, and reshaped back, so the same weights serve every timestep. `layer` may be any
    fkeras layer, a `Model` included (the model's weights are shared, as in Keras).

    Note: a layer whose training behaviour depends on the batch (BatchNormalization) sees all
    `batch * time` frames at once, where Keras 3 runs it once per timestep.

    Args:
        layer: the layer to apply at each timestep.

    Call arguments:
        mask: optional; a `(batch, time, ...)` mask of rank >= 3 is passed on (reshaped) to a
            layer that takes a mask.

    Input shape: `(batch, time, ...)`. Output shape: `(batch, time) + layer's output[1:]`.
    """

    supports_masking = True

    def _child_spec(self, input_spec) -> TensorSpec:
        if not isinstance(input_spec, TensorSpec) or input_spec.ndim < 3:
            raise ValueError(
                f"Layer {self.name!r} (TimeDistributed) expects an input with at least 3 "
                f"dimensions `(batch, time, ...)`. Received: input shape="
                f"{getattr(input_spec, 'shape', input_spec)}"
            )
        return TensorSpec((None,) + tuple(input_spec.shape[2:]), input_spec.dtype)

    def _child_specs(self, input_spec):
        return [(self.layer, self._child_spec(input_spec))]

    def _compose(self, per_child):
        return per_child[0]

    def _decompose(self, tree):
        return [tree]

    def check_input_spec(self, built_spec, input_spec):
        self._child_spec(input_spec)

    def init(self, rng, input_spec):
        return self.layer.init(rng, self._child_spec(input_spec))

    def compute_output_spec(self, input_spec, **kwargs):
        child = self.layer.compute_output_spec(self._child_spec(input_spec))
        batch, time = input_spec.shape[:2]
        return jax.tree_util.tree_map(
            lambda s: TensorSpec((batch, time) + tuple(s.shape[1:]), s.dtype), child
        )

    def _child_mask(self, mask, x):
        if mask is None or not self.layer.accepts("mask"):
            return {}
        mask = jnp.asarray(mask)
        if mask.ndim < 2 or tuple(mask.shape[:2]) != tuple(x.shape[:2]):
            raise ValueError(
                f"The `mask` passed to layer {self.name!r} (TimeDistributed) must start with the "
                f"input's (batch_size, timesteps) = {tuple(x.shape[:2])}. "
                f"Received: mask.shape={tuple(mask.shape)}"
            )
        if mask.ndim == 2:  # one flag per timestep: nothing for the wrapped layer to skip
            return {}
        return {"mask": mask.reshape((-1,) + tuple(mask.shape[2:]))}

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        x = jnp.asarray(inputs)
        self._child_spec(spec_of(x))
        batch, time = x.shape[:2]
        frames = x.reshape((batch * time,) + tuple(x.shape[2:]))
        kwargs = self._child_mask(mask, x)
        out, new_state = self.layer.apply(variables, frames, training=training, rng=rng, **kwargs)
        out = jax.tree_util.tree_map(lambda y: y.reshape((batch, time) + tuple(y.shape[1:])), out)
        return out, new_state


def _copy(layer: Layer, **overrides) -> Layer:
    """A new layer of `layer`'s class and config, with `overrides` (keys it has)."""
    config = layer.get_config()
    config.update({k: v for k, v in overrides.items() if k == "name" or k in config})
    return type(layer).from_config(config)


def _strip(name: str, prefix: str) -> str:
    return name.removeprefix(prefix)


class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and backwards over its input and merges the results.

    Args:
        layer: an RNN layer (`LSTM(...)`, `GRU(...)`, `RNN(cell)`) or a layer with the
            attributes `go_backwards`, `return_sequences`, `return_state` and `stateful`.
            Two new layers are made from its config: `forward_<name>`, and
            `backward_<name>` (with `go_backwards=True`). Their weights are new.
        merge_mode: how to combine the two outputs: 'concat' (default), 'sum', 'mul', 'ave',
            or None (return both, as a list).
        backward_layer: optional layer for the backward direction (must have the opposite
            `go_backwards` and the same `return_sequences`, `return_state`, `stateful`).
        weights: Keras 2's initial weights (forward weights, then backward ones).

    With `return_sequences`, masked timesteps output zeros in both directions (Keras sets
    `zero_output_for_mask` on both layers), and the backward outputs are flipped back to the
    input's time order before merging.

    Call arguments:
        mask, training: passed to both layers.
        initial_state: a list; the first half goes to the forward layer, the rest backward.

    Output shape: the wrapped layer's output, with the last axis doubled for 'concat'; a list
    `[forward, backward]` for merge_mode=None; with `return_state`, followed by the forward
    states, then the backward states.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(
                "`Bidirectional` wraps a layer: `layer` must be an fkeras Layer instance (an RNN). "
                f"Received: layer={layer!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise TypeError(
                "`backward_layer` must be an fkeras Layer instance. "
                f"Received: backward_layer={backward_layer!r}"
            )
        is_mode = merge_mode is None or isinstance(merge_mode, str)
        if not is_mode or merge_mode not in _MERGE_MODES:
            raise ValueError(
                "Invalid merge mode. Merge mode should be one of "
                f'{{"sum", "mul", "ave", "concat", None}}. Received: merge_mode={merge_mode!r}'
            )
        for attr in ("go_backwards", "return_sequences", "return_state", "stateful"):
            if not hasattr(layer, attr):
                raise ValueError(
                    f"`Bidirectional` needs a sequence layer with a `{attr}` attribute (an RNN). "
                    f"Received: layer={layer!r}"
                )
        rs = layer.return_sequences
        forward = _copy(
            layer, name="forward_" + _strip(layer.name, "forward_"), zero_output_for_mask=rs
        )
        if backward_layer is None:
            backward = _copy(
                layer,
                name="backward_" + _strip(layer.name, "backward_"),
                go_backwards=True,
                zero_output_for_mask=rs,
            )
        elif getattr(backward_layer, "zero_output_for_mask", rs) != rs:
            backward = _copy(backward_layer, name=backward_layer.name, zero_output_for_mask=rs)
        else:
            backward = backward_layer
        _verify(forward, backward)
        shape_keys = ("input_shape", "batch_input_shape", "batch_shape", "input_dim")
        if layer.batch_input_shape is not None and not any(k in kwargs for k in shape_keys):
            kwargs["batch_input_shape"] = layer.batch_input_shape
        super().__init__(forward, weights=weights, **kwargs)
        self.forward_layer = forward
        self.backward_layer = backward
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = rs
        self.return_state = layer.return_state

    def _children(self):
        return (self.forward_layer, self.backward_layer)

    def _seq_spec(self, input_spec):
        spec = input_spec[0] if isinstance(input_spec, (list, tuple)) and input_spec else input_spec
        if not isinstance(spec, TensorSpec):
            raise ValueError(
                f"Layer {self.name!r} (Bidirectional) expects a sequence tensor (or a list starting "
                f"with one, followed by initial states). Received: {input_spec!r}"
            )
        return spec

    def _child_specs(self, input_spec):
        spec = self._seq_spec(input_spec)
        return [(self.forward_layer, spec), (self.backward_layer, spec)]

    def _compose(self, per_child):
        return {c.name: t for c, t in zip(self._children(), per_child) if t}

    def _decompose(self, tree):
        return [tree.get(c.name, {}) for c in self._children()]

    def init(self, rng, input_spec):
        spec = self._seq_spec(input_spec)
        k1, k2 = jax.random.split(rng)
        return self._variables_from(
            [self.forward_layer.init(k1, spec), self.backward_layer.init(k2, spec)]
        )

    def check_input_spec(self, built_spec, input_spec):
        self.forward_layer.check_input_spec(self._seq_spec(built_spec), self._seq_spec(input_spec))

    def compute_output_spec(self, input_spec, **kwargs):
        spec = self._seq_spec(input_spec)
        out = self.forward_layer.compute_output_spec(spec)
        states = []
        if self.return_state:
            back = self.backward_layer.compute_output_spec(spec)
            out, states = out[0], list(out[1:]) + list(back[1:])
        if self.merge_mode == "concat":
            last = out.shape[-1]
            out = out.with_shape(tuple(out.shape[:-1]) + (None if last is None else 2 * last,))
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state or self.merge_mode is None:
            return outputs + states
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        out = mask if self.return_sequences else None
        masks = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            cells = [getattr(c, "cell", None) for c in self._children()]
            masks += [None] * sum(
                len(flat_state_sizes(c.state_size)) for c in cells if c is not None
            )
        return masks if len(masks) > 1 else masks[0]

    def __call__(self, inputs, *args, **kwargs):
        inputs, kwargs = states_into_inputs(inputs, kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return jnp.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None, initial_state=None):
        x, initial_state = split_inputs(self, inputs, initial_state)
        states = [None, None]
        if initial_state is not None:
            given = (
                list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            )
            half = len(given) // 2
            states = [given[:half], given[half:]]
        keys = [None, None] if rng is None else list(jax.random.split(rng))
        results, new_state = [], []
        for child, v, s, key in zip(self._children(), self._variables_of(variables), states, keys):
            kwargs = {}
            if mask is not None and child.accepts("mask"):
                kwargs["mask"] = mask
            if s is not None:
                kwargs["initial_state"] = s
            out, ns = child.apply(v, x, training=training, rng=key, **kwargs)
            results.append(out)
            new_state.append(ns)
        y, y_rev = results
        carried = []
        if self.return_state:
            carried = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = jnp.flip(y_rev, axis=1)
        merged = self._merge(y, y_rev)
        new_state = self._compose(new_state)
        if self.return_state:
            outputs = merged if self.merge_mode is None else [merged]
            return outputs + carried, new_state
        return merged, new_state

    def reset_state_variables(self, variables, states=None):
        """The variables with both layers' carried states reset (pure; see `RNN`)."""
        if not self.stateful:
            raise AttributeError(f"Layer {self.name!r} must be stateful to reset its states.")
        per_child = self._variables_of(variables)
        halves = [None, None]
        if states is not None:
            half = len(states) // 2
            halves = [list(states[:half]), list(states[half:])]
        return self._variables_from(
            [c.reset_state_variables(v, s) for c, v, s in zip(self._children(), per_child, halves)]
        )

    def reset_states(self, states=None) -> None:
        """Reset the carried states of both layers (facade)."""
        self._assign_variables(self.reset_state_variables(self._current_variables(), states))
        _cell.write_version += 1

    reset_state = reset_states

    def get_config(self):
        from fkeras.layers import _serialization

        return {
            **Layer.get_config(self),
            "merge_mode": self.merge_mode,
            "layer": _serialization.serialize(self.forward_layer),
            "backward_layer": _serialization.serialize(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config)


def _verify(forward: Layer, backward: Layer) -> None:
    if forward.go_backwards == backward.go_backwards:
        raise ValueError(
            "Forward layer and backward layer should have different `go_backwards` values. "
            f"Received: forward_layer.go_backwards={forward.go_backwards}, "
            f"backward_layer.go_backwards={backward.go_backwards}"
        )
    for attr in ("stateful", "return_sequences", "return_state"):
        f, b = getattr(forward, attr), getattr(backward, attr, None)
        if f != b:
            raise ValueError(
                f"Forward layer and backward layer are expected to have the same value for "
                f"`{attr}`. Received: {f} for the forward layer and {b} for the backward layer."
            )
