"""fkeras.backend (Keras 2's `K`) against NumPy and Keras 3's keras.ops / keras.random."""

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fkeras.backend as K
from fkeras import _naming

RNG = np.random.default_rng(0)
X = RNG.normal(0, 2, (3, 4)).astype("float32")
Y = RNG.normal(0, 2, (3, 4)).astype("float32")
P = RNG.uniform(0.1, 3, (3, 4)).astype("float32")
X3 = RNG.normal(0, 1, (2, 3, 4)).astype("float32")
B = X > 0
I = np.array([[2, 0, 1, 3], [1, 1, 0, 2], [3, 2, 2, 0]], dtype="int32")  # noqa: E741


@contextlib.contextmanager
def strict_jax():
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield


def check(got, expected, rtol=1e-6, atol=1e-7):
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if expected.dtype == bool or np.issubdtype(expected.dtype, np.integer):
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


# id, fkeras call, reference call (given keras.ops as `ops`). All run with strict JAX promotion.
CASES = [
    ("square", lambda: K.square(X), lambda ops: np.square(X)),
    ("sqrt", lambda: K.sqrt(P), lambda ops: ops.sqrt(P)),
    ("sqrt-negative-is-0", lambda: K.sqrt(X), lambda ops: np.sqrt(np.maximum(X, 0))),
    ("abs", lambda: K.abs(X), lambda ops: ops.abs(X)),
    ("exp", lambda: K.exp(X), lambda ops: ops.exp(X)),
    ("log", lambda: K.log(P), lambda ops: ops.log(P)),
    ("pow-int", lambda: K.pow(X, 3), lambda ops: ops.power(X, 3)),
    ("pow-float", lambda: K.pow(P, 0.5), lambda ops: ops.power(P, 0.5)),
    ("clip", lambda: K.clip(X, -1.0, 1.5), lambda ops: ops.clip(X, -1.0, 1.5)),
    ("clip-none", lambda: K.clip(X, None, 1.0), lambda ops: np.minimum(X, 1.0)),
    ("clip-max<min", lambda: K.clip(X, 1.0, -1.0), lambda ops: np.full_like(X, 1.0)),
    (
        "round-half-even",
        lambda: K.round(jnp.array([0.5, 1.5, 2.5, -0.5, 0.4])),
        lambda ops: ops.round(np.array([0.5, 1.5, 2.5, -0.5, 0.4], "float32")),
    ),
    ("sign", lambda: K.sign(X), lambda ops: ops.sign(X)),
    ("maximum", lambda: K.maximum(X, Y), lambda ops: ops.maximum(X, Y)),
    ("minimum", lambda: K.minimum(X, Y), lambda ops: ops.minimum(X, Y)),
    ("equal", lambda: K.equal(I, 2), lambda ops: ops.equal(I, 2)),
    ("not_equal", lambda: K.not_equal(I, 2), lambda ops: ops.not_equal(I, 2)),
    ("greater", lambda: K.greater(X, Y), lambda ops: ops.greater(X, Y)),
    ("greater_equal", lambda: K.greater_equal(I, 2), lambda ops: ops.greater_equal(I, 2)),
    ("less", lambda: K.less(X, Y), lambda ops: ops.less(X, Y)),
    ("less_equal", lambda: K.less_equal(I, 1), lambda ops: ops.less_equal(I, 1)),
    ("cast", lambda: K.cast(X, "int32"), lambda ops: ops.cast(X, "int32")),
    ("cast-bool", lambda: K.cast(B, "float32"), lambda ops: ops.cast(B, "float32")),
    ("dot-2d", lambda: K.dot(X, Y.T), lambda ops: ops.matmul(X, Y.T)),
    ("transpose", lambda: K.transpose(X3), lambda ops: ops.transpose(X3)),
    ("reshape", lambda: K.reshape(X, (2, 6)), lambda ops: ops.reshape(X, (2, 6))),
    ("reshape-minus-1", lambda: K.reshape(X3, (-1, 4)), lambda ops: ops.reshape(X3, (-1, 4))),
    (
        "permute_dimensions",
        lambda: K.permute_dimensions(X3, (2, 0, 1)),
        lambda ops: ops.transpose(X3, (2, 0, 1)),
    ),
    ("concatenate", lambda: K.concatenate([X, Y]), lambda ops: ops.concatenate([X, Y], axis=-1)),
    (
        "concatenate-0",
        lambda: K.concatenate([X, Y], axis=0),
        lambda ops: ops.concatenate([X, Y], 0),
    ),
    ("stack", lambda: K.stack([X, Y]), lambda ops: ops.stack([X, Y])),
    ("stack-1", lambda: K.stack([X, Y], axis=1), lambda ops: ops.stack([X, Y], axis=1)),
    ("expand_dims", lambda: K.expand_dims(X), lambda ops: ops.expand_dims(X, -1)),
    ("expand_dims-0", lambda: K.expand_dims(X, 0), lambda ops: ops.expand_dims(X, 0)),
    ("squeeze", lambda: K.squeeze(X[:, :1], 1), lambda ops: ops.squeeze(X[:, :1], 1)),
    ("flatten", lambda: K.flatten(X3), lambda ops: X3.reshape(-1)),
    ("batch_flatten", lambda: K.batch_flatten(X3), lambda ops: X3.reshape(2, 12)),
    ("repeat", lambda: K.repeat(X, 3), lambda ops: ops.repeat(X[:, None, :], 3, axis=1)),
    ("repeat_elements", lambda: K.repeat_elements(X3, 2, axis=1), lambda ops: ops.repeat(X3, 2, 1)),
    ("tile", lambda: K.tile(X, (2, 3)), lambda ops: ops.tile(X, (2, 3))),
    ("tile-int", lambda: K.tile(X[0], 2), lambda ops: ops.tile(X[0], 2)),
    ("argmax", lambda: K.argmax(X), lambda ops: ops.argmax(X, axis=-1)),
    ("argmax-0", lambda: K.argmax(X, axis=0), lambda ops: ops.argmax(X, axis=0)),
    ("argmin", lambda: K.argmin(X), lambda ops: ops.argmin(X, axis=-1)),
    ("gather", lambda: K.gather(X, np.array([2, 0, 2])), lambda ops: ops.take(X, [2, 0, 2], 0)),
    ("gather-2d-indices", lambda: K.gather(X, I[:2, :2]), lambda ops: ops.take(X, I[:2, :2], 0)),
    ("one_hot", lambda: K.one_hot(I, 4), lambda ops: ops.one_hot(I, 4)),
    ("softmax", lambda: K.softmax(X), lambda ops: ops.softmax(X)),
    ("softmax-0", lambda: K.softmax(X, axis=0), lambda ops: ops.softmax(X, axis=0)),
    ("sigmoid", lambda: K.sigmoid(X), lambda ops: ops.sigmoid(X)),
    ("hard_sigmoid-keras2", lambda: K.hard_sigmoid(X), lambda ops: np.clip(0.2 * X + 0.5, 0, 1)),
    ("relu", lambda: K.relu(X), lambda ops: ops.relu(X)),
    ("relu-alpha", lambda: K.relu(X, alpha=0.1), lambda ops: np.where(X > 0, X, 0.1 * X)),
    (
        "relu-all",
        lambda: K.relu(X, alpha=0.1, max_value=1.0, threshold=0.5),
        lambda ops: np.where(X > 0.5, np.minimum(X, 1.0), 0.1 * (X - 0.5)),
    ),
    ("elu", lambda: K.elu(X), lambda ops: ops.elu(X)),
    ("elu-alpha", lambda: K.elu(X, 0.5), lambda ops: ops.elu(X, 0.5)),
    ("tanh", lambda: K.tanh(X), lambda ops: ops.tanh(X)),
    ("softplus", lambda: K.softplus(X), lambda ops: ops.softplus(X)),
    ("softsign", lambda: K.softsign(X), lambda ops: ops.softsign(X)),
    (
        "l2_normalize",
        lambda: K.l2_normalize(X, axis=-1),
        lambda ops: X / np.sqrt(np.sum(X**2, axis=-1, keepdims=True)),
    ),
    ("l2_normalize-all", lambda: K.l2_normalize(X), lambda ops: X / np.sqrt(np.sum(X**2))),
    (
        "l2_normalize-zeros",
        lambda: K.l2_normalize(jnp.zeros((2, 3)), axis=1),
        lambda ops: np.zeros((2, 3), "float32"),
    ),
    ("cumsum", lambda: K.cumsum(X), lambda ops: ops.cumsum(X, axis=0)),
    ("cumsum-1", lambda: K.cumsum(X, axis=1), lambda ops: ops.cumsum(X, axis=1)),
    ("cumprod", lambda: K.cumprod(P), lambda ops: ops.cumprod(P, axis=0)),
    ("zeros", lambda: K.zeros((2, 3)), lambda ops: ops.zeros((2, 3))),
    ("ones", lambda: K.ones((2, 3), dtype="int32"), lambda ops: ops.ones((2, 3), "int32")),
    ("zeros_like", lambda: K.zeros_like(X), lambda ops: ops.zeros_like(X)),
    ("ones_like", lambda: K.ones_like(I), lambda ops: ops.ones_like(I)),
    ("eye", lambda: K.eye(3), lambda ops: ops.eye(3)),
    ("eye-rect", lambda: K.eye((2, 3)), lambda ops: ops.eye(2, 3)),
    (
        "constant",
        lambda: K.constant([[1, 2], [3, 4]]),
        lambda ops: np.array([[1, 2], [3, 4]], "float32"),
    ),
    (
        "constant-shape",
        lambda: K.constant(2.5, shape=(2, 2)),
        lambda ops: np.full((2, 2), 2.5, "float32"),
    ),
    (
        "constant-reshape",
        lambda: K.constant([1, 2, 3, 4], shape=(2, 2)),
        lambda ops: np.array([[1, 2], [3, 4]], "float32"),
    ),
    ("reverse", lambda: K.reverse(X, 1), lambda ops: ops.flip(X, 1)),
    ("stop_gradient", lambda: K.stop_gradient(X), lambda ops: X),
    (
        "in_top_k",
        lambda: K.in_top_k(X, np.array([0, 1, 2]), 2),
        lambda ops: ops.in_top_k(np.array([0, 1, 2]), X, 2),
    ),
    (
        "bias_add",
        lambda: K.bias_add(X3, np.arange(4.0, dtype="float32")),
        lambda ops: X3 + np.arange(4.0, dtype="float32"),
    ),
    (
        "bias_add-channels_first",
        lambda: K.bias_add(X3, np.arange(3.0, dtype="float32"), "channels_first"),
        lambda ops: X3 + np.arange(3.0, dtype="float32")[None, :, None],
    ),
]
for _fn in ("mean", "sum", "max", "min", "prod", "std", "var"):
    for _axis, _keep in [(None, False), (0, False), (1, True), ([0, 1], False), (-1, True)]:
        CASES.append(
            (
                f"{_fn}-axis={_axis}-keepdims={_keep}",
                lambda f=_fn, a=_axis, k=_keep: getattr(K, f)(X, axis=a, keepdims=k),
                lambda ops, f=_fn, a=_axis, k=_keep: getattr(ops, f)(
                    X,
                    axis=None if a is None else tuple(a) if isinstance(a, list) else a,
                    keepdims=k,
                ),
            )
        )
for _fn in ("any", "all"):
    for _axis in (None, 0, 1):
        CASES.append(
            (
                f"{_fn}-axis={_axis}",
                lambda f=_fn, a=_axis: getattr(K, f)(B, axis=a),
                lambda ops, f=_fn, a=_axis: getattr(ops, f)(B, axis=a),
            )
        )


@pytest.mark.parametrize("name,ours,reference", CASES, ids=[c[0] for c in CASES])
def test_matches_reference(keras3, name, ours, reference):
    with strict_jax():
        got = ours()
    expected = reference(keras3.ops)
    check(got, expected, rtol=2e-6, atol=1e-6)
    assert np.asarray(got).dtype == np.asarray(expected).dtype or name in ("cast-bool",)


def test_dot_nd_follows_keras2_shape_rule():
    x = RNG.normal(size=(2, 3)).astype("float32")
    y = RNG.normal(size=(4, 3, 5)).astype("float32")
    out = K.dot(x, y)
    assert out.shape == (2, 4, 5)
    check(out, np.einsum("ij,kjl->ikl", x, y), rtol=1e-5)
    x4 = RNG.normal(size=(2, 3, 4)).astype("float32")
    y4 = RNG.normal(size=(5, 4, 6)).astype("float32")
    assert K.dot(x4, y4).shape == (2, 3, 5, 6)


def test_mean_of_predictions_on_a_batch():
    y_pred = jnp.asarray(RNG.uniform(size=(32, 10)).astype("float32"))
    check(K.mean(y_pred), np.mean(np.asarray(y_pred)))
    check(K.mean(y_pred, axis=-1), np.mean(np.asarray(y_pred), axis=-1))
    check(
        jax.jit(lambda y: K.mean(K.square(y - 0.5), axis=-1))(y_pred),
        np.mean((np.asarray(y_pred) - 0.5) ** 2, axis=-1),
        rtol=1e-5,
    )


def test_mean_std_var_of_bool_use_floatx():
    for fn in (K.mean, K.std, K.var):
        assert fn(B).dtype == jnp.float32
    check(K.mean(B), np.mean(B).astype("float32"))


# --- batch_dot --------------------------------------------------------------------------------

BATCH_DOT = [
    ((32, 20, 1), (32, 30, 20), (1, 2), (32, 1, 30)),
    ((4, 5), (4, 5), 1, (4, 1)),
    ((4, 5), (4, 5), None, (4, 1)),
    ((4, 5), (4, 5, 6), None, (4, 6)),
    ((4, 3, 5), (4, 5), None, (4, 3)),
    ((4, 3, 5), (4, 5, 6), None, (4, 3, 6)),
    ((4, 3, 5), (4, 3, 6), 1, (4, 5, 6)),
    ((4, 2, 3, 5), (4, 5, 6, 7), (3, 1), (4, 2, 3, 6, 7)),
    ((4, 2, 3, 5), (4, 7, 3), (2, 2), (4, 2, 5, 7)),
    ((4, 5, 3), (4, 3, 5), (-2, -1), (4, 3, 3)),
]


def _batch_dot_reference(x, y, axes):
    ax, ay = axes
    return np.stack(
        [
            np.tensordot(x[i], y[i], axes=(ax % x.ndim - 1, ay % y.ndim - 1))
            for i in range(x.shape[0])
        ]
    )


@pytest.mark.parametrize("xs,ys,axes,out_shape", BATCH_DOT, ids=str)
def test_batch_dot(xs, ys, axes, out_shape):
    x = RNG.normal(size=xs).astype("float32")
    y = RNG.normal(size=ys).astype("float32")
    with strict_jax():
        out = K.batch_dot(x, y, axes=axes)
    assert out.shape == out_shape
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 1 if y.ndim == 2 else y.ndim - 2)
    elif isinstance(axes, int):
        axes = (axes, axes)
    check(out, _batch_dot_reference(x, y, axes).reshape(out_shape), rtol=1e-5, atol=1e-5)


def test_batch_dot_keras2_docstring_example():
    x = jnp.array([[1.0, 2.0], [3.0, 4.0]])
    y = jnp.array([[5.0, 6.0], [7.0, 8.0]])
    check(K.batch_dot(x, y, axes=1), [[17.0], [53.0]])


@pytest.mark.parametrize(
    "xs,ys,axes,match",
    [
        ((3,), (3, 2), None, "rank < 2"),
        ((3, 2), (4, 2), None, "different batch sizes"),
        ((3, 2), (3, 2), 0, "axis 0"),
        ((3, 2, 4), (3, 5, 2), (1, 1), r"x.shape\[1\] != y.shape\[1\]"),
        ((3, 2), (3, 2), ((1,), (1,)), "Multiple target dimensions"),
    ],
)
def test_batch_dot_errors(xs, ys, axes, match):
    with pytest.raises(ValueError, match=match):
        K.batch_dot(np.ones(xs, "float32"), np.ones(ys, "float32"), axes=axes)


# --- switch -----------------------------------------------------------------------------------


def test_switch():
    check(K.switch(True, X, Y), X)
    check(K.switch(jnp.array(False), lambda: X, lambda: Y), Y)
    check(K.switch(B, X, Y), np.where(B, X, Y))
    rows = np.array([True, False, True])
    check(K.switch(rows, X, Y), np.where(rows[:, None], X, Y))
    check(jax.jit(lambda c: K.switch(c, lambda: jnp.asarray(X), lambda: jnp.asarray(Y)))(True), X)
    check(jax.jit(lambda c, a, b: K.switch(c, a, b))(rows, X, Y), np.where(rows[:, None], X, Y))
    with pytest.raises(ValueError, match=r"ndim\(condition\)=3, ndim\(then_expression\)=2"):
        K.switch(np.ones((1, 1, 1), bool), X, Y)


# --- variables and values ---------------------------------------------------------------------


def test_variable_get_set_value():
    v = K.variable([[1, 2], [3, 4]], name="v")
    assert isinstance(v, K.Variable) and v.dtype == jnp.float32 and v.shape == (2, 2)
    assert v.name == "v"
    np.testing.assert_array_equal(K.get_value(v), [[1, 2], [3, 4]])
    K.set_value(v, np.array([[5, 6], [7, 8]]))
    np.testing.assert_array_equal(K.eval(v), [[5, 6], [7, 8]])
    assert K.get_value(v).dtype == np.float32
    K.batch_set_value([(v, np.zeros((2, 2)))])
    assert K.batch_get_value([v, X])[0].sum() == 0
    check(K.batch_get_value([v, X])[1], X)
    v.assign_add(np.ones((2, 2)))
    v.assign_sub(np.full((2, 2), 0.5))
    np.testing.assert_array_equal(v.numpy(), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match=r"shape \(3,\) to a variable of shape \(2, 2\)"):
        v.assign(np.ones(3))


def test_variable_works_with_backend_ops_numpy_and_jit():
    v = K.variable(X)
    check(K.mean(v), np.mean(X))
    check(v + 1.0, X + 1)
    check(2.0 * v, 2 * X)
    check(1.0 - v, 1 - X)
    check(v @ X.T, X @ X.T, rtol=1e-5, atol=1e-5)
    check(-v, -X)
    check(v[0], X[0])
    check(np.asarray(v), X)
    check(jnp.asarray(v), X)
    check(jax.jit(lambda var: K.sum(var))(v), np.sum(X), rtol=1e-5)
    assert K.int_shape(v) == (3, 4) and K.ndim(v) == 2 and K.dtype(v) == "float32"
    assert K.count_params(v) == 12


def test_set_value_on_an_immutable_array_raises():
    with pytest.raises(TypeError, match=r"`K.variable\(\.\.\.\)`.*Received: x of type ArrayImpl"):
        K.set_value(jnp.zeros(3), [1, 2, 3])


def test_get_value_of_plain_arrays_and_objects_with_numpy():
    check(K.get_value(jnp.asarray(X)), X)

    class HasNumpy:
        def numpy(self):
            return np.array(7.0)

    assert K.get_value(HasNumpy()) == 7.0


def test_introspection():
    assert K.shape(X3) == (2, 3, 4) and K.int_shape(X3) == (2, 3, 4)
    assert K.ndim(X3) == 3 and K.dtype(I) == "int32" and K.dtype(jnp.zeros(2)) == "float32"
    assert K.count_params(X3) == 24
    assert K.int_shape([[1, 2]]) == (1, 2)
    assert jax.jit(lambda x: K.reshape(x, (K.shape(x)[0], -1)))(X3).shape == (2, 12)


def test_config_reexports_and_session():
    assert K.epsilon() == 1e-7 and K.floatx() == "float32"
    assert K.image_data_format() == "channels_last" and K.backend() == "jax"
    K.set_epsilon(1e-5)
    try:
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)
    K.clear_session()
    _naming.uniquify("dense")
    assert _naming.uniquify("dense") == "dense_1"
    K.clear_session()
    assert _naming.uniquify("dense") == "dense"
    K.clear_session()


def test_learning_phase_and_keras_tensor():
    assert K.learning_phase() == 0
    K.set_learning_phase(1)
    assert K.learning_phase() == 0
    with pytest.raises(ValueError, match="Received: value=2"):
        K.set_learning_phase(2)
    assert not K.is_keras_tensor(jnp.zeros(2)) and not K.is_keras_tensor(X)
    from fkeras.graph import KerasTensor

    assert K.is_keras_tensor(KerasTensor((None, 3)))


# --- random -----------------------------------------------------------------------------------


def test_random_seeded_matches_keras3(keras3):
    check(
        K.random_normal((3, 4), mean=1.0, stddev=2.0, seed=5),
        keras3.random.normal((3, 4), mean=1.0, stddev=2.0, seed=5),
    )
    check(
        K.random_uniform((3, 4), -2.0, 3.0, seed=6),
        keras3.random.uniform((3, 4), -2.0, 3.0, seed=6),
    )
    check(
        K.truncated_normal((3, 4), stddev=0.5, seed=7),
        keras3.random.truncated_normal((3, 4), stddev=0.5, seed=7),
    )


def test_random_reproducible_and_statistics():
    np.testing.assert_array_equal(K.random_normal((5,), seed=1), K.random_normal((5,), seed=1))
    assert not np.allclose(K.random_normal((5,), seed=1), K.random_normal((5,), seed=2))
    np.random.seed(3)
    a = K.random_uniform((5,))
    np.random.seed(3)
    np.testing.assert_array_equal(K.random_uniform((5,)), a)
    bern = np.asarray(K.random_bernoulli((20000,), p=0.3, seed=0))
    assert set(np.unique(bern)) <= {0.0, 1.0} and abs(bern.mean() - 0.3) < 0.02
    assert K.random_binomial is K.random_bernoulli
    ints = np.asarray(K.random_uniform((1000,), 0, 5, dtype="int32", seed=0))
    assert ints.dtype == np.int32 and ints.min() == 0 and ints.max() == 4
    normal = np.asarray(K.random_normal((20000,), 2.0, 3.0, seed=0))
    assert abs(normal.mean() - 2.0) < 0.1 and abs(normal.std() - 3.0) < 0.1
    drop = np.asarray(K.dropout(jnp.ones((10000,)), 0.25, seed=0))
    assert (
        set(np.unique(drop)) <= {0.0, np.float32(1 / 0.75)}
        and abs((drop == 0).mean() - 0.25) < 0.02
    )


# --- crossentropies -----------------------------------------------------------------------------

LOGITS = RNG.normal(0, 2, (5, 4)).astype("float32")
PROBS = np.asarray(jax.nn.softmax(LOGITS))
ONEHOT = np.eye(4, dtype="float32")[[0, 3, 1, 1, 2]]
LABELS = np.array([0, 3, 1, 1, 2])
BIN_T = (RNG.uniform(size=(5, 4)) > 0.5).astype("float32")
BIN_P = RNG.uniform(0.0, 1.0, (5, 4)).astype("float32")
BIN_P[0, 0], BIN_P[0, 1] = 0.0, 1.0  # clipped to [eps, 1 - eps]


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropies_match_keras3(keras3, from_logits):
    ops = keras3.ops
    out = LOGITS if from_logits else PROBS
    with strict_jax():
        cce = K.categorical_crossentropy(ONEHOT, out, from_logits=from_logits)
        scce = K.sparse_categorical_crossentropy(LABELS, out, from_logits=from_logits)
        scce_col = K.sparse_categorical_crossentropy(LABELS[:, None], out, from_logits=from_logits)
    check(cce, ops.categorical_crossentropy(ONEHOT, out, from_logits=from_logits), rtol=1e-6)
    check(
        scce, ops.sparse_categorical_crossentropy(LABELS, out, from_logits=from_logits), rtol=1e-6
    )
    check(scce_col, scce)
    bin_out = LOGITS if from_logits else BIN_P
    with strict_jax():
        bce = K.binary_crossentropy(BIN_T, bin_out, from_logits=from_logits)
    check(bce, ops.binary_crossentropy(BIN_T, bin_out, from_logits=from_logits), rtol=1e-6)


def test_crossentropy_axis_and_sequences(keras3):
    ops = keras3.ops
    out_t = np.moveaxis(PROBS, -1, 0)  # classes first
    check(
        K.categorical_crossentropy(ONEHOT.T, out_t, axis=0),
        ops.categorical_crossentropy(ONEHOT.T, out_t, axis=0),
        rtol=1e-6,
    )
    check(
        K.sparse_categorical_crossentropy(LABELS, out_t, axis=0),
        ops.sparse_categorical_crossentropy(LABELS, PROBS),
        rtol=1e-6,
    )
    seq = RNG.normal(size=(2, 3, 4)).astype("float32")
    seq_labels = np.array([[0, 1, 3], [2, 2, 0]])
    check(
        K.sparse_categorical_crossentropy(seq_labels[..., None], seq, from_logits=True),
        ops.sparse_categorical_crossentropy(seq_labels, seq, from_logits=True),
        rtol=1e-6,
    )


def test_sparse_crossentropy_ignore_class():
    labels = np.array([0, 3, -1, 1, -1])
    out = K.sparse_categorical_crossentropy(labels, LOGITS, from_logits=True, ignore_class=-1)
    full = K.sparse_categorical_crossentropy(np.maximum(labels, 0), LOGITS, from_logits=True)
    check(out, np.where(labels == -1, 0.0, np.asarray(full)))


def test_crossentropy_shape_errors():
    with pytest.raises(ValueError, match=r"target.shape=\(5, 3\), output.shape=\(5, 4\)"):
        K.categorical_crossentropy(ONEHOT[:, :3], PROBS)
    with pytest.raises(ValueError, match=r"target.shape=\(4,\)"):
        K.sparse_categorical_crossentropy(LABELS[:4], PROBS)
    with pytest.raises(ValueError, match="same shape"):
        K.binary_crossentropy(BIN_T[:, :2], BIN_P)


def test_crossentropy_under_jit_and_grad():
    loss = jax.jit(lambda t, o: K.mean(K.categorical_crossentropy(t, o, from_logits=True)))
    check(
        loss(ONEHOT, LOGITS),
        np.mean(-np.sum(ONEHOT * np.asarray(jax.nn.log_softmax(LOGITS)), -1)),
        rtol=1e-5,
    )
    grad = jax.grad(lambda o: K.sum(K.binary_crossentropy(BIN_T, o, from_logits=True)))(LOGITS)
    check(grad, np.asarray(jax.nn.sigmoid(LOGITS)) - BIN_T, rtol=1e-5, atol=1e-6)
