"""The layer spec protocol.

A `Layer` is an immutable spec: its config is fixed at construction (assigning an attribute
raises) and it never holds arrays. It knows three things:

- `compute_output_spec(input_spec)`: static shape/dtype inference, no arithmetic;
- `init(rng, input_spec) -> {'params': {...}, 'state': {...}}`: fresh variables;
- `apply(variables, inputs, *, training=False, rng=None) -> (outputs, new_state)`: pure.

Everything stateful a Keras user expects of a layer object (`get_weights`, `trainable`, calling
it eagerly on arrays, `layer.output`) lives beside the spec: weights in a facade `Cell`
(`_cell.py`), call history in the tracer (`fkeras.graph`).
"""

import copy
import functools
import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import _naming, _random
from fkeras._traceback import filter_traceback
from fkeras.graph import _tensor
from fkeras.layers import _cell, _input_spec, _keras_style
from fkeras.layers._spec import (
    TensorSpec,
    as_bool,
    spec_of,
    standardize_dtype,
    standardize_shape,
    to_struct,
)
from fkeras.mixed_precision import _autocast
from fkeras.mixed_precision import _policy as _dtype_policies

Params = dict
State = dict
Variables = dict

_MUTABLE = frozenset({"trainable"})

MSG_MULTIPLE_NODES = (
    'Layer {name} has multiple inbound nodes, hence the notion of "layer {what}" is ill-defined. '
    "Use `get_{what}_at(node_index)` instead."
)


def _accepts(cls, keyword: str) -> bool:
    key = (cls, keyword)
    if key not in _ACCEPTS:
        params = inspect.signature(cls.apply).parameters
        _ACCEPTS[key] = keyword in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
        )
    return _ACCEPTS[key]


_ACCEPTS: dict = {}


def _opening_build(build):
    """Wrap a subclass's `build` so it may set attributes (`self.kernel = self.add_weight(...)`)
    on the otherwise frozen layer."""

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        depth = self.__dict__.get("_build_depth", 0)
        object.__setattr__(self, "_build_depth", depth + 1)
        try:
            return build(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "_build_depth", depth)

    wrapper._opens_build = True
    return wrapper


def _freezing_init(init):
    """Wrap a layer class's `__init__` so the object is frozen when the outermost one returns."""

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        depth = self.__dict__.get("_init_depth", 0)
        object.__setattr__(self, "_init_depth", depth + 1)
        try:
            init(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "_init_depth", depth)
        if depth == 0 and not getattr(type(self), "_mutable_object", False):
            object.__setattr__(self, "_frozen", True)

    wrapper._freezes = True
    return wrapper


def _is_kt(x) -> bool:
    return isinstance(x, _tensor.KerasTensor)


def _tree_leaves(structure) -> list:
    return jax.tree_util.tree_leaves(structure, is_leaf=_is_kt)


def _tree_map(fn, structure):
    return jax.tree_util.tree_map(fn, structure, is_leaf=_is_kt)


def _first_input_shape(input_shape, input_dim, batch_size, batch_input_shape):
    if batch_input_shape is not None:
        return standardize_shape(batch_input_shape, "batch_input_shape")
    if input_shape is None and input_dim is not None:
        input_shape = standardize_shape((input_dim,), "input_dim")  # messages name `input_dim`
    if input_shape is None:
        return None
    shape = standardize_shape(input_shape, "input_shape")
    return (batch_size,) + shape


def _weight_arrays(layer, name: str, weights) -> list[np.ndarray]:
    """`weights` (a list of arrays, as `get_weights` returns) as NumPy arrays of numbers; a
    TypeError naming the layer for anything else (a string, a number, an array of strings)."""
    if isinstance(weights, (str, bytes, dict)) or not hasattr(weights, "__iter__"):
        raise TypeError(
            f"Layer {layer.name!r}: `{name}` must be a list of arrays (as `get_weights()` returns). "
            f"Received: {name} of type {type(weights).__name__}"
        )
    arrays = []
    for i, value in enumerate(weights):
        try:
            array = np.asarray(value)
            if array.dtype == object:
                array = array.astype(np.float32)
        except (TypeError, ValueError):
            array = None
        if array is None or array.dtype.kind not in "biuf":
            raise TypeError(
                f"Layer {layer.name!r}: `{name}[{i}]` must be an array of numbers. "
                f"Received: {type(value).__name__} {value!r:.80}"
            )
        arrays.append(array)
    return arrays


class Layer:
    """Base class of every layer spec.

    Args:
        name: unique name (default: the snake-cased class name, numbered: `dense`, `dense_1`).
        dtype: the layer's dtype policy: a dtype name ('float32': variables and computations
            in that dtype), 'mixed_float16' / 'mixed_bfloat16' (float32 variables, half
            precision computations), or a `DTypePolicy` (default: the global policy).
        autocast: whether floating inputs and variables are cast to the compute dtype when
            the layer runs (Keras 3's autocasting; default True).
        trainable: whether `fit` updates the layer's parameters (settable later).
        input_shape, input_dim, batch_size, batch_input_shape: Keras's way to give the first layer
            of a `Sequential` model its input shape.
        weights: Keras 2's initial weights, set when the layer is built.
    """

    _frozen = False
    supports_masking = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_freezes", False):
            cls.__init__ = filter_traceback(_freezing_init(init))  # True: the input mask passes through unchanged (compute_mask)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_opens_build", False):
            cls.build = _opening_build(build)  # Keras-style `build` sets weight attributes
        # Keras's autocasting happens in `Layer.__call__`; here `apply` is what every caller
        # (the graph, wrappers, eager calls, research code) runs, so it is wrapped there.
        for method, wrap in (
            ("apply", _autocast.autocast_apply),
            ("compute_output_spec", _autocast.autocast_output_spec),
        ):
            fn = cls.__dict__.get(method)
            if fn is not None and not getattr(fn, "_autocasts", False):
                setattr(cls, method, wrap(fn))

    def __init__(
        self,
        *,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
        input_shape=None,
        input_dim: int | None = None,
        batch_size: int | None = None,
        batch_input_shape=None,
        batch_shape=None,
        weights=None,
        activity_regularizer=None,
        autocast: bool = True,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) "
                f"{', '.join(repr(k) for k in sorted(kwargs))}. "
                f"Received: {', '.join(f'{k}={v!r}' for k, v in sorted(kwargs.items()))}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        if name is None:
            name = _naming.uniquify(_naming.to_snake_case(type(self).__name__))
        self.name = name
        self._dtype_policy = _dtype_policies.get(dtype, "dtype")
        self.autocast = as_bool(self, "autocast", autocast)
        if batch_shape is not None:
            batch_input_shape = batch_shape
        self.batch_input_shape = _first_input_shape(
            input_shape, input_dim, batch_size, batch_input_shape
        )
        if activity_regularizer is not None:
            from fkeras import regularizers

            activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_regularizer = activity_regularizer
        state = _cell.cell(self)
        state.trainable = as_bool(self, "trainable", trainable)
        if weights is not None:
            state.pending_weights = _weight_arrays(self, "weights", weights)

    # ---- dtype policy (Keras 3): variables in `variable_dtype`, computations in `compute_dtype`

    _autocast_variables = True  # False: inputs are autocast, the layer's variables are not
    # True: under a mixed policy the layer computes in its variable dtype (float32) and only its
    # outputs come out in the compute dtype (recurrent layers: see mixed_precision/_autocast.py)
    _mixed_compute_in_variable_dtype = False

    @property
    def dtype_policy(self) -> _dtype_policies.DTypePolicy:
        return self.__dict__.get("_dtype_policy") or _dtype_policies.global_policy()

    @property
    def variable_dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    @property
    def dtype(self) -> str:
        """The variable dtype (Keras's `layer.dtype`); while a mixed-precision layer runs its own
        `apply`/`compute_output_spec`, the compute dtype (see `fkeras.mixed_precision`)."""
        if _autocast.in_scope(self):
            return self.compute_dtype
        return self.variable_dtype

    def __setattr__(self, name, value):
        if self._frozen and name not in _MUTABLE and not self.__dict__.get("_build_depth"):
            raise AttributeError(
                f"Layer {self.name!r} is an immutable spec: cannot set attribute `{name}`. "
                f"Create a new layer with the config you want (e.g. "
                f"`{type(self).__name__}.from_config({{**layer.get_config(), ...}})`)."
            )
        object.__setattr__(self, name, value)

    # Attributes a copy starts afresh with (caches of compiled functions and the like).
    _fresh_on_copy: dict = {}

    def __deepcopy__(self, memo):
        """`copy.deepcopy`: an independent layer (or model) with the same config and its own copy
        of the weights, as a Keras layer's deep copy has its own variables. The weights live in
        a cell beside the layer, not in its attributes, so they are copied here."""
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key in self._fresh_on_copy:
                value = copy.copy(self._fresh_on_copy[key])
            else:
                value = copy.deepcopy(value, memo)
            object.__setattr__(new, key, value)
        old = _cell._cells.get(self)
        if old is not None:
            fresh = _cell.cell(new)
            fresh.variables = copy.deepcopy(old.variables, memo)
            fresh.trainable = old.trainable
            fresh.built_spec = copy.deepcopy(old.built_spec, memo)
            fresh.order = list(old.order)
            fresh.pending_weights = copy.deepcopy(old.pending_weights, memo)
        return new

    def __getattr__(self, name):
        """Keras's named weights (`layer.kernel`, `layer.bias`, `layer.moving_mean`, ...): views
        of the built layer's variables. Called only when normal attribute lookup fails."""
        if hasattr(type(self), name):
            # a property (`output`, `input_shape`, ...) raised AttributeError: raise its own
            # message again rather than a bare "no attribute"
            return object.__getattribute__(self, name)
        state = None if name.startswith("_") else _cell._cells.get(self)  # a lookup creates no cell
        if state is not None and state.variables is not None:
            for collection in ("params", "state"):
                if name in state.variables.get(collection, {}):
                    return _cell.Weight(self, collection, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ---- the pure protocol -------------------------------------------------------------------

    def init(self, rng: jax.Array, input_spec) -> Variables:
        """Fresh variables for inputs described by `input_spec` (default: none; a Keras-style
        layer: the weights its `build` asks for)."""
        if _keras_style.is_call_style(type(self)):
            return _keras_style.init_variables(self, rng, input_spec)
        return {"params": {}, "state": {}}

    def apply(
        self, variables: Variables, inputs, *, training: bool = False, rng=None, mask=None, **kwargs
    ):
        """Return `(outputs, new_state)`. Pure: reads `variables`, never a cell. A Keras-style
        layer (one that defines `call`) runs its `call` with its weights bound to `variables`."""
        if not _keras_style.is_call_style(type(self)):
            raise NotImplementedError(
                f"{type(self).__name__} implements neither `apply` nor `call`."
            )
        del rng
        outputs = _keras_style.run_call(
            self, variables, inputs, training=training, mask=mask, kwargs=kwargs
        )
        return outputs, {}

    def call(self, inputs, *args, **kwargs):
        """Keras's hook for layers written Keras's way: define `call` (and `build` with
        `add_weight`) instead of `apply`; see `fkeras.layers._keras_style`."""
        raise NotImplementedError(f"{type(self).__name__} implements neither `apply` nor `call`.")

    def add_weight(self, *args, **kwargs) -> _cell.Weight:
        """Keras's `add_weight(name, shape, dtype, initializer, regularizer, trainable,
        constraint)` (Keras 3's order `shape, initializer, ...` too), for `build` or `__init__`
        of a Keras-style layer. Returns the weight's live view; inside `call` the attribute
        holding it is the weight's array."""
        record = _keras_style.weight_spec(self, args, kwargs)
        d = self.__dict__
        if d.get("_init_depth", 0) > 0:  # in `__init__`: kept for every later `init`
            recording = d.setdefault("_init_weights", [])
            index = len(recording)
        else:  # in `build`: recorded while `init` runs it
            recording = d.get("_weight_record")
            index = len(d.get("_init_weights", ())) + len(recording or ())
        if record["name"] is None:
            record["name"] = "variable" if index == 0 else f"variable_{index}"
        if recording is not None:
            recording.append(record)
        return _cell.Weight(self, record["collection"], record["name"])

    @_autocast.autocast_output_spec
    def compute_output_spec(self, input_spec, **kwargs):
        """Output spec(s) for `input_spec`, found by tracing `apply` (no FLOPs run).

        Unknown (None) dims are traced at two sizes; a dim that differs between them is unknown
        in the output too. Layers override this with their closed form where it is simple.
        """
        outs = []
        for fill in (83, 89):
            structs = _tree_map(lambda s, f=fill: to_struct(s, f), input_spec)
            variables = jax.eval_shape(lambda s=structs: self.init(jax.random.key(0), input_spec))
            out = jax.eval_shape(
                lambda v, x: self.apply(v, x, training=False, rng=jax.random.key(0), **kwargs)[0],
                variables,
                structs,
            )
            outs.append(out)
        return jax.tree_util.tree_map(
            lambda a, b: TensorSpec(
                tuple(da if da == db else None for da, db in zip(a.shape, b.shape)),
                standardize_dtype(a.dtype),
            ),
            outs[0],
            outs[1],
        )

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs, given the inputs and their mask (Keras's masking protocol).

        Default: pass the mask through if `supports_masking`, else drop it. Layers that make a
        mask (Embedding with `mask_zero`, Masking) or consume it (RNNs, pooling) override this.
        """
        del inputs
        return mask if self.supports_masking else None

    def accepts(self, keyword: str) -> bool:
        """Whether `apply` takes the keyword argument `keyword` (e.g. 'mask')."""
        return _accepts(type(self), keyword)

    def activity_penalty(self, outputs):
        """The activity-regularization loss of this layer's `outputs`, or None if it has none.

        Keras's rule: `activity_regularizer(output)`, divided by the batch size, summed over outputs.
        """
        if self.activity_regularizer is None:
            return None
        total = 0.0
        for out in jax.tree_util.tree_leaves(outputs):
            loss = self.activity_regularizer(out)
            if jnp.ndim(out) > 0 and out.shape[0]:
                loss = loss / out.shape[0]
            total = total + loss
        return total

    def penalty(self, params: Params):
        """The weight-regularization loss of this layer's `params` (default: 0)."""
        if _keras_style.is_call_style(type(self)):
            return _keras_style.penalty(self, params)
        return 0.0

    def constrain(self, params: Params) -> Params:
        """Project `params` after an optimizer update (Keras's constraints; default: identity)."""
        if _keras_style.is_call_style(type(self)):
            return _keras_style.constrain(self, params)
        return params

    def _has_constraints(self) -> bool:
        """Whether `constrain` can change anything (the engine skips it otherwise)."""
        if _keras_style.is_call_style(type(self)):
            return _keras_style.has_constraints(self)
        return type(self).constrain is not Layer.constrain

    def check_input_spec(self, built_spec, input_spec) -> None:
        """Raise if `input_spec` cannot use variables built for `built_spec` (default: no check)."""

    # ---- calling: symbolic (records a node) or eager (runs with the cell's variables) ---------

    @filter_traceback
    def __call__(self, inputs, *args, **kwargs):
        if args:
            raise TypeError(
                f"Layer {self.name!r}: pass the inputs as one argument (a tensor, or a list of "
                f"tensors) and everything else by keyword. Received {1 + len(args)} positional "
                "arguments."
            )
        self._check_call_kwargs(kwargs)
        leaves = _tree_leaves(inputs)
        if any(isinstance(x, _tensor.KerasTensor) for x in leaves + _tree_leaves(kwargs)):
            return self._call_symbolic(inputs, kwargs)
        return self._call_eager(inputs, kwargs)

    def _check_call_kwargs(self, kwargs) -> None:
        params = inspect.signature(self.apply).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return
        for key in kwargs:
            if key not in params or key in ("variables", "inputs", "rng"):
                raise TypeError(
                    f"Layer {self.name!r} ({type(self).__name__}) got an unexpected call "
                    f"argument. Received: {key}={kwargs[key]!r}"
                )

    def _call_symbolic(self, inputs, kwargs):
        leaves = _tree_leaves(inputs)
        for x in leaves:
            if not isinstance(x, _tensor.KerasTensor):
                raise TypeError(
                    f"Layer {self.name!r}: all inputs must be symbolic tensors when one is. "
                    f"Received a {type(x).__name__} beside symbolic tensors."
                )
        spec = _tree_map(lambda t: t.spec, inputs)
        # a call keyword may hold symbolic tensors too (initial_state=, mask=): they are graph
        # inputs of the node, substituted with values when the model runs
        kw_tensors = [t for t in _tree_leaves(kwargs) if isinstance(t, _tensor.KerasTensor)]
        kw_specs = {k: _tree_map(lambda t: t.spec if isinstance(t, _tensor.KerasTensor) else t, v) for k, v in kwargs.items()}
        _input_spec.check_inputs(self, spec)
        self._ensure_built(spec)
        out_spec = self.compute_output_spec(spec, **{k: v for k, v in kw_specs.items() if k != "mask"})
        flat_specs, treedef = jax.tree_util.tree_flatten(out_spec)
        names = [self.name] * len(flat_specs)
        node = _tensor.add_node(self, inputs, dict(kwargs), leaves + kw_tensors, flat_specs, names)
        return jax.tree_util.tree_unflatten(treedef, node.outputs)

    def _call_eager(self, inputs, kwargs):
        inputs = jax.tree_util.tree_map(jnp.asarray, inputs)
        specs = jax.tree_util.tree_map(spec_of, inputs)
        _input_spec.check_inputs(self, specs)
        self._ensure_built(specs)
        training = bool(kwargs.pop("training", False) or False)
        variables = self._current_variables()
        rng = _random.next_key() if training else None
        outputs, new_state = self.apply(variables, inputs, training=training, rng=rng, **kwargs)
        if new_state:  # layers return {} when nothing changed; stateful RNNs change at inference too
            self._assign_state(new_state)
        return outputs

    # ---- building and the facade cell ---------------------------------------------------------

    @property
    def built(self) -> bool:
        return _cell.cell(self).variables is not None

    @built.setter
    def built(self, value) -> None:
        """Keras-style `build` methods end with `self.built = True`: fkeras knows it already."""
        del value

    def build(self, input_shape) -> None:
        """Create the layer's variables for inputs of `input_shape` (Keras's `layer.build`)."""
        if self.__dict__.get("_weight_record") is not None:
            return  # `super().build(...)` inside a Keras-style `build` that `init` is recording
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)):
            spec = [TensorSpec(standardize_shape(s), self.dtype) for s in input_shape]
        else:
            spec = TensorSpec(standardize_shape(input_shape, "input_shape"), self.dtype)
        self._ensure_built(spec)

    def _ensure_built(self, input_spec) -> None:
        state = _cell.cell(self)
        if state.variables is not None:
            self.check_input_spec(state.built_spec, input_spec)
            return
        variables = self.init(_random.next_key(), input_spec)
        variables = {"params": dict(variables.get("params", {})), "state": dict(variables.get("state", {}))}
        state.variables = variables
        _cell.write_version += 1  # new weights: a cached training state no longer covers them
        _cell.assign_version += 1
        state.built_spec = input_spec
        state.order = _cell.weight_order(variables)
        if state.pending_weights is not None:
            weights, state.pending_weights = state.pending_weights, None
            self.set_weights(weights)

    def _current_variables(self) -> Variables:
        return _cell.cell(self).variables

    def _assign_variables(self, variables: Variables) -> None:
        """Write a whole variables tree back (the engine's write-back; no shape checks)."""
        state = _cell.cell(self)
        state.variables = {
            "params": dict(variables.get("params", {})),
            "state": dict(variables.get("state", {})),
        }
        _cell.assign_version += 1

    def _assign_state(self, new_state: State) -> None:
        variables = self._current_variables()
        self._assign_variables({"params": variables["params"], "state": new_state})

    # ---- Keras's weights API ------------------------------------------------------------------

    @property
    def trainable(self) -> bool:
        return _cell.cell(self).trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        _cell.cell(self).trainable = as_bool(self, "trainable", value)

    def _weight_views(self) -> list[_cell.Weight]:
        state = _cell.cell(self)
        if state.variables is None:
            return []
        return [_cell.Weight(self, c, n) for c, n in state.order]

    @property
    def weights(self) -> list[_cell.Weight]:
        return self._weight_views()

    @property
    def variables(self) -> list[_cell.Weight]:
        return self._weight_views()

    @property
    def trainable_weights(self) -> list[_cell.Weight]:
        return [w for w in self._weight_views() if w.trainable]

    @property
    def non_trainable_weights(self) -> list[_cell.Weight]:
        return [w for w in self._weight_views() if not w.trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self._weight_views()]

    def set_weights(self, weights) -> None:
        views = self._weight_views()
        weights = _weight_arrays(self, "weights", weights)
        if len(weights) != len(views):
            raise ValueError(
                f"Layer {self.name!r} expects {len(views)} weight arrays "
                f"({', '.join(w.name for w in views) or 'none'}). Received: {len(weights)} arrays."
            )
        for view, value in zip(views, weights):
            if tuple(value.shape) != view.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight `{view.name}` has shape {view.shape}. "
                    f"Received: an array of shape {tuple(value.shape)}."
                )
        for view, value in zip(views, weights):
            view.assign(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} has not been built yet, so its weights do not exist. "
                "Call it on an input first (or call `layer.build(input_shape)`)."
            )
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in self._weight_views()))

    # ---- the tracer's answers: nodes, inputs and outputs --------------------------------------

    @property
    def _inbound_nodes(self) -> list:
        return _tensor.nodes_of(self)

    inbound_nodes = _inbound_nodes

    def _node_at(self, node_index: int, what: str):
        nodes = _tensor.nodes_of(self)
        if not nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called and thus has no defined {what}.")
        if not -len(nodes) <= node_index < len(nodes):
            raise ValueError(
                f"Layer {self.name!r} has {len(nodes)} inbound node(s). "
                f"Received: node_index={node_index}"
            )
        return nodes[node_index]

    def _single(self, what: str):
        nodes = _tensor.nodes_of(self)
        if len(nodes) > 1:
            raise AttributeError(MSG_MULTIPLE_NODES.format(name=self.name, what=what))
        return self._node_at(0, what)

    @staticmethod
    def _unwrap(tensors):
        return tensors[0] if len(tensors) == 1 else list(tensors)

    def get_input_at(self, node_index: int):
        return self._node_at(node_index, "input").args

    def get_output_at(self, node_index: int):
        return self._unwrap(self._node_at(node_index, "output").outputs)

    def get_input_shape_at(self, node_index: int):
        return _tree_map(lambda t: t.shape, self.get_input_at(node_index))

    def get_output_shape_at(self, node_index: int):
        return _tree_map(lambda t: t.shape, self.get_output_at(node_index))

    @property
    def input(self):
        return self._single("input").args

    @property
    def output(self):
        return self._unwrap(self._single("output").outputs)

    def _shape_over_nodes(self, what: str):
        nodes = _tensor.nodes_of(self)
        if not nodes:
            if what == "input" and self.batch_input_shape is not None:
                return self.batch_input_shape
            raise AttributeError(
                f"The layer {self.name!r} has never been called and thus has no defined {what} shape."
            )
        getter = self.get_input_shape_at if what == "input" else self.get_output_shape_at
        shapes = [getter(i) for i in range(len(nodes))]
        if all(s == shapes[0] for s in shapes):
            return shapes[0]
        raise AttributeError(
            f'The layer {self.name!r} has multiple inbound nodes with different {what} shapes. '
            f'Hence the notion of "{what} shape" is ill-defined for the layer. '
            f"Use `get_{what}_shape_at(node_index)` instead."
        )

    @property
    def input_shape(self):
        return self._shape_over_nodes("input")

    @property
    def output_shape(self):
        return self._shape_over_nodes("output")

    # ---- config -------------------------------------------------------------------------------

    def get_config(self) -> dict:
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": _dtype_policies.config_value(self.dtype_policy),
        }
        if self.activity_regularizer is not None:
            from fkeras import regularizers

            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = self.batch_input_shape
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
