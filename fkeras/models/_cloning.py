"""`clone_model`: the same architecture on new layers, with fresh weights.

Cloning replays a model's recorded graph: every layer (InputLayers aside) is replaced by a new
layer made from its config (or by what `clone_function` returns), and each of the model's calls
is made again, in the graph's execution order, on the new tensors. A layer called twice in the
original (a shared layer) is cloned once and called twice, so the clone shares weights where the
original did. A nested model is a layer like any other: by default it is rebuilt from its config
(new layers inside, fresh weights); with `recursive=True` it is cloned by `clone_model` itself,
so `clone_function` reaches the layers inside it.

Keras 3's behaviour is kept: the clone has the original's name and layer names, new `Input`s with
the original inputs' shapes, dtypes and names, and, when the original is compiled, the same
compile settings with a fresh optimizer.
"""

import inspect
from collections.abc import Callable
from typing import Any

import jax

from fkeras.graph._tensor import KerasTensor
from fkeras.layers._base import Layer
from fkeras.layers._input import Input, InputLayer

CloneFunction = Callable[[Layer], Layer]
CallFunction = Callable[..., Any]

MSG_NOT_A_MODEL = (
    "`clone_model` expects a functional `Model` or a `Sequential` model. Received: model={model!r}"
    " of type {kind}. For your own model class, implement `get_config` and use "
    "`model.__class__.from_config(model.get_config())`."
)


def _is_kt(x) -> bool:
    return isinstance(x, KerasTensor)


def _default_clone(layer: Layer) -> Layer:
    """A new layer of the same class from the layer's config (fresh, unbuilt weights)."""
    return type(layer).from_config(layer.get_config())


def _wrap_clone_function(clone_function, call_function, recursive: bool, cache: dict):
    """`clone_function` made to clone each layer once (shared layers stay shared)."""
    if clone_function is None:
        clone_function = _default_clone
    elif not callable(clone_function):
        raise ValueError(
            "Expected `clone_function` argument to be a callable. "
            f"Received: clone_function={clone_function!r}"
        )

    def clone_layer(layer: Layer) -> Layer:
        if id(layer) in cache:
            return cache[id(layer)]
        if recursive and _model_kind(layer) is not None:
            new = clone_model(
                layer,
                clone_function=clone_function,
                call_function=None if _model_kind(layer) == "sequential" else call_function,
                recursive=True,
                _cache=cache,
            )
        else:
            new = clone_function(layer)
            if not isinstance(new, Layer):
                raise TypeError(
                    f"`clone_function` must return a layer. For layer {layer.name!r} it returned "
                    f"{new!r} of type {type(new).__name__}."
                )
        cache[id(layer)] = new
        return new

    return clone_layer


def _model_kind(obj) -> str | None:
    from fkeras.models._functional import Model
    from fkeras.models._sequential import Sequential

    if isinstance(obj, Sequential):
        return "sequential"
    if isinstance(obj, Model):
        return "functional"
    return None


def clone_model(
    model,
    input_tensors=None,
    clone_function: CloneFunction | None = None,
    call_function: CallFunction | None = None,
    recursive: bool = False,
    **kwargs,
):
    """Clones a functional or Sequential model: new layers, the same graph, fresh weights.

    Cloning is like calling the model on new inputs, except that every layer is a new one (so
    no weights are shared with the original). Copy weights over with
    `clone.set_weights(model.get_weights())` when you want them.

    Args:
        model: a functional `Model` or a `Sequential` model.
        input_tensors: optional symbolic tensor(s) from `Input(...)` to build the clone on,
            structured like `model.input` (one tensor, a list, or a dict keyed by input name).
            A tensor that is the output of a layer also works: the clone then starts from a new
            `Input` with that tensor's shape and dtype. By default new Inputs are made with the
            original inputs' shapes, dtypes and names.
        clone_function: `fn(layer) -> layer`, called once per non-Input layer (a shared layer
            is cloned once). Default: `layer.__class__.from_config(layer.get_config())`. Return
            the layer itself to reuse it (its weights are then shared with the original).
        call_function: `fn(layer, inputs, **kwargs) -> outputs`, used to call each cloned layer
            on its inputs in a functional model (default: `layer(inputs, **kwargs)`), e.g. to
            insert a layer after some of them. Not supported for Sequential models.
        recursive: whether nested models are cloned with `clone_model` (with the same
            `clone_function` and `call_function`) instead of by `clone_function`.

    Returns:
        A model of the same kind, with the same name, layer names and compile settings.

    Raises:
        ValueError: if `model` is not a functional or Sequential model, for an unknown
            keyword, a `clone_function` that is not callable, `call_function` with a
            Sequential model, or `input_tensors` not structured like the model's inputs.
        TypeError: if `clone_function` returns something that is not a layer.

    Example:
        >>> model = Sequential([Input(shape=(728,)), Dense(32, activation="relu"), Dense(1)])
        >>> new_model = clone_model(model)
        >>> new_model.set_weights(model.get_weights())
    """
    cache = kwargs.pop("_cache", None)
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs)}")
    kind = _model_kind(model)
    if kind is None:
        raise ValueError(MSG_NOT_A_MODEL.format(model=model, kind=type(model).__name__))
    clone_layer = _wrap_clone_function(
        clone_function, call_function, recursive, {} if cache is None else cache
    )
    if kind == "sequential":
        if call_function is not None:
            raise ValueError(
                "`call_function` argument is not supported with Sequential models: their "
                "layers are listed, not called, when the model is built. Use `call_function` "
                f"with functional models only. Received: model={model.name!r}, "
                f"call_function={call_function!r}"
            )
        clone = _clone_sequential(model, clone_layer, input_tensors)
    else:
        if call_function is not None and not callable(call_function):
            raise ValueError(
                "Expected `call_function` argument to be a callable. "
                f"Received: call_function={call_function!r}"
            )
        clone = _clone_functional(model, clone_layer, call_function, input_tensors)
    if model.compiled:
        _compile_like(clone, model)
    return clone


# ---- Sequential -----------------------------------------------------------------------------


def _fresh_input(template: KerasTensor, name: str | None = None) -> KerasTensor:
    """A new `Input` with the template tensor's batch shape and dtype."""
    return Input(batch_shape=template.shape, dtype=template.dtype, name=name)


def _clone_sequential(model, clone_layer, input_tensors):
    from fkeras.models._sequential import Sequential

    new_layers = [clone_layer(layer) for layer in model.layers]
    input_layer = model._input_layer
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(
                    "Argument `input_tensors` must contain a single tensor for a Sequential "
                    f"model. Received: {len(input_tensors)} tensors"
                )
            input_tensors = input_tensors[0]
        tensor = _check_input_tensor(input_tensors)
        if tensor.node.inputs:  # a layer's output: start from a new Input of its shape
            tensor = _fresh_input(tensor)
        new_layers = [tensor.node.layer] + new_layers
    elif input_layer is not None:
        first = InputLayer(
            batch_shape=input_layer.batch_shape, dtype=input_layer.dtype, name=input_layer.name
        )
        new_layers = [first] + new_layers
    return Sequential(new_layers, name=model.name, trainable=model.trainable)


# ---- functional -----------------------------------------------------------------------------


def _check_input_tensor(x) -> KerasTensor:
    if not isinstance(x, KerasTensor):
        raise ValueError(
            "All entries in `input_tensors` must be symbolic tensors (from `Input(...)` or a "
            f"layer call). Received: {x!r} of type {type(x).__name__}"
        )
    return x


def _new_inputs(model, input_tensors) -> list[KerasTensor]:
    """The clone's input tensors, flat and in the order of `model.inputs`."""
    originals = model.inputs
    if input_tensors is None:
        return [_fresh_input(t, name=t.node.layer.name) for t in originals]
    names = [t.node.layer.name for t in originals]
    if isinstance(input_tensors, dict):
        keys = model.input_names
        if sorted(input_tensors) != sorted(keys):
            raise ValueError(
                "`input_tensors` must have the same structure as model.input: a dict with keys "
                f"{keys}. Received: keys={list(input_tensors)}"
            )
        flat = [input_tensors[k] for k in keys]
    elif isinstance(input_tensors, (list, tuple)):
        flat = list(input_tensors)
    else:
        flat = [input_tensors]
    if len(flat) != len(originals):
        raise ValueError(
            f"`input_tensors` must have the same structure as model.input: {len(originals)} "
            f"tensor(s) for inputs {names}. Received: {len(flat)} tensor(s)"
        )
    flat = [_check_input_tensor(x) for x in flat]
    return [_fresh_input(x) if x.node.inputs else x for x in flat]


def _substitute(struct, mapping: dict):
    """`struct` with each symbolic tensor replaced by its clone (dict key order kept)."""
    if isinstance(struct, KerasTensor):
        return mapping[id(struct)]
    if isinstance(struct, dict):
        return {k: _substitute(v, mapping) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return type(struct)(_substitute(v, mapping) for v in struct)
    return struct


def _clone_functional(model, clone_layer, call_function, input_tensors):
    from fkeras.models._functional import Model

    graph = model._graph
    new_inputs = _new_inputs(model, input_tensors)
    mapping = {id(old): new for old, new in zip(graph.inputs, new_inputs)}
    for node in graph.nodes:
        layer = clone_layer(node.layer)
        args = _substitute(node.args, mapping)
        kwargs = {k: _substitute(v, mapping) for k, v in node.kwargs.items()}
        if call_function is None:
            outputs = layer(args, **kwargs)
        else:
            outputs = call_function(layer, args, **kwargs)
        flat = jax.tree_util.tree_leaves(outputs, is_leaf=_is_kt)
        if len(flat) != len(node.outputs):
            raise ValueError(
                f"The clone of layer {node.layer.name!r} returned {len(flat)} output(s); the "
                f"original returned {len(node.outputs)}."
            )
        for old, new in zip(node.outputs, flat):
            mapping[id(old)] = new
    inputs = _restructure(model._inputs_struct, graph.inputs, new_inputs)
    outputs = _substitute(model._outputs_struct, mapping)
    cls = type(model) if _functional_like_constructor(type(model)) else Model
    clone = cls(inputs=inputs, outputs=outputs, name=model.name)
    if not model.trainable:  # the layers' own flags came with their configs; keep them
        clone.trainable = False
    return clone


def _restructure(struct, flat_old: list, flat_new: list):
    mapping = {id(old): new for old, new in zip(flat_old, flat_new)}
    return _substitute(struct, mapping)


def _functional_like_constructor(cls: type) -> bool:
    """Whether `cls(inputs=..., outputs=..., name=...)` builds a model (Keras 3's check)."""
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False
    return "inputs" in params and "outputs" in params


# ---- compile settings -----------------------------------------------------------------------


def _compile_like(clone, model) -> None:
    """Compile `clone` as `model` was compiled, with a fresh optimizer (no shared state)."""
    from fkeras import optimizers

    optimizer = model.optimizer
    raw = getattr(optimizer, "transformation", None)
    if raw is not None:  # a raw optax transformation: stateless, so it can be reused
        fresh = optimizers.get(raw)
    else:
        fresh = type(optimizer).from_config(optimizer.get_config())
    clone.compile(
        optimizer=fresh,
        run_eagerly=getattr(model, "run_eagerly", False),
        steps_per_execution=model._steps_per_execution,
        **model._compile_args,
    )
