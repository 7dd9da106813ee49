"""One harness for every layer, built from small named checks (in the spirit of Keras's
`run_layer_test`, split up):

- `check_shapes`: `compute_output_spec` == `jax.eval_shape(apply)` == the real output (shape, dtype);
- `check_pure`: jit/grad/vmap agree with the eager call; the same call twice gives the same result;
- `check_config_roundtrip`: `from_config(get_config())` gives the same outputs from the same variables;
- `check_keras_parity`: Keras 3 (JAX backend) with the same weights gives the same outputs (1e-5)
  and the same input gradients of a scalar loss (1e-4).

`run_layer_test` runs them all for one configuration.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np

from fkeras.layers import TensorSpec


def _spec_tree(shapes, dtype):
    if isinstance(shapes, list):
        return [TensorSpec(tuple(s), dtype) for s in shapes]
    return TensorSpec(tuple(shapes), dtype)


def make_inputs(shapes, dtype="float32", seed=0, low=-1.0, high=1.0, int_high=10):
    """Random concrete inputs for `shapes` (one shape or a list of shapes)."""
    rng = np.random.RandomState(seed)

    def one(shape):
        if np.issubdtype(np.dtype(dtype), np.integer):
            return rng.randint(0, int_high, size=shape).astype(dtype)
        return rng.uniform(low, high, size=shape).astype(dtype)

    return [one(s) for s in shapes] if isinstance(shapes, list) else one(shapes)


def init_layer(layer, shapes, dtype="float32", key=0, symbolic_batch=True):
    """Variables for `layer` built from a spec whose batch axis is None (as a model would)."""
    if isinstance(shapes, list):
        spec = [TensorSpec(((None,) if symbolic_batch else ()) + tuple(s[1:]) if symbolic_batch else tuple(s), dtype) for s in shapes]
    else:
        spec = TensorSpec(((None,) + tuple(shapes[1:])) if symbolic_batch else tuple(shapes), dtype)
    return layer.init(jax.random.key(key), spec), spec


def check_shapes(layer, shapes, dtype="float32", call_kwargs=None, **input_kwargs):
    call_kwargs = call_kwargs or {}
    variables, spec = init_layer(layer, shapes, dtype)
    x = make_inputs(shapes, dtype, **input_kwargs)
    out, _ = layer.apply(variables, x, training=False, **call_kwargs)
    full_spec = _spec_tree(shapes, dtype)
    # the symbolic spec (None batch) and the concrete spec
    for s in (spec, full_spec):
        predicted = layer.compute_output_spec(s, **call_kwargs)
        flat_pred = jax.tree_util.tree_leaves(predicted)
        flat_out = jax.tree_util.tree_leaves(out)
        assert len(flat_pred) == len(flat_out), (predicted, out)
        for p, o in zip(flat_pred, flat_out):
            assert len(p.shape) == o.ndim, (p.shape, o.shape)
            for dp, do in zip(p.shape, o.shape):
                assert dp is None or dp == do, (p.shape, o.shape)
            assert np.dtype(p.dtype) == o.dtype, (p.dtype, o.dtype)
    evaluated = jax.eval_shape(lambda v, x: layer.apply(v, x, training=False, **call_kwargs)[0], variables, x)
    for e, o in zip(jax.tree_util.tree_leaves(evaluated), jax.tree_util.tree_leaves(out)):
        assert e.shape == o.shape and e.dtype == o.dtype
    concrete = layer.compute_output_spec(full_spec, **call_kwargs)
    for c, o in zip(jax.tree_util.tree_leaves(concrete), jax.tree_util.tree_leaves(out)):
        assert tuple(c.shape) == o.shape, (c.shape, o.shape)
    return variables, x, out


def check_pure(layer, variables, x, call_kwargs=None, vmap=True, rtol=1e-5, atol=1e-5):
    call_kwargs = call_kwargs or {}

    def f(v, x):
        return layer.apply(v, x, training=False, **call_kwargs)[0]

    eager = f(variables, x)
    again = f(variables, x)
    for a, b in zip(jax.tree_util.tree_leaves(eager), jax.tree_util.tree_leaves(again)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    jitted = jax.jit(f)(variables, x)
    for a, b in zip(jax.tree_util.tree_leaves(eager), jax.tree_util.tree_leaves(jitted)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)
    floating = all(jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating) for a in jax.tree_util.tree_leaves(x))
    if floating:
        def loss(v, x):
            return sum(jnp.sum(jnp.sin(o)) for o in jax.tree_util.tree_leaves(f(v, x)) if jnp.issubdtype(o.dtype, jnp.floating))

        g_eager = jax.grad(loss, argnums=(0, 1))(variables, x)
        g_jit = jax.jit(jax.grad(loss, argnums=(0, 1)))(variables, x)
        for a, b in zip(jax.tree_util.tree_leaves(g_eager), jax.tree_util.tree_leaves(g_jit)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    if vmap:
        # vmap over an extra leading axis of two copies of the batch
        xs = jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), x)
        mapped = jax.vmap(lambda xi: f(variables, xi))(xs)
        for a, b in zip(jax.tree_util.tree_leaves(eager), jax.tree_util.tree_leaves(mapped)):
            np.testing.assert_allclose(np.asarray(b)[1], np.asarray(a), rtol=rtol, atol=atol)
    return eager


def check_config_roundtrip(layer, variables, x, call_kwargs=None):
    call_kwargs = call_kwargs or {}
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    a = layer.apply(variables, x, training=False, **call_kwargs)[0]
    b = clone.apply(variables, x, training=False, **call_kwargs)[0]
    for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def fkeras_weights(layer, variables) -> list:
    """The layer's weights in Keras order (params then state, creation order) from `variables`."""
    from fkeras.layers._cell import weight_order

    return [np.asarray(variables[c][n]) for c, n in weight_order(variables)]


def check_keras_parity(layer, keras_layer, variables, x, call_kwargs=None, keras_call_kwargs=None, rtol=1e-5, atol=1e-5, grad=True):
    """Same weights in Keras 3 -> same outputs, and same input gradients of a scalar loss."""
    import keras

    call_kwargs = call_kwargs or {}
    keras_call_kwargs = call_kwargs if keras_call_kwargs is None else keras_call_kwargs
    kx = jax.tree_util.tree_map(jnp.asarray, x)
    keras_layer(kx, **keras_call_kwargs)  # build
    keras_layer.set_weights(fkeras_weights(layer, variables))
    ours = layer.apply(variables, x, training=False, **call_kwargs)[0]
    theirs = keras_layer(kx, **keras_call_kwargs)
    ours_flat = jax.tree_util.tree_leaves(ours)
    theirs_flat = [np.asarray(keras.ops.convert_to_numpy(t)) for t in jax.tree_util.tree_leaves(theirs)]
    assert len(ours_flat) == len(theirs_flat)
    for a, b in zip(ours_flat, theirs_flat):
        np.testing.assert_allclose(np.asarray(a), b, rtol=rtol, atol=atol)
    floating = all(jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating) for a in jax.tree_util.tree_leaves(x))
    if grad and floating:
        trainable = [v.value for v in keras_layer.trainable_variables]
        non_trainable = [v.value for v in keras_layer.non_trainable_variables]

        def ours_loss(x):
            out = layer.apply(variables, x, training=False, **call_kwargs)[0]
            return sum(jnp.sum(jnp.sin(o)) for o in jax.tree_util.tree_leaves(out))

        def theirs_loss(x):
            out, _ = keras_layer.stateless_call(trainable, non_trainable, x, **keras_call_kwargs)
            return sum(jnp.sum(jnp.sin(o)) for o in jax.tree_util.tree_leaves(out))

        g1 = jax.grad(ours_loss)(kx)
        g2 = jax.grad(theirs_loss)(kx)
        for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


def run_layer_test(layer, shapes, keras_layer=None, dtype="float32", call_kwargs=None, keras_call_kwargs=None, vmap=True, rtol=1e-5, atol=1e-5, grad=True, **input_kwargs):
    """All checks for one layer configuration; returns (variables, x, outputs)."""
    variables, x, out = check_shapes(layer, shapes, dtype, call_kwargs, **input_kwargs)
    check_pure(layer, variables, x, call_kwargs, vmap=vmap)
    check_config_roundtrip(layer, variables, x, call_kwargs)
    if keras_layer is not None:
        check_keras_parity(layer, keras_layer, variables, x, call_kwargs, keras_call_kwargs, rtol=rtol, atol=atol, grad=grad)
    return variables, x, out
