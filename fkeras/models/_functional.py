"""The functional `Model`: a recorded graph turned into one pure `init`/`apply`.

A `Model` is a layer: it can be called on new symbolic tensors (weights shared), nested in other
models, and wrapped by `TimeDistributed`. Its variables tree is keyed by layer name:
`{'params': {'dense': {'kernel': ..., 'bias': ...}, ...}, 'state': {...}}`; a nested model's
entry is its own tree. The current values live in the layers' facade cells, so a layer shared
by two models shares its weights.
"""

import copy

import jax
import numpy as np

from fkeras import _tree
from fkeras.engine import _data
from fkeras.graph import _graph
from fkeras.graph._tensor import KerasTensor
from fkeras.layers._base import Layer
from fkeras.layers import _cell
from fkeras.layers._cell import cell
from fkeras.layers._input import InputLayer
from fkeras.layers._spec import TensorSpec
from fkeras.models._training import Trainer


def _flatten_struct(struct, what: str) -> list:
    if isinstance(struct, KerasTensor):
        return [struct]
    if isinstance(struct, dict):
        values = list(struct.values())
    elif isinstance(struct, (list, tuple)):
        values = list(struct)
    else:
        raise TypeError(
            f"Model `{what}` must be a symbolic tensor (from `Input(...)` or a layer call), or a "
            f"list or dict of them. Received: {what}={struct!r}"
        )
    for v in values:
        if not isinstance(v, KerasTensor):
            raise TypeError(
                f"Model `{what}` must contain only symbolic tensors (from `Input(...)` or a layer "
                f"call). Received an element of type {type(v).__name__}: {v!r}"
            )
    return values


class Model(Trainer, Layer):
    """A model grouping layers into an object with training and inference features.

    Args:
        inputs: the model's input tensor(s) (from `Input`), one, a list, or a dict.
        outputs: the model's output tensor(s), one, a list, or a dict.
        name: the model's name.

    Example:
        >>> inputs = Input(shape=(784,))
        >>> x = Dense(64, activation="relu")(inputs)
        >>> outputs = Dense(10, activation="softmax")(x)
        >>> model = Model(inputs=inputs, outputs=outputs)
        >>> variables = model.init(jax.random.key(0))
        >>> probs, state = model.apply(variables, np.zeros((2, 784)))
    """

    _mutable_object = True

    def __init__(self, inputs=None, outputs=None, name=None, *, trainable=True, **kwargs):
        if inputs is None or outputs is None:
            raise ValueError(
                "A functional Model needs `inputs` and `outputs`: "
                "`Model(inputs=Input(shape=...), outputs=...)`. "
                f"Received: inputs={inputs!r}, outputs={outputs!r}"
            )
        if name is None:
            from fkeras import _naming

            name = _naming.uniquify("functional")
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)
        self._init_trainer()

    def _init_graph(self, inputs, outputs) -> None:
        flat_in = _flatten_struct(inputs, "inputs")
        flat_out = _flatten_struct(outputs, "outputs")
        if len({id(t) for t in flat_in}) != len(flat_in):
            twice = sorted({t.node.layer.name for t in flat_in if sum(u is t for u in flat_in) > 1})
            raise ValueError(f"Model {self.name!r}: the same Input is listed twice in `inputs`: {twice}.")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._graph = _graph.map_graph(flat_in, flat_out)

    # ---- structure ------------------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        return list(self._graph.layers)

    def _weight_layers(self) -> list[Layer]:
        return [layer for layer in self._graph.layers if not isinstance(layer, InputLayer)]

    def get_layer(self, name=None, index=None) -> Layer:
        """A layer of this model by `name` or by `index` into `model.layers`."""
        if index is not None:
            if name is not None:
                raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
            if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"get_layer: `index` must be an integer. Received: index={index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is None:
            raise ValueError("get_layer: provide either a layer `name` or an `index`. Received: name=None, index=None")
        if not isinstance(name, str):
            raise TypeError(f"get_layer: `name` must be a string. Received: name={name!r}")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}."
        )

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._graph.inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._graph.outputs)

    @property
    def input_names(self) -> list[str]:
        if isinstance(self._inputs_struct, dict):
            return list(self._inputs_struct)
        return [t.node.layer.name for t in self._graph.inputs]

    @property
    def output_names(self) -> list[str]:
        if isinstance(self._outputs_struct, dict):
            return list(self._outputs_struct)
        return [t.node.layer.name for t in self._graph.outputs]

    def _unflatten_outputs(self, flat: list):
        struct = self._outputs_struct
        if isinstance(struct, KerasTensor) or (isinstance(struct, (list, tuple)) and len(struct) == 1):
            return flat[0]  # a list of one output gives one array, as in Keras
        if isinstance(struct, dict):
            return dict(zip(struct, flat))
        return list(flat)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._graph.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._graph.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input(self):
        return self._graph.inputs[0] if len(self._graph.inputs) == 1 else self.inputs

    @property
    def output(self):
        return self._graph.outputs[0] if len(self._graph.outputs) == 1 else self.outputs

    def _call_eager(self, inputs, kwargs):
        """`model(x)` on arrays: one jitted apply per input shape (as `predict` does), not op by op."""
        import jax.numpy as jnp

        training = bool(kwargs.pop("training", False) or False)
        if kwargs:
            return super()._call_eager(inputs, dict(kwargs, training=training))
        inputs = jax.tree_util.tree_map(jnp.asarray, _eager_inputs(self, inputs))
        self._ensure_built(jax.tree_util.tree_map(lambda a: TensorSpec(tuple(a.shape), str(a.dtype)), inputs))
        fn = self.__dict__.get("_eager_apply")
        if fn is None:
            fn = self._eager_apply = jax.jit(
                lambda v, x, rng, training: self.apply(v, x, training=training, rng=rng), static_argnums=3
            )
        from fkeras import _random

        rng = _random.next_key() if training else None
        outputs, new_state = fn(self._current_variables(), inputs, rng, training)
        if new_state:
            current = self._current_variables()
            self._assign_variables({"params": current["params"], "state": _tree.merge(current["state"], new_state)})
        return outputs

    def to_json(self, **kwargs) -> str:
        """The model's architecture as a JSON string (Keras 3's layout)."""
        from fkeras.models._json import to_json

        return to_json(self, **kwargs)

    @property
    def input_spec(self):
        return [TensorSpec(t.shape, t.dtype) for t in self._graph.inputs]

    # ---- the pure protocol ----------------------------------------------------------------

    def _flatten_inputs(self, inputs, what="inputs") -> list:
        """Model inputs (array, list, tuple or dict keyed by input name) in graph order."""
        names = self.input_names
        n = len(self._graph.inputs)
        if isinstance(inputs, dict):
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(
                    f"Model {self.name!r}: missing data for input(s) {missing}. "
                    f"Expected keys: {names}. Received: keys={list(inputs)}"
                )
            return [inputs[k] for k in names]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != n:
                raise ValueError(
                    f"Model {self.name!r} expects {n} input(s) {names}, but it received "
                    f"{len(inputs)} input tensors."
                )
            return list(inputs)
        if n != 1:
            raise ValueError(
                f"Model {self.name!r} expects {n} inputs {names}, but it received 1 input tensor."
            )
        return [inputs]

    def init(self, rng, input_spec=None):
        """Fresh variables for every layer, keyed by layer name (`input_spec` is not needed)."""
        del input_spec
        params, state = {}, {}
        for i, layer in enumerate(self._weight_layers()):
            if not layer.built:
                continue
            v = layer.init(jax.random.fold_in(rng, i), cell(layer).built_spec)
            if v.get("params"):
                params[layer.name] = v["params"]
            if v.get("state"):
                state[layer.name] = v["state"]
        return {"params": params, "state": state}

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        """Run the graph. Returns `(outputs, new_state)`; pure, composes with jit/grad/vmap."""
        outputs, _, new_state = self.apply_with_masks(
            variables, inputs, training=training, rng=rng, mask=mask
        )
        return outputs, new_state

    def apply_with_masks(self, variables, inputs, *, training=False, rng=None, mask=None):
        """Like `apply`, also returning the outputs' masks (Keras's `_keras_mask`), or None."""
        outputs, masks, new_state, _ = self.apply_with_losses(
            variables, inputs, training=training, rng=rng, mask=mask
        )
        return outputs, masks, new_state

    def apply_with_losses(self, variables, inputs, *, training=False, rng=None, mask=None):
        """Run the graph; returns `(outputs, output_masks, new_state, activity_loss)`.

        `activity_loss` sums the activity regularizers of the layers (and nested models) on the
        outputs of this call: Keras's `model.losses` for the pass, added to the training loss.
        """
        activity = [0.0]
        params = variables.get("params", {})
        new_state = dict(variables.get("state", {}))
        positions = {id(node): i for i, node in enumerate(self._graph.nodes)}

        def call_layer(node, args, kwargs, in_masks):
            layer = node.layer
            kwargs = dict(kwargs)
            node_training = kwargs.pop("training", None)
            if getattr(layer, "inference_when_frozen", False) and not layer.trainable:
                node_training = False  # Keras 3: frozen BatchNormalization runs in inference mode
            has_mask = any(m is not None for m in jax.tree_util.tree_leaves(in_masks))
            if has_mask and "mask" not in kwargs and layer.accepts("mask"):
                kwargs["mask"] = in_masks
            node_rng = None if rng is None else jax.random.fold_in(rng, positions[id(node)])
            layer_vars = {"params": params.get(layer.name, {}), "state": new_state.get(layer.name, {})}
            layer_training = training if node_training is None else node_training
            if isinstance(layer, Model):
                out, _, s, inner = layer.apply_with_losses(
                    layer_vars, args, training=layer_training, rng=node_rng, **kwargs
                )
                activity[0] = activity[0] + inner
            else:
                out, s = layer.apply(layer_vars, args, training=layer_training, rng=node_rng, **kwargs)
                penalty = layer.activity_penalty(out)
                if penalty is not None:
                    activity[0] = activity[0] + penalty
            if s:
                new_state[layer.name] = s
            out_masks = layer.compute_mask(args, in_masks if has_mask else None)
            return out, out_masks

        input_masks = None if mask is None else self._flatten_inputs(mask)
        flat, masks = _graph.run(self._graph, call_layer, self._flatten_inputs(inputs), input_masks)
        return self._unflatten_outputs(flat), self._unflatten_outputs(masks), new_state, activity[0]

    def compute_output_spec(self, input_spec, **kwargs):
        def call_spec(node, args, kwargs, in_masks):
            del in_masks
            node_kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
            return node.layer.compute_output_spec(args, **node_kwargs), None

        flat, _ = _graph.run(self._graph, call_spec, self._flatten_inputs(input_spec))
        return self._unflatten_outputs(flat)

    def check_input_spec(self, built_spec, input_spec) -> None:
        flat = self._flatten_inputs(input_spec)
        for i, (t, spec) in enumerate(zip(self._graph.inputs, flat)):
            ok = len(t.shape) == len(spec.shape) and all(
                a is None or b is None or a == b for a, b in zip(t.shape[1:], spec.shape[1:])
            )
            if not ok:
                raise ValueError(
                    f"Input {i} of model {self.name!r} is incompatible with the model: expected "
                    f"shape {t.shape}. Received: input shape={spec.shape}"
                )

    def penalty(self, params):
        total = 0.0
        for layer in self._weight_layers():
            if layer.name in params:
                total = total + layer.penalty(params[layer.name])
        return total

    def constrain(self, params):
        return {
            name: (self.get_layer(name).constrain(p)) for name, p in params.items()
        }

    # ---- facade state: composed from the layers' cells ------------------------------------

    @property
    def built(self) -> bool:
        return all(layer.built for layer in self._weight_layers())

    def _ensure_built(self, input_spec) -> None:
        self.check_input_spec(None, input_spec)

    _variables_memo = None  # (assign version, graph, tree): the last tree composed
    # a deep copy compiles its own functions and composes its own variables tree
    _fresh_on_copy = {**Trainer._CACHES, "_variables_memo": None}

    def __deepcopy__(self, memo):
        """A deep copy trains on from where this model stands: the same optimizer state and
        training key (handed over like a loaded checkpoint's), its own copy of each."""
        new = Layer.__deepcopy__(self, memo)
        if self._ts is not None:
            new._restored_state = copy.deepcopy((self._ts.opt_state, self._ts.rng), memo)
        return new

    def _current_variables(self):
        """The layers' variables as one tree. Composed again only after a layer's variables
        were written (or the graph changed); callers treat the tree as immutable, as JAX does."""
        memo = self._variables_memo
        if memo is not None and memo[0] == _cell.assign_version and memo[1] is self._graph:
            return memo[2]
        params, state = {}, {}
        for layer in self._weight_layers():
            v = layer._current_variables()
            if v is None:
                continue
            if v.get("params"):
                params[layer.name] = v["params"]
            if v.get("state"):
                state[layer.name] = v["state"]
        tree = {"params": params, "state": state}
        self._variables_memo = (_cell.assign_version, self._graph, tree)
        return tree

    def _assign_variables(self, variables) -> None:
        params = variables.get("params", {})
        state = variables.get("state", {})
        for layer in self._weight_layers():
            if layer.name in params or layer.name in state:
                layer._assign_variables(
                    {"params": params.get(layer.name, {}), "state": state.get(layer.name, {})}
                )

    def get_variables(self):
        """The current variables tree (the pytree `apply` takes)."""
        current = self._current_variables()
        return {"params": dict(current["params"]), "state": dict(current["state"])}

    def set_variables(self, variables) -> None:
        """Write a variables tree (as returned by `init`) into the model's layers."""
        current = _tree.flatten(self._current_variables())
        new = _tree.flatten(variables)
        if set(current) != set(new):
            raise ValueError(
                f"Model {self.name!r}: the variables tree does not match the model. "
                f"Missing: {sorted(set(current) - set(new))}; unexpected: {sorted(set(new) - set(current))}"
            )
        for path, value in new.items():
            if tuple(np.shape(value)) != tuple(current[path].shape):
                raise ValueError(
                    f"Model {self.name!r}: variable {'/'.join(path)} has shape "
                    f"{tuple(current[path].shape)}. Received: shape {tuple(np.shape(value))}"
                )
        self._assign_variables(variables)
        _cell.write_version += 1

    def _weight_views(self):
        views = []
        for layer in self._weight_layers():
            views.extend(layer._weight_views())
        return views

    @property
    def trainable(self) -> bool:
        return cell(self).trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        cell(self).trainable = bool(value)
        for layer in self._weight_layers():
            layer.trainable = value

    def trainable_mask(self, parent_trainable: bool = True) -> dict:
        """A tree of booleans over `params`: is each parameter trained by `fit`?"""
        on = parent_trainable and self.trainable
        mask = {}
        for layer in self._weight_layers():
            if hasattr(layer, "trainable_mask"):  # models and wrappers nest variables trees
                sub = layer.trainable_mask(on)
            else:
                v = layer._current_variables() or {}
                sub = {k: on and layer.trainable for k in v.get("params", {})}
            if sub:
                mask[layer.name] = sub
        return mask

    def reset_states(self) -> None:
        """Zero the carried states of every stateful layer (stateful RNNs), Keras's reset_states."""
        for layer in self._weight_layers():
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    def get_config(self) -> dict:
        from fkeras.models import _config_graph

        return _config_graph.functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from fkeras.models import _config_graph

        return _config_graph.functional_from_config(cls, config, custom_objects)


def _numeric_array(value, what: str, model_name: str):
    """`value` as a numpy array of a numeric dtype, or a TypeError naming the model input."""
    if value is None:
        raise TypeError(f"Model {model_name!r}: {what} is None; expected an array. Received: {what}=None")
    if isinstance(value, jax.Array):
        return value
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise TypeError(
            f"Model {model_name!r}: {what} could not be converted to an array ({err}). "
            f"Received: {what} of type {type(value).__name__}"
        ) from None
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"Model {model_name!r}: {what} must hold numbers; got an array of dtype {array.dtype}. "
            f"Received: {what}={_data._short(value, 80)}"
        )
    return array


def _eager_inputs(model, inputs):
    """The arrays to run `model(inputs)` on: one array per model input, in the model's structure."""
    names = model.input_names
    if isinstance(inputs, dict):
        return {k: _numeric_array(v, f"input {k!r}", model.name) for k, v in inputs.items()}
    if len(names) == 1:
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1 and hasattr(inputs[0], "shape"):
            return [_numeric_array(inputs[0], f"input {names[0]!r}", model.name)]
        return _numeric_array(inputs, f"input {names[0]!r}", model.name)
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(
            f"Model {model.name!r} has {len(names)} inputs {names}: pass a list or a dict of arrays. "
            f"Received: inputs of type {type(inputs).__name__}"
        )
    return [_numeric_array(v, f"input {n!r}", model.name) for n, v in zip(names, inputs)] + [
        _numeric_array(v, f"input {i}", model.name) for i, v in enumerate(inputs[len(names):], len(names))
    ]
