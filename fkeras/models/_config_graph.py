"""Model configs: writing Keras 3's layout, and reading Keras 3's and Keras 2's.

A functional config lists the model's layers (in `model.layers` order); each entry is the
layer's serialized form plus its `name` and `inbound_nodes`, the calls of that layer that belong
to this model. A call is `{'args': (...), 'kwargs': {...}}` whose symbolic tensors are written
as `{'class_name': '__keras_tensor__', 'config': {'shape', 'dtype', 'keras_history'}}`, with
`keras_history = [layer_name, node_index, tensor_index]`.

Node indices count only the nodes that belong to this model's graph: a layer shared with another
model may have been called outside it, and those calls are not written. Two Keras conventions
are kept so Keras reads our configs and we read Keras's:

- In `input_layers`/`output_layers` (not in `inbound_nodes`), a nested functional model's node
  index is one higher: Keras 2 models owned a first node linking their own inputs to outputs,
  and Keras 3 still writes (and expects) the shifted index there.
- Keras 2 configs (no `module` key; nodes as `[[name, node_index, tensor_index, kwargs], ...]`)
  shift nested models' indices everywhere, Sequential ones only when they had an input shape,
  and wrap a single input or output in a list of one, which Keras 2 unwrapped.

Rebuilding calls each layer on the rebuilt tensors in the config's node order, retrying nodes
whose inbound tensors do not exist yet (a layer shared at different depths), so a shared layer
gets its nodes back in the same order and one set of weights.
"""

import copy
import inspect
from typing import Any

import jax

from fkeras.graph._tensor import KerasTensor, nodes_of
from fkeras.layers import _serialization
from fkeras.layers._base import Layer
from fkeras.layers._input import InputLayer

_TENSOR_CLASS = "__keras_tensor__"


def _is_kt(x) -> bool:
    return isinstance(x, KerasTensor)


def _map_tensors(struct, fn):
    """Map `fn` over the KerasTensors of a nested list/tuple/dict, keeping the containers."""
    if isinstance(struct, KerasTensor):
        return fn(struct)
    if isinstance(struct, dict):
        return {k: _map_tensors(v, fn) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return type(struct)(_map_tensors(v, fn) for v in struct)
    return struct


def _is_functional(layer) -> bool:
    """A nested model that Keras counts as `Functional` (a Sequential is not one)."""
    from fkeras.models._functional import Model
    from fkeras.models._sequential import Sequential

    return isinstance(layer, Model) and not isinstance(layer, Sequential)


# ---- writing --------------------------------------------------------------------------------


def _layer_entry(layer) -> dict:
    """The layer's serialized form, without the Keras 2 `batch_input_shape` of its config.

    Inside a model the InputLayer carries the input shape, so the key is redundant there, and
    Keras 3 refuses it when it reads the config.
    """
    entry = _serialization.serialize(layer)
    if isinstance(entry["config"], dict) and not isinstance(layer, InputLayer):
        entry["config"].pop("batch_input_shape", None)
    return entry


def _own_node_indices(model) -> dict[int, int]:
    """id(node) -> its index among its layer's nodes that belong to `model`'s graph."""
    graph = model._graph
    own = {id(n) for n in graph.nodes} | {id(t.node) for t in graph.inputs}
    index: dict[int, int] = {}
    for layer in graph.layers:
        kept = 0
        for node in nodes_of(layer):
            if id(node) in own:
                index[id(node)] = kept
                kept += 1
    return index


def _tensor_config(t: KerasTensor, node_index: dict[int, int]) -> dict:
    return {
        "class_name": _TENSOR_CLASS,
        "config": {
            "shape": tuple(t.shape),
            "dtype": t.dtype,
            "keras_history": [t.node.layer.name, node_index[id(t.node)], t._keras_history[2]],
        },
    }


def functional_config(model) -> dict[str, Any]:
    """Keras 3's config of a functional `Model`: layers with inbound nodes, inputs, outputs."""
    node_index = _own_node_indices(model)

    def serialize_tensor(t):
        return _tensor_config(t, node_index)

    layers = []
    for layer in model.layers:
        entry = _layer_entry(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {
                "args": (_map_tensors(node.args, serialize_tensor),),
                "kwargs": _map_tensors(dict(node.kwargs), serialize_tensor),
            }
            for node in nodes_of(layer)
            if id(node) in node_index and node.inputs
        ]
        layers.append(entry)

    def io_ref(t):
        shift = 1 if _is_functional(t.node.layer) else 0
        return [t.node.layer.name, node_index[id(t.node)] + shift, t._keras_history[2]]

    config = {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _map_tensors(model._inputs_struct, io_ref),
        "output_layers": _map_tensors(model._outputs_struct, io_ref),
    }
    return copy.deepcopy(config)


def sequential_config(model) -> dict[str, Any]:
    """Keras 3's config of a `Sequential`: its InputLayer (once built) first, then its layers."""
    input_layer = getattr(model, "_input_layer", None)
    if input_layer is None:  # deferred build: the first layer may still hold the input shape
        entries = [_serialization.serialize(layer) for layer in model.layers]
    else:
        entries = [_serialization.serialize(input_layer)]
        entries.extend(_layer_entry(layer) for layer in model.layers)
    config = {
        "name": model.name,
        "trainable": model.trainable,
        "dtype": model.dtype,
        "layers": entries,
    }
    if input_layer is not None:
        config["build_input_shape"] = tuple(input_layer.batch_shape)
    return copy.deepcopy(config)


# ---- reading --------------------------------------------------------------------------------


class _NotReady(Exception):
    """A node refers to a call that has not been rebuilt yet; retry it on a later pass."""


def _is_ref(x) -> bool:
    return (
        isinstance(x, (list, tuple))
        and len(x) == 3
        and isinstance(x[0], str)
        and all(isinstance(i, int) and not isinstance(i, bool) for i in x[1:])
    )


def _accepted_call_kwargs(layer: Layer, kwargs: dict) -> dict:
    """Drop `None`-valued keywords the layer's `apply` does not take (Keras writes `mask=None`)."""
    params = inspect.signature(layer.apply).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params or v is not None}


class _GraphRebuild:
    """Rebuilds the layers of a functional config and replays their calls."""

    def __init__(self, custom_objects: dict | None, legacy: bool):
        self.custom_objects = custom_objects
        self.legacy = legacy
        self.layers: dict[str, Layer] = {}
        self.node_outputs: dict[str, list[list[KerasTensor]]] = {}
        self.pending: dict[str, list] = {}
        self.legacy_shift: dict[str, int] = {}

    def add_layer(self, entry: dict) -> None:
        if not isinstance(entry, dict) or "class_name" not in entry:
            raise ValueError(
                f"Each entry of a model config's 'layers' must be a dict with 'class_name', "
                f"'config' and 'name'. Received: {entry!r}"
            )
        layer = _serialization.instantiate(entry, self.custom_objects)
        name = entry.get("name") or layer.name
        if name in self.layers:
            raise ValueError(
                f"The model config lists layer {name!r} twice. Layer names must be unique."
            )
        self.layers[name] = layer
        self.node_outputs[name] = [[layer._output_tensor]] if isinstance(layer, InputLayer) else []
        self.pending[name] = list(entry.get("inbound_nodes") or [])
        # Keras 2 skipped a model's own first node when it had an input shape.
        self.legacy_shift[name] = int(
            _is_functional(layer) or getattr(layer, "_graph", None) is not None
        )

    def lookup(
        self, name: str, node_index: int, tensor_index: int, io: bool = False
    ) -> KerasTensor:
        if name not in self.layers:
            raise ValueError(
                f"The model config refers to layer {name!r}, which is not among its layers "
                f"{list(self.layers)}."
            )
        layer = self.layers[name]
        if self.legacy:
            shift = self.legacy_shift[name]
        else:
            shift = int(io and _is_functional(layer))
        slot = node_index - shift
        nodes = self.node_outputs[name]
        if slot < 0:
            raise ValueError(
                f"The model config refers to node {node_index} of layer {name!r}, "
                "which does not exist."
            )
        if slot >= len(nodes):
            raise _NotReady
        outputs = nodes[slot]
        if not 0 <= tensor_index < len(outputs):
            raise ValueError(
                f"The model config refers to output {tensor_index} of layer {name!r} (node "
                f"{node_index}), which has {len(outputs)} output(s)."
            )
        return outputs[tensor_index]

    def revive(self, obj):
        """Replace serialized tensors (`__keras_tensor__` dicts) by the rebuilt tensors."""
        if isinstance(obj, dict):
            if obj.get("class_name") == _TENSOR_CLASS:
                history = obj["config"]["keras_history"]
                return self.lookup(*history)
            return {k: self.revive(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.revive(v) for v in obj]
        return obj

    def resolve_node(self, name: str, node_data) -> tuple[Any, dict]:
        """(inputs, kwargs) of one recorded call; raises `_NotReady` before any side effect."""
        if isinstance(node_data, list):  # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
            tensors, kwargs = [], {}
            for ref in node_data:
                if not isinstance(ref, (list, tuple)) or len(ref) not in (3, 4):
                    raise ValueError(
                        f"Cannot read an inbound node of layer {name!r}: expected "
                        "[layer_name, node_index, tensor_index, kwargs] entries. "
                        f"Received: {node_data!r}"
                    )
                tensors.append(self.lookup(ref[0], ref[1], ref[2]))
                if len(ref) == 4 and ref[3]:
                    kwargs.update(ref[3])
            return (tensors[0] if len(tensors) == 1 else tensors), kwargs
        if not isinstance(node_data, dict) or "args" not in node_data:
            raise ValueError(
                f"Cannot read an inbound node of layer {name!r}: expected {{'args': [...], "
                f"'kwargs': {{...}}}}. Received: {node_data!r}"
            )
        args = self.revive(node_data["args"])
        kwargs = self.revive(node_data.get("kwargs") or {})
        if not args and "inputs" in kwargs:
            args = [kwargs.pop("inputs")]
        if len(args) != 1:
            raise ValueError(
                f"Layer {name!r} is called with {len(args)} positional arguments in the model "
                "config; fkeras layers take their inputs as one argument (a tensor or a list of "
                f"tensors). Received: args={node_data['args']!r}"
            )
        return args[0], kwargs

    def replay(self) -> None:
        """Call each layer on its rebuilt inputs, in config order, until every node exists."""
        while any(self.pending.values()):
            progressed = False
            for name, queue in self.pending.items():
                while queue:
                    try:
                        inputs, kwargs = self.resolve_node(name, queue[0])
                    except _NotReady:
                        break
                    layer = self.layers[name]
                    outputs = layer(inputs, **_accepted_call_kwargs(layer, kwargs))
                    self.node_outputs[name].append(
                        jax.tree_util.tree_leaves(outputs, is_leaf=_is_kt)
                    )
                    queue.pop(0)
                    progressed = True
            if not progressed:
                stuck = {n: len(q) for n, q in self.pending.items() if q}
                raise ValueError(
                    "Invalid functional model config: the graph has a cycle or refers to nodes "
                    f"that do not exist. Unresolved calls per layer: {stuck}"
                )

    def io_struct(self, struct, what: str):
        if _is_ref(struct):
            try:
                return self.lookup(*struct, io=True)
            except _NotReady:
                raise ValueError(
                    f"The model config's {what} refers to node {struct[1]} of layer "
                    f"{struct[0]!r}, which the config never creates."
                ) from None
        if isinstance(struct, dict):
            return {k: self.io_struct(v, what) for k, v in struct.items()}
        if isinstance(struct, (list, tuple)):
            out = [self.io_struct(v, what) for v in struct]
            # Keras 2 wrote a single input/output as a list of one and unwrapped it on load.
            return out[0] if self.legacy and len(out) == 1 else out
        raise ValueError(
            f"The model config's {what} must be [layer_name, node_index, tensor_index] "
            f"references, in a list or dict. Received: {what}={struct!r}"
        )


def functional_from_config(cls, config: dict, custom_objects: dict | None = None):
    """Rebuild a functional model of class `cls` from a Keras 3 or Keras 2 config.

    Args:
        cls: the model class to instantiate (`Model` or a subclass with its constructor).
        config: the model's config (`model.get_config()`, or Keras's).
        custom_objects: optional dict of user classes and functions, looked up by name.

    Raises:
        ValueError: for a malformed config, a graph that cannot be rebuilt, or an unknown
            layer class (the message explains `custom_objects`).
    """
    if not isinstance(config, dict) or not all(
        k in config for k in ("layers", "input_layers", "output_layers")
    ):
        raise ValueError(
            "A functional model config must be a dict with 'layers', 'input_layers' and "
            f"'output_layers'. Received: config={config!r}"
        )
    config = dict(config)
    entries = config.pop("layers")
    input_layers = config.pop("input_layers")
    output_layers = config.pop("output_layers")
    name = config.pop("name", None)
    trainable = config.pop("trainable", None)
    legacy = any(isinstance(e, dict) and "module" not in e for e in entries)
    rebuild = _GraphRebuild(custom_objects, legacy)
    for entry in entries:
        rebuild.add_layer(entry)
    rebuild.replay()
    inputs = rebuild.io_struct(input_layers, "input_layers")
    outputs = rebuild.io_struct(output_layers, "output_layers")
    if trainable is not None:
        config["trainable"] = trainable
    return cls(inputs=inputs, outputs=outputs, name=name, **config)


def sequential_from_config(cls, config, custom_objects: dict | None = None):
    """Rebuild a `Sequential` of class `cls` from a Keras 3 or Keras 2 config.

    Accepts Keras 3's `{'name', 'layers', 'build_input_shape', ...}`, Keras 2's
    `{'name', 'layers'}` (the first layer's config holding `batch_input_shape`), and Keras 2's
    bare list of layer configs.

    Raises:
        TypeError: if `config` is neither a list of layer configs nor a dict with a 'layers' list.
        ValueError: for an unknown layer class.
    """
    if isinstance(config, list):
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise TypeError(
            "A Sequential config must be a list of layer configs or a dict with a 'layers' "
            f"list. Received: config={config!r}"
        )
    kwargs = {"name": config.get("name")}
    if config.get("trainable") is not None:
        kwargs["trainable"] = config["trainable"]
    model = cls(**kwargs)
    for entry in config["layers"]:
        model.add(_serialization.instantiate(entry, custom_objects))
    build_shape = config.get("build_input_shape")
    if build_shape and model.layers and getattr(model, "_graph", None) is None:
        model.build(tuple(build_shape))
    return model
