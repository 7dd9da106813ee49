"""Keras 3's autocasting, applied around a layer's pure `apply` and `compute_output_spec`.

When a layer runs, floating inputs whose dtype differs from the layer's compute dtype are cast
to it (Keras's `convert_input`); under a mixed policy (compute dtype != variable dtype) the
layer's own floating variables are read in the compute dtype too, and the state it returns is
written back in the variables' dtype (a Keras variable casts on `assign`). While a mixed layer
runs, `layer.dtype` answers the compute dtype, as Keras's autocast scope makes a variable read
answer it, so layer code that builds arrays "in the layer's dtype" computes in half precision.

Nothing happens when the policy is not mixed and the inputs already have the compute dtype:
the traced program is exactly the layer's own (no casts, no scope).

A layer casts only the variables at the top level of its `params`/`state`: nested dicts belong
to child layers (a model's layers, a wrapper's children), which autocast themselves when they
run. Containers (models, `Wrapper`s) leave everything to their children.

Per-layer switches, as in Keras:
- `layer.autocast = False`: no input or variable casting at all (LayerNormalization,
  GroupNormalization, Embedding compute from float32 variables themselves);
- class attribute `_autocast_variables = False`: inputs are cast, variables are not
  (BatchNormalization's `autocast=False` weights);
- class attribute `_mixed_compute_in_variable_dtype = True`: under a mixed policy the layer runs
  entirely in its variable dtype (float32 inputs, variables and arithmetic) and its floating
  outputs are cast to the compute dtype. The recurrent layers use it: they project all time steps
  with one matmul and scan a loop-invariant recurrent kernel, so in float16 their weight gradients
  would be sums over batch x time in float16, which overflow (a bias gradient of 82k in a
  two-layer LSTM) where Keras, casting inside each step, sums over time in float32. Computing
  in float32 keeps every such sum in float32; the outputs keep Keras's dtype.
"""

import functools
import threading

import jax
import jax.numpy as jnp

_LOCAL = threading.local()
_CONTAINER: dict = {}


def _active() -> list:
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    return stack


def in_scope(layer) -> bool:
    """Whether `layer` is running under its own mixed-precision scope (on this thread)."""
    stack = getattr(_LOCAL, "stack", None)
    return bool(stack) and any(x is layer for x in stack)


class _Scope:
    __slots__ = ("layer",)

    def __init__(self, layer):
        self.layer = layer

    def __enter__(self):
        _active().append(self.layer)

    def __exit__(self, *exc):
        _active().pop()


def _is_container(layer) -> bool:
    cls = type(layer)
    found = _CONTAINER.get(cls)
    if found is None:
        found = _CONTAINER[cls] = hasattr(cls, "_weight_layers") or hasattr(cls, "_children")
    return found


def _is_float(dtype) -> bool:
    return jnp.issubdtype(dtype, jnp.floating)


def _cast_leaf(x, dtype):
    if hasattr(x, "dtype") and hasattr(x, "shape") and _is_float(x.dtype) and x.dtype != dtype:
        return jnp.asarray(x).astype(dtype)
    return x


def cast_floats(tree, dtype):
    """`tree` with every floating array of another dtype cast to `dtype` (others untouched)."""
    dtype = jnp.dtype(dtype)
    return jax.tree_util.tree_map(lambda x: _cast_leaf(x, dtype), tree)


def _needs_cast(tree, dtype) -> bool:
    dtype = jnp.dtype(dtype)
    return any(
        hasattr(x, "dtype") and _is_float(x.dtype) and x.dtype != dtype
        for x in jax.tree_util.tree_leaves(tree)
    )


def _cast_own(collection, dtype):
    """The top-level arrays of a `params`/`state` dict cast to `dtype`; sub-dicts untouched."""
    if not collection:
        return collection
    dtype = jnp.dtype(dtype)
    return {k: v if isinstance(v, dict) else _cast_leaf(v, dtype) for k, v in collection.items()}


def _restore_state(new_state, old_state):
    """`new_state`'s top-level arrays back in the dtypes of `old_state`'s (assign casts)."""
    if not new_state or not old_state:
        return new_state
    out = dict(new_state)
    for k, v in new_state.items():
        old = old_state.get(k)
        if isinstance(v, dict) or not (hasattr(old, "dtype") and hasattr(v, "dtype")):
            continue
        if v.dtype != old.dtype:
            out[k] = v.astype(old.dtype)
    return out


def _plan(layer):
    """`(policy, mixed)` if `layer` autocasts at all, else None."""
    if _is_container(layer) or in_scope(layer):
        return None
    policy = layer.__dict__.get("_dtype_policy")
    if policy is None or not _is_float(jnp.dtype(policy.compute_dtype)):
        return None
    return policy, policy.is_mixed


def autocast_apply(apply):
    """Wrap a layer class's `apply` with Keras's autocasting (see the module docstring)."""

    @functools.wraps(apply)
    def wrapper(self, variables, inputs, *args, **kwargs):
        plan = _plan(self)
        if plan is None:
            return apply(self, variables, inputs, *args, **kwargs)
        policy, mixed = plan
        compute = policy.compute_dtype
        if mixed and type(self)._mixed_compute_in_variable_dtype:
            return _apply_in_variable_dtype(self, apply, policy, variables, inputs, args, kwargs)
        if self.autocast:
            if _needs_cast(inputs, compute):
                inputs = cast_floats(inputs, compute)
            if kwargs and _needs_cast(kwargs, compute):
                kwargs = cast_floats(kwargs, compute)
        if not mixed:
            return apply(self, variables, inputs, *args, **kwargs)
        state = variables.get("state", {}) if isinstance(variables, dict) else {}
        if self.autocast and type(self)._autocast_variables and isinstance(variables, dict):
            variables = {
                **variables,
                "params": _cast_own(variables.get("params", {}), compute),
                "state": _cast_own(state, compute),
            }
        with _Scope(self):
            outputs, new_state = apply(self, variables, inputs, *args, **kwargs)
        return outputs, _restore_state(new_state, state)

    wrapper._autocasts = True
    return wrapper


def _apply_in_variable_dtype(layer, apply, policy, variables, inputs, args, kwargs):
    """`apply` with float32 inputs and variables, its floating outputs cast to compute dtype."""
    variable = policy.variable_dtype
    if layer.autocast:
        inputs = cast_floats(inputs, variable)
        kwargs = cast_floats(kwargs, variable) if kwargs else kwargs
    outputs, new_state = apply(layer, variables, inputs, *args, **kwargs)
    return cast_floats(outputs, policy.compute_dtype), new_state


def _cast_spec(spec, dtype: str):
    from fkeras.layers._spec import TensorSpec, is_float

    if isinstance(spec, TensorSpec) and is_float(spec.dtype) and spec.dtype != dtype:
        return TensorSpec(spec.shape, dtype)
    return spec


def cast_specs(tree, dtype: str):
    """`tree` with every floating `TensorSpec` given `dtype` (what autocasting does to inputs)."""
    from fkeras.layers._spec import TensorSpec

    return jax.tree_util.tree_map(
        lambda s: _cast_spec(s, dtype), tree, is_leaf=lambda s: isinstance(s, TensorSpec)
    )


def autocast_output_spec(compute_output_spec):
    """Wrap a layer class's `compute_output_spec` so it sees what the autocast `apply` sees."""

    @functools.wraps(compute_output_spec)
    def wrapper(self, input_spec, **kwargs):
        plan = _plan(self)
        if plan is None:
            return compute_output_spec(self, input_spec, **kwargs)
        policy, mixed = plan
        if mixed and type(self)._mixed_compute_in_variable_dtype:
            if self.autocast:
                input_spec = cast_specs(input_spec, policy.variable_dtype)
                kwargs = {k: cast_specs(v, policy.variable_dtype) for k, v in kwargs.items()}
            return cast_specs(compute_output_spec(self, input_spec, **kwargs), policy.compute_dtype)
        if self.autocast:
            input_spec = cast_specs(input_spec, policy.compute_dtype)
            kwargs = {k: cast_specs(v, policy.compute_dtype) for k, v in kwargs.items()}
        if not mixed:
            return compute_output_spec(self, input_spec, **kwargs)
        with _Scope(self):
            return compute_output_spec(self, input_spec, **kwargs)

    wrapper._autocasts = True
    return wrapper
