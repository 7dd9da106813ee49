"""Properties of the functional graph, over random DAGs, and the graph errors a user meets.

A Hypothesis strategy draws a recipe: 1-3 inputs of rank 2 or 3, then a few steps, each a layer
(Dense, Activation, Dropout, and Flatten/Reshape where valid) on a tensor of the pool, an earlier
Dense layer called again (a shared layer), or a merge (add, multiply, concatenate) of 2-3
tensors, made compatible by small adapter layers where their shapes differ. 1-2 tensors of the
pool become the outputs. The recipe tracks the shapes it expects, an oracle independent of the
tracer.

Properties: the tracer's shapes (`model.outputs[i].shape`) are the recipe's; `model.init` and
`model.apply` (eager, in training mode too, and under `jax.eval_shape`) give arrays of those
shapes; `Model.from_config(get_config())` and `model_from_json(to_json())` rebuild a model with
the same config that, given the same weights through `set_weights(get_weights())`, computes
identical outputs; and the same recipe built in Keras 3 has the same layer and weight order
and outputs.
"""

import math

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fkeras import layers as L
from fkeras.models._functional import Model
from fkeras.models._json import model_from_json

BATCH = 3
ACTIVATIONS = [None, "relu", "tanh", "sigmoid"]

# ---- recipes: plain data, built into a model by `build` -------------------------------------


def _adapt(draw, steps, shapes, i, target):
    """Append adapter steps turning pool tensor `i` into shape `target`; return its index."""
    if shapes[i] == target:
        return i
    if len(shapes[i]) > 1:
        steps.append(("flatten", i))
        shapes.append((math.prod(shapes[i]),))
        i = len(shapes) - 1
    steps.append(("dense", i, math.prod(target), draw(st.sampled_from(ACTIVATIONS))))
    shapes.append((math.prod(target),))
    i = len(shapes) - 1
    if len(target) > 1:
        steps.append(("reshape", i, target))
        shapes.append(target)
        i = len(shapes) - 1
    return i


def _draw_step(draw, steps, shapes):
    n = len(shapes)
    i = draw(st.integers(0, n - 1))
    shape = shapes[i]
    dense_steps = [k for k, step in enumerate(steps) if step[0] == "dense"]
    kinds = ["dense", "activation", "dropout", "merge", "reshape"]
    kinds += (["flatten"] if len(shape) > 1 else []) + (["reuse"] if dense_steps else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "reuse":  # call an earlier Dense layer again: a shared layer, one set of weights
        k = draw(st.sampled_from(dense_steps))
        in_dim = shapes[steps[k][1]][-1]
        i = draw(st.sampled_from([j for j in range(n) if shapes[j][-1] == in_dim]))
        steps.append(("reuse", i, k))
        shapes.append(shapes[i][:-1] + (steps[k][2],))
    elif kind == "dense":
        units = draw(st.integers(1, 5))
        steps.append(("dense", i, units, draw(st.sampled_from(ACTIVATIONS))))
        shapes.append(shape[:-1] + (units,))
    elif kind == "activation":
        name = draw(st.sampled_from(["relu", "tanh", "softmax", "linear"]))
        steps.append(("activation", i, name))
        shapes.append(shape)
    elif kind == "dropout":
        steps.append(("dropout", i, draw(st.sampled_from([0.0, 0.25, 0.5]))))
        shapes.append(shape)
    elif kind == "flatten":
        steps.append(("flatten", i))
        shapes.append((math.prod(shape),))
    elif kind == "reshape":
        size = math.prod(shape)
        k = draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]))
        target = draw(st.sampled_from([(size // k, k), (-1, k), (size,)]))
        steps.append(("reshape", i, target))
        shapes.append((size // k, k) if len(target) == 2 else (size,))
    else:
        how = draw(st.sampled_from(["add", "multiply", "concatenate"]))
        dims = st.integers(1, 3)
        others = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2))
        if how == "concatenate":
            targets = [
                shapes[j] if shapes[j][:-1] == shape[:-1] else shape[:-1] + (draw(dims),)
                for j in others
            ]
        else:
            targets = [shape] * len(others)
        members = [i] + [_adapt(draw, steps, shapes, j, t) for j, t in zip(others, targets)]
        steps.append(("merge", how, members))
        if how == "concatenate":
            shapes.append(shape[:-1] + (sum(shapes[j][-1] for j in members),))
        else:
            shapes.append(shape)


@st.composite
def recipes(draw):
    """(input shapes, steps, output indices, expected pool shapes), sample shapes without batch."""
    dims = st.integers(1, 4)
    input_shapes = draw(
        st.lists(st.one_of(st.tuples(dims), st.tuples(dims, dims)), min_size=1, max_size=3)
    )
    shapes = list(input_shapes)
    steps: list = []
    for _ in range(draw(st.integers(1, 6))):
        _draw_step(draw, steps, shapes)
    candidates = list(range(len(input_shapes), len(shapes)))  # layer outputs, not bare inputs
    outputs = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique=True))
    return input_shapes, steps, outputs, shapes


def build(recipe, layers=L, model_class=Model) -> tuple:
    """The recipe's model (fkeras's, or Keras 3's given its modules), and its output shapes."""
    input_shapes, steps, outputs, shapes = recipe
    pool = [layers.Input(shape=s) for s in input_shapes]
    made = {}  # step index -> its layer, for "reuse"
    for n, step in enumerate(steps):
        kind = step[0]
        if kind == "dense":
            made[n] = layers.Dense(step[2], activation=step[3])
            pool.append(made[n](pool[step[1]]))
        elif kind == "reuse":
            pool.append(made[step[2]](pool[step[1]]))
        elif kind == "activation":
            pool.append(layers.Activation(step[2])(pool[step[1]]))
        elif kind == "dropout":
            pool.append(layers.Dropout(step[2])(pool[step[1]]))
        elif kind == "flatten":
            pool.append(layers.Flatten()(pool[step[1]]))
        elif kind == "reshape":
            pool.append(layers.Reshape(step[2])(pool[step[1]]))
        else:
            merge = {"add": layers.add, "multiply": layers.multiply, "concatenate": layers.concatenate}
            pool.append(merge[step[1]]([pool[j] for j in step[2]]))
    model = model_class(pool[: len(input_shapes)], [pool[j] for j in outputs])
    return model, [(None,) + shapes[j] for j in outputs]


def _inputs(model, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(BATCH,) + t.shape[1:]).astype("float32") for t in model.inputs]


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


# A hand-written recipe that every run checks, so that each layer kind and merge runs whatever
# Hypothesis draws: a tensor added to itself, a rank-3 branch flattened and multiplied with a
# second input's branch, a concatenation with a bare input, a Reshape with -1, a Dense layer
# shared by two branches, and outputs from different depths.
HAND_RECIPE = (
    [(2, 3), (3,)],
    [
        ("dense", 0, 4, "relu"),
        ("merge", "add", [2, 2]),
        ("flatten", 3),
        ("dense", 1, 8, None),
        ("merge", "multiply", [4, 5]),
        ("merge", "concatenate", [6, 1]),
        ("reshape", 7, (-1, 1)),
        ("dropout", 8, 0.5),
        ("reuse", 0, 3),
        ("activation", 10, "tanh"),
    ],
    [9, 3, 11],
    [(2, 3), (3,), (2, 4), (2, 4), (8,), (8,), (8,), (11,), (11, 1), (11, 1), (2, 8), (2, 8)],
)

# ---- properties ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
@given(recipes())
@example(HAND_RECIPE)
def test_apply_shapes_match_traced_shapes(recipe):
    model, expected = build(recipe)
    assert [t.shape for t in model.outputs] == expected
    variables = model.init(jax.random.key(0))
    xs = _inputs(model)
    outs, state = model.apply(variables, xs)
    assert state == {}
    want = [(BATCH,) + s[1:] for s in expected]
    assert [o.shape for o in _as_list(outs)] == want
    train_outs, _ = model.apply(variables, xs, training=True, rng=jax.random.key(1))
    assert [o.shape for o in _as_list(train_outs)] == want
    structs = jax.eval_shape(lambda v, x: model.apply(v, x)[0], variables, xs)
    assert [s.shape for s in _as_list(structs)] == want
    assert all(str(s.dtype) == "float32" for s in _as_list(structs))


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
@given(recipes())
@example(HAND_RECIPE)
def test_config_and_json_round_trips_compute_the_same(recipe):
    model, _ = build(recipe)
    xs = _inputs(model, seed=1)
    want = _as_list(model.apply(model.get_variables(), xs)[0])
    config = model.get_config()
    for rebuilt in (Model.from_config(config), model_from_json(model.to_json())):
        assert rebuilt.get_config() == config
        rebuilt.set_weights(model.get_weights())
        got = _as_list(rebuilt.apply(rebuilt.get_variables(), xs)[0])
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
@settings(  # Keras 3 builds and runs each example too: fewer examples; the fixture is stateless
    max_examples=8,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(recipes())
@example(HAND_RECIPE)
def test_weight_order_and_outputs_match_keras3(keras3, recipe):
    """The same recipe built in Keras 3: the same layers in the same order, the same weight
    order (Keras 3's weights load by `set_weights`), the same outputs."""
    ours, _ = build(recipe)
    theirs, _ = build(recipe, keras3.layers, keras3.Model)

    def kinds(model):
        used = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
        return [type(layer).__name__ for layer in used]

    assert kinds(ours) == kinds(theirs)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    ours.set_weights(theirs.get_weights())
    xs = _inputs(ours, seed=2)
    got = _as_list(ours.apply(ours.get_variables(), xs)[0])
    want = _as_list(theirs(xs))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6)


def test_unused_input_layer_order_matches_keras3(keras3):
    recipe = ([(1,), (1,)], [("activation", 0, "relu")], [2], [(1,), (1,), (1,)])
    ours, _ = build(recipe)
    theirs, _ = build(recipe, keras3.layers, keras3.Model)
    assert [type(x).__name__ for x in ours.layers] == [type(x).__name__ for x in theirs.layers]


# ---- graph errors: clear messages naming the layers ---------------------------------------------


def _two_branches():
    a = L.Input(shape=(3,), name="in_a")
    b = L.Input(shape=(3,), name="in_b")
    return a, b, L.Dense(2, name="dense_a")(a), L.Dense(2, name="dense_b")(b)


def _disconnected_output():
    a, b, ha, hb = _two_branches()
    Model(a, [ha, hb])


def _input_not_listed():
    a, b, ha, hb = _two_branches()
    Model(a, L.add([ha, hb], name="merge_ab"))


def _output_is_unlisted_input():
    a, b, ha, hb = _two_branches()
    Model(a, [ha, b])


def _duplicate_name():
    a, b, ha, hb = _two_branches()
    Model(a, L.Dense(2, name="dense_a")(ha))


def _add_mismatch():
    a, b, ha, hb = _two_branches()
    L.add([ha, L.Dense(3, name="dense_c")(a)], name="sum_ac")


def _multiply_mismatch():
    a, b, ha, hb = _two_branches()
    L.multiply([ha, a], name="prod_aa")


def _concatenate_mismatch():
    x = L.Input(shape=(2, 3), name="in_x")
    y = L.Input(shape=(4, 3), name="in_y")
    L.concatenate([x, y], name="cat_xy")


def _non_input_tensor():
    a, b, ha, hb = _two_branches()
    Model(ha, L.Dense(1, name="head")(ha))


def _input_listed_twice():
    a, b, ha, hb = _two_branches()
    Model([a, a], ha)


def _array_as_output():
    a, b, ha, hb = _two_branches()
    Model(a, np.zeros((1, 2)))


def _string_among_inputs():
    a, b, ha, hb = _two_branches()
    Model([a, "in_b"], ha)


GRAPH_ERRORS = {  # name -> (builder, error class, message pattern naming the layers)
    "disconnected_output": (
        _disconnected_output, ValueError, r"Graph disconnected.*'in_b'.*'dense_b'.*\['in_a'\]"
    ),
    "input_not_listed": (_input_not_listed, ValueError, r"Graph disconnected.*'in_b'.*'dense_b'"),
    "output_is_unlisted_input": (
        _output_is_unlisted_input, ValueError, r"Graph disconnected.*'in_b'"
    ),
    "duplicate_name": (_duplicate_name, ValueError, r"name 'dense_a' is used 2 times"),
    "add_mismatch": (_add_mismatch, ValueError, r"'sum_ac'.*\(None, 2\), \(None, 3\)"),
    "multiply_mismatch": (_multiply_mismatch, ValueError, r"'prod_aa'.*\(None, 2\), \(None, 3\)"),
    "concatenate_mismatch": (
        _concatenate_mismatch, ValueError, r"'cat_xy'.*\(None, 2, 3\), \(None, 4, 3\)"
    ),
    "non_input_tensor": (
        _non_input_tensor, ValueError, r"must come from `Input\(...\)`.*'dense_a'"
    ),
    "input_listed_twice": (_input_listed_twice, ValueError, r"the same Input is listed twice"),
    "array_as_output": (_array_as_output, TypeError, r"`outputs` must be a symbolic tensor"),
    "string_among_inputs": (
        _string_among_inputs, TypeError, r"`inputs` must contain only symbolic.*'in_b'"
    ),
}


@pytest.mark.parametrize("name", sorted(GRAPH_ERRORS))
def test_graph_errors_name_the_layers(name):
    build_bad, error, message = GRAPH_ERRORS[name]
    with pytest.raises(error, match=message):
        build_bad()


def test_cycle_in_a_config_is_refused():
    """The API cannot build a cycle (a tensor exists before its consumers); a config can say one."""
    a = L.Input(shape=(2,), name="in")
    h = L.Dense(2, name="first")(a)
    config = Model(a, L.Dense(2, name="second")(h)).get_config()
    first = next(entry for entry in config["layers"] if entry["name"] == "first")
    first["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["second", 0, 0]
    with pytest.raises(ValueError, match=r"cycle.*'first': 1.*'second': 1"):
        Model.from_config(config)


def test_unused_input_still_belongs_to_the_model():
    """Keras 3 accepts an input no output depends on; its data is taken and ignored."""
    a, b, ha, hb = _two_branches()
    model = Model([a, b], ha)
    assert [layer.name for layer in model.layers][:1] == ["in_a"] and "in_b" in model.input_names
    xs = _inputs(model)
    out, _ = model.apply(model.get_variables(), xs)
    assert out.shape == (BATCH, 2)
