"""Keras-style custom layers (`build` / `add_weight` / `call`) on fkeras's pure protocol.

A subclass of `Layer` that defines `call` and not `apply` is written as in Keras:

    class MyDense(Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
            super().build(input_shape)

        def call(self, x):
            return K.dot(x, self.kernel)

and runs as a pure layer: `init` runs `build` once to record the weights `add_weight` asks for
(their values come from the initializers and the `rng` given to `init`); `apply` runs `call`
with each attribute that holds a weight bound to the array in `variables` for the duration of
the call (so `call` may be traced, differentiated and vmapped like any other `apply`). Outside
`call`, such an attribute is a live weight view (`numpy()`, `assign()`), like a Keras variable.

Weights with `trainable=False` are kept in the layer's `state` collection and stay constant
(`call` cannot assign to them). The binding lasts one `call` and is the layer object's: one
layer object applied from two threads at once would see each other's arrays.
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp

from fkeras.layers import _cell


def is_call_style(cls) -> bool:
    from fkeras.layers._base import Layer

    return cls.call is not Layer.call and cls.apply is Layer.apply


def weight_spec(layer, args, kwargs) -> dict[str, Any]:
    """`add_weight`'s arguments, Keras 2's order (`name, shape, ...`) or Keras 3's (`shape,
    initializer, ...`), as one record."""
    names = ("name", "shape", "dtype", "initializer", "regularizer", "trainable", "constraint")
    if args and not isinstance(args[0], str):
        names = (
            "shape",
            "initializer",
            "dtype",
            "trainable",
            "autocast",
            "regularizer",
            "constraint",
        )
    if len(args) > len(names):
        raise TypeError(
            f"Layer {layer.name!r}: add_weight takes at most {len(names)} positional arguments."
        )
    given = dict(zip(names, args))
    for key, value in kwargs.items():
        if key in given:
            raise TypeError(f"Layer {layer.name!r}: add_weight got multiple values for {key!r}.")
        given[key] = value
    known = {"name", "shape", "dtype", "initializer", "regularizer", "trainable", "constraint"}
    ignored = {
        "autocast", "aggregation", "synchronization", "use_resource", "partitioner",
        "caching_device", "overwrite_with_gradient", "experimental_autocast", "getter",
    }  # fmt: skip
    unknown = sorted(set(given) - known - ignored)
    if unknown:
        raise TypeError(f"Layer {layer.name!r}: add_weight got unexpected argument(s) {unknown}.")
    from fkeras import constraints, initializers, regularizers
    from fkeras.layers._spec import standardize_dtype

    shape = given.get("shape")
    shape = () if shape is None else shape
    try:
        shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    except (TypeError, ValueError):
        raise ValueError(
            f"Layer {layer.name!r}: add_weight needs a shape of known integers. "
            f"Received: shape={shape!r}"
        ) from None
    dtype = standardize_dtype(given.get("dtype") or layer.variable_dtype)
    initializer = given.get("initializer")
    if initializer is None:
        initializer = "glorot_uniform" if jnp.issubdtype(dtype, jnp.floating) else "zeros"
    return {
        "name": given.get("name"),
        "shape": shape,
        "dtype": dtype,
        "initializer": initializers.get(initializer),
        "regularizer": regularizers.get(given.get("regularizer")),
        "constraint": constraints.get(given.get("constraint")),
        "collection": "params" if given.get("trainable", True) else "state",
    }


def build_shape(input_spec):
    if isinstance(input_spec, (list, tuple)):
        return [tuple(s.shape) for s in input_spec]
    return tuple(input_spec.shape)


def record_build(layer, input_spec) -> list[dict]:
    """Run the layer's `build` once, recording every `add_weight`; returns the records (those
    made in `__init__` first) and notes which attributes hold the weights."""
    records: list[dict] = []
    d = layer.__dict__
    object.__setattr__(layer, "_weight_record", records)
    try:
        layer.build(build_shape(input_spec))
    finally:
        object.__setattr__(layer, "_weight_record", None)
    records = list(d.get("_init_weights", ())) + records
    seen = set()
    for record in records:
        if record["name"] in seen:
            raise ValueError(
                f"Layer {layer.name!r}: two weights are named {record['name']!r}; "
                "give add_weight unique names."
            )
        seen.add(record["name"])
    attrs = {}
    for attr, value in d.items():
        if _holds_weights(layer, value):
            attrs[attr] = value
    object.__setattr__(layer, "_weight_attrs", attrs)
    object.__setattr__(layer, "_weight_specs", records)
    return records


def _holds_weights(layer, value) -> bool:
    if isinstance(value, _cell.Weight):
        return value._layer is layer
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, _cell.Weight) and v._layer is layer for v in value)
    return False


def init_variables(layer, rng, input_spec) -> dict:
    records = record_build(layer, input_spec)
    variables: dict = {"params": {}, "state": {}}
    keys = jax.random.split(rng, max(1, len(records)))
    for key, record in zip(keys, records):
        value = record["initializer"](record["shape"], record["dtype"], key=key)
        variables[record["collection"]][record["name"]] = jnp.asarray(value, record["dtype"])
    return variables


def run_call(layer, variables, inputs, *, training=False, mask=None, kwargs=None):
    """`layer.call(inputs, ...)` with its weight attributes bound to `variables`' arrays."""
    kwargs = dict(kwargs or {})
    params = inspect.signature(layer.call).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if "training" in params or takes_any:
        kwargs["training"] = training
    if mask is not None and ("mask" in params or takes_any):
        kwargs["mask"] = mask
    bound = layer.__dict__.get("_weight_attrs") or {}

    def value(w):
        return variables[w._collection][w._name]

    try:
        for attr, held in bound.items():
            object.__setattr__(
                layer,
                attr,
                value(held)
                if isinstance(held, _cell.Weight)
                else type(held)(value(w) for w in held),
            )
        return layer.call(inputs, **kwargs)
    finally:
        for attr, held in bound.items():
            object.__setattr__(layer, attr, held)


def penalty(layer, params) -> Any:
    total = 0.0
    for record in layer.__dict__.get("_weight_specs") or ():
        if record["regularizer"] is not None and record["name"] in params:
            total = total + record["regularizer"](params[record["name"]])
    return total


def has_constraints(layer) -> bool:
    return any(
        record["constraint"] is not None for record in layer.__dict__.get("_weight_specs") or ()
    )


def constrain(layer, params) -> dict:
    out = dict(params)
    for record in layer.__dict__.get("_weight_specs") or ():
        if record["constraint"] is not None and record["name"] in out:
            out[record["name"]] = record["constraint"](out[record["name"]])
    return out
