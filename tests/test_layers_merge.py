"""Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) and their
function forms: harness checks, Keras 3 parity (outputs, gradients, masks), Hypothesis shape
properties, hand-computed cases and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fkeras.layers._merge as M
from fkeras.layers._input import Input
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_shapes, make_inputs, run_layer_test

keras = pytest.importorskip("keras")

# name -> (factory taking a layers namespace, list of input shapes)
CASES = {
    "add": (lambda m: m.Add(), [(2, 3), (2, 3)]),
    "add_three_rank3": (lambda m: m.Add(), [(2, 4, 3), (2, 4, 3), (2, 4, 3)]),
    "add_broadcast": (lambda m: m.Add(), [(2, 1, 3), (2, 4, 3)]),
    "add_ranks_differ": (lambda m: m.Add(), [(2, 3), (2, 4, 3)]),
    "add_single": (lambda m: m.Add(), [(2, 5)]),
    "subtract": (lambda m: m.Subtract(), [(3, 2, 4), (3, 2, 4)]),
    "subtract_broadcast": (lambda m: m.Subtract(), [(3, 2, 4), (3, 1, 4)]),
    "multiply": (lambda m: m.Multiply(), [(2, 5), (2, 5), (2, 5)]),
    "multiply_ranks_differ": (lambda m: m.Multiply(), [(2, 3, 1), (2, 4)]),
    "average": (lambda m: m.Average(), [(2, 3, 2), (2, 3, 2)]),
    "maximum": (lambda m: m.Maximum(), [(2, 6), (2, 6), (2, 6)]),
    "minimum": (lambda m: m.Minimum(), [(4, 2, 3), (4, 2, 3)]),
    "concat_last": (lambda m: m.Concatenate(), [(2, 3), (2, 5)]),
    "concat_axis1": (lambda m: m.Concatenate(axis=1), [(2, 2, 5), (2, 1, 5), (2, 3, 5)]),
    "concat_axis_neg2_rank4": (lambda m: m.Concatenate(axis=-2), [(2, 3, 1, 2), (2, 3, 4, 2)]),
    "dot_vectors": (lambda m: m.Dot(axes=1), [(3, 4), (3, 4)]),
    "dot_vectors_normalize": (lambda m: m.Dot(axes=-1, normalize=True), [(3, 4), (3, 4)]),
    "dot_axes_pair": (lambda m: m.Dot(axes=(1, 2)), [(2, 3, 5), (2, 6, 3)]),
    "dot_axes_last": (lambda m: m.Dot(axes=-1), [(2, 3, 4), (2, 5, 4)]),
    "dot_rank3_rank2": (lambda m: m.Dot(axes=(2, 1)), [(2, 3, 4), (2, 4)]),
    "dot_rank2_rank3": (lambda m: m.Dot(axes=[1, 1], normalize=True), [(2, 4), (2, 4, 3)]),
    "dot_rank4": (lambda m: m.Dot(axes=(3, 1)), [(2, 2, 3, 4), (2, 4, 5)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness_and_keras_parity(name):
    make, shapes = CASES[name]
    run_layer_test(make(M), shapes, make(keras.layers))


# ---- masks: Keras 3 reads them from the input tensors; fkeras takes them as `mask=` ---------

MASKED = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]
MASK_PATTERNS = {
    "both": (
        np.array([[1, 1, 0, 0], [1, 0, 1, 1]], bool),
        np.array([[1, 0, 1, 0], [0, 0, 1, 1]], bool),
    ),
    "first_only": (np.array([[1, 1, 0, 0], [1, 0, 1, 1]], bool), None),
    "second_only": (None, np.array([[1, 0, 1, 0], [0, 0, 1, 1]], bool)),
}


@pytest.mark.parametrize("pattern", sorted(MASK_PATTERNS))
@pytest.mark.parametrize("cls", MASKED)
def test_masked_merge_matches_keras(cls, pattern):
    from keras.src.backend import get_keras_mask, set_keras_mask

    masks = list(MASK_PATTERNS[pattern])
    xs = make_inputs([(2, 4, 3), (2, 4, 3)], seed=3)
    ours_layer = getattr(M, cls)()
    out, _ = ours_layer.apply({"params": {}, "state": {}}, xs, mask=masks)
    out_mask = ours_layer.compute_mask(xs, masks)

    kx = [jnp.asarray(x) for x in xs]
    for x, m in zip(kx, masks):
        if m is not None:
            set_keras_mask(x, jnp.asarray(m))
    theirs = getattr(keras.layers, cls)()(kx)
    np.testing.assert_allclose(np.asarray(out), np.asarray(theirs), rtol=1e-6, atol=1e-7)
    their_mask = get_keras_mask(theirs)
    if their_mask is None:
        assert out_mask is None
    else:
        np.testing.assert_array_equal(np.asarray(out_mask), np.asarray(their_mask))


def test_masked_multiply_hand_computed():
    x1 = np.array([[[2.0], [3.0]]], "float32")
    x2 = np.array([[[5.0], [7.0]]], "float32")
    masks = [np.array([[True, False]]), np.array([[False, False]])]
    out, _ = M.Multiply().apply({}, [x1, x2], mask=masks)
    # step 0: x2 masked -> counts as 1; step 1: masked in both -> 0
    np.testing.assert_array_equal(np.asarray(out), [[[2.0], [0.0]]])
    np.testing.assert_array_equal(
        np.asarray(M.Multiply().compute_mask([x1, x2], masks)), [[True, False]]
    )


def test_dot_docstring_example():
    x = np.arange(10, dtype="float32").reshape(1, 5, 2)
    y = np.arange(10, 20, dtype="float32").reshape(1, 2, 5)
    out, _ = M.Dot(axes=(1, 2)).apply({}, [x, y])
    np.testing.assert_array_equal(np.asarray(out), [[[260.0, 360.0], [320.0, 445.0]]])


def test_dot_normalize_is_cosine_similarity():
    x = np.array([[3.0, 4.0], [1.0, 0.0]], "float32")
    y = np.array([[4.0, 3.0], [0.0, 2.0]], "float32")
    out, _ = M.Dot(axes=1, normalize=True).apply({}, [x, y])
    np.testing.assert_allclose(np.asarray(out), [[24 / 25], [0.0]], rtol=1e-6)


def test_average_of_ints_is_float():
    out, _ = M.Average().apply({}, [np.array([[1, 2]], "int32"), np.array([[2, 2]], "int32")])
    np.testing.assert_allclose(np.asarray(out), [[1.5, 2.0]])
    spec = M.Average().compute_output_spec([TensorSpec((None, 2), "int32")] * 2)
    assert spec.dtype == str(out.dtype)


# ---- function forms, symbolic calls -------------------------------------------------------

FUNCTIONS = {
    "add": (M.add, M.Add, {}),
    "subtract": (M.subtract, M.Subtract, {}),
    "multiply": (M.multiply, M.Multiply, {}),
    "average": (M.average, M.Average, {}),
    "maximum": (M.maximum, M.Maximum, {}),
    "minimum": (M.minimum, M.Minimum, {}),
    "concatenate": (M.concatenate, M.Concatenate, {"axis": 1}),
    "dot": (M.dot, M.Dot, {"axes": 1}),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_forms_equal_layers(name):
    fn, cls, kwargs = FUNCTIONS[name]
    xs = make_inputs([(2, 3), (2, 3)], seed=1)
    np.testing.assert_array_equal(np.asarray(fn(xs, **kwargs)), np.asarray(cls(**kwargs)(xs)))
    a, b = Input(shape=(3,)), Input(shape=(3,))
    y = fn([a, b], name=f"merge_fn_{name}", **kwargs)
    assert tuple(y.shape) == tuple(cls(**kwargs).compute_output_spec([a.spec, b.spec]).shape)


def test_symbolic_concatenate_shape():
    a, b = Input(shape=(4, 3)), Input(shape=(2, 3))
    y = M.concatenate([a, b], axis=1)
    assert tuple(y.shape) == (None, 6, 3)
    assert tuple(M.Concatenate()([Input(shape=(None,)), Input(shape=(3,))]).shape) == (None, None)


def test_config_roundtrip_keeps_arguments():
    for layer in (M.Concatenate(axis=2), M.Dot(axes=(1, 2), normalize=True), M.Add(name="sum")):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    assert M.Dot(axes=(1, 2)).get_config()["axes"] == [1, 2]


# ---- invalid inputs and arguments ---------------------------------------------------------

INVALID_CALLS = [
    ("concat_mismatch", lambda: M.Concatenate(), [(None, 3, 4), (None, 2, 5)], "matching shapes"),
    ("concat_rank", lambda: M.Concatenate(), [(None, 3, 4), (None, 3)], "same rank"),
    ("concat_axis_range", lambda: M.Concatenate(axis=3), [(None, 3), (None, 3)], "out of range"),
    ("add_incompatible", lambda: M.Add(), [(None, 3), (None, 4)], "broadcast"),
    ("add_batch", lambda: M.Add(), [(2, 3), (5, 3)], "batch sizes"),
    ("subtract_three", lambda: M.Subtract(), [(None, 3)] * 3, "exactly 2"),
    ("dot_three", lambda: M.Dot(1), [(None, 3)] * 3, "exactly 2"),
    ("dot_size", lambda: M.Dot(axes=1), [(None, 3), (None, 4)], "incompatible input shapes"),
    ("dot_batch_axis", lambda: M.Dot(axes=0), [(None, 3), (None, 3)], "batch axis"),
    ("dot_axis_range", lambda: M.Dot(axes=(1, 3)), [(None, 3), (None, 3)], "out of range"),
    ("dot_rank1", lambda: M.Dot(axes=-1), [(None,), (None,)], "rank >= 2"),
]


@pytest.mark.parametrize(
    "name, make, shapes, message", INVALID_CALLS, ids=[c[0] for c in INVALID_CALLS]
)
def test_invalid_inputs_raise_naming_the_layer(name, make, shapes, message):
    layer = make()
    with pytest.raises(ValueError, match=message) as err:
        layer.compute_output_spec([TensorSpec(s) for s in shapes])
    assert layer.name in str(err.value)
    concrete = [tuple(2 if d is None else d for d in s) for s in shapes]
    with pytest.raises(ValueError, match=message):  # the pure apply checks too, before tracing
        layer.apply({}, [np.zeros(s, "float32") for s in concrete])


def test_not_a_list_raises():
    with pytest.raises(ValueError, match="list of tensors"):
        M.Add().compute_output_spec(TensorSpec((None, 3)))
    with pytest.raises(ValueError, match="list of tensors"):
        M.Add()(np.zeros((2, 3)))


def test_symbolic_mismatch_raises_at_graph_build():
    with pytest.raises(ValueError, match=r"\(None, 3\), \(None, 4\)"):
        M.add([Input(shape=(3,)), Input(shape=(4,))])


def test_mask_list_length_checked():
    with pytest.raises(ValueError, match="one entry"):
        M.Add().compute_mask([np.zeros((2, 3))] * 2, [np.ones((2,), bool)])


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: M.Dot(axes="1"), TypeError, "axes='1'"),
        (lambda: M.Dot(axes=(1, 2, 3)), ValueError, r"axes=\(1, 2, 3\)"),
        (lambda: M.Dot(axes=(1.0, 2)), ValueError, "axes="),
        (lambda: M.Concatenate(axis=1.5), TypeError, "axis=1.5"),
        (lambda: M.Add(bogus=1), TypeError, "bogus"),
    ],
)
def test_invalid_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ---- Hypothesis: shape inference agrees with eval_shape and the real output ----------------

ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]


@st.composite
def elementwise_case(draw):
    cls = draw(st.sampled_from(ELEMENTWISE))
    n = 2 if cls == "Subtract" else draw(st.integers(1, 3))
    batch = draw(st.integers(1, 3))
    full = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    shapes = []
    for _ in range(n):
        rank = draw(st.integers(0, len(full)))
        sample = [draw(st.sampled_from([d, 1])) for d in full[len(full) - rank :]]
        shapes.append((batch, *sample))
    return cls, shapes


@given(elementwise_case())
def test_elementwise_shape_property(case):
    cls, shapes = case
    check_shapes(getattr(M, cls)(), shapes)


@st.composite
def concat_case(draw):
    rank = draw(st.integers(2, 4))
    base = [draw(st.integers(1, 3)) for _ in range(rank)]
    axis = draw(st.integers(-rank + 1, rank - 1).filter(lambda a: a % rank != 0))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(base)
        s[axis] = draw(st.integers(1, 4))
        shapes.append(tuple(s))
    return axis, shapes


@given(concat_case())
def test_concatenate_shape_property(case):
    axis, shapes = case
    _, x, out = check_shapes(M.Concatenate(axis=axis), shapes)
    np.testing.assert_array_equal(np.asarray(out), np.concatenate(x, axis=axis))


@st.composite
def dot_case(draw):
    batch, d = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    shapes, axes = [], []
    for _ in range(2):
        rest = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
        pos = draw(st.integers(1, len(rest) + 1))
        shapes.append((batch, *rest[: pos - 1], d, *rest[pos - 1 :]))
        axes.append(pos if draw(st.booleans()) else pos - (len(rest) + 2))
    return axes, draw(st.booleans()), shapes


@given(dot_case())
def test_dot_shape_property(case):
    axes, normalize, shapes = case
    _, (x, y), out = check_shapes(M.Dot(axes=axes, normalize=normalize), shapes)
    if not normalize:
        a0, a1 = axes[0] % x.ndim, axes[1] % y.ndim
        expected = np.stack(
            [np.tensordot(x[i], y[i], axes=(a0 - 1, a1 - 1)) for i in range(len(x))]
        )
        np.testing.assert_allclose(
            np.asarray(out).reshape(expected.shape), expected, rtol=1e-5, atol=1e-6
        )


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
def test_incompatible_shapes_always_raise(a, b, c):
    if a != b:
        with pytest.raises(ValueError, match="Concatenate"):
            M.Concatenate(axis=1).compute_output_spec(
                [TensorSpec((None, 2, a)), TensorSpec((None, c, b))]
            )
    if a != b and 1 not in (a, b):
        with pytest.raises(ValueError, match="Add"):
            M.Add().compute_output_spec([TensorSpec((None, a)), TensorSpec((None, b))])


def test_jit_with_masks():
    xs = make_inputs([(2, 4, 3), (2, 4, 3)], seed=5)
    masks = list(MASK_PATTERNS["both"])
    layer = M.Maximum()
    eager = layer.apply({}, xs, mask=masks)[0]
    jitted = jax.jit(lambda x, m: layer.apply({}, x, mask=m)[0])(xs, masks)
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(jitted))
