"""Losses: parity with Keras 3 (functions, classes, every reduction and sample-weight shape),
jit, lookup and serialization."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fkeras.losses as losses

RTOL = ATOL = 1e-6
B, D = 6, 4
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------
# Inputs: each kind gives (y_true, y_pred) as float32 numpy arrays, with edge values.
# ---------------------------------------------------------------------------------------------


def _probs(rng, shape):
    p = rng.uniform(0.0, 1.0, shape).astype(np.float32)
    p.flat[0], p.flat[1], p.flat[-1] = 0.0, 1.0, 0.5  # clipping edges
    return p


def _inputs(kind, seed=0, shape=(B, D)):
    rng = np.random.default_rng(seed)
    if kind == "regression":
        y = rng.normal(size=shape).astype(np.float32)
        p = rng.normal(size=shape).astype(np.float32)
        y.flat[0] = 0.0  # MAPE's epsilon guard
        return y, p
    if kind == "positive":
        y = rng.uniform(0, 3, shape).astype(np.float32)
        y.flat[0] = 0.0
        return y, rng.uniform(0, 3, shape).astype(np.float32)
    if kind == "binary":
        return rng.integers(0, 2, shape).astype(np.float32), _probs(rng, shape)
    if kind == "logits":
        return rng.integers(0, 2, shape).astype(np.float32), rng.normal(0, 3, shape).astype(
            np.float32
        )
    if kind in ("onehot", "onehot_logits"):
        y = np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], shape[:-1])]
        if kind == "onehot_logits":
            return y, rng.normal(0, 3, shape).astype(np.float32)
        p = rng.uniform(0, 1, shape).astype(np.float32)
        p.flat[0] = 0.0
        p[1] = 0.0
        p[1, 0] = 1.0  # a row with exact 0s and a 1
        return y, p
    if kind in ("sparse", "sparse_logits"):
        y = rng.integers(0, shape[-1], shape[:-1]).astype(np.float32)
        _, p = _inputs("onehot_logits" if kind == "sparse_logits" else "onehot", seed, shape)
        return y, p
    if kind == "hinge01":
        return rng.integers(0, 2, shape).astype(np.float32), rng.normal(size=shape).astype(
            np.float32
        )
    if kind == "hinge_pm1":
        y = rng.choice([-1.0, 1.0], shape).astype(np.float32)
        return y, rng.normal(size=shape).astype(np.float32)
    if kind == "distribution":
        y = rng.uniform(0, 1, shape).astype(np.float32)
        y.flat[0] = 0.0
        return y, _probs(rng, shape)
    raise AssertionError(kind)


# (fkeras/keras function name, kwargs, input kind): the registry every parity test reads.
FUNCTION_CASES = [
    ("mean_squared_error", {}, "regression"),
    ("mean_absolute_error", {}, "regression"),
    ("mean_absolute_percentage_error", {}, "regression"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("cosine_similarity", {}, "regression"),
    ("cosine_similarity", {"axis": 0}, "regression"),
    ("huber", {}, "regression"),
    ("huber", {"delta": 0.3}, "regression"),
    ("log_cosh", {}, "regression"),
    ("hinge", {}, "hinge01"),
    ("hinge", {}, "hinge_pm1"),
    ("squared_hinge", {}, "hinge01"),
    ("squared_hinge", {}, "hinge_pm1"),
    ("categorical_hinge", {}, "onehot"),
    ("kl_divergence", {}, "distribution"),
    ("poisson", {}, "positive"),
    ("binary_crossentropy", {}, "binary"),
    ("binary_crossentropy", {"label_smoothing": 0.2}, "binary"),
    ("binary_crossentropy", {"from_logits": True}, "logits"),
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("binary_crossentropy", {"axis": 0}, "binary"),
    ("binary_focal_crossentropy", {}, "binary"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True, "alpha": 0.4}, "binary"),
    ("binary_focal_crossentropy", {"from_logits": True, "gamma": 1.5}, "logits"),
    ("binary_focal_crossentropy", {"label_smoothing": 0.2}, "binary"),
    ("categorical_crossentropy", {}, "onehot"),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, "onehot"),
    ("categorical_crossentropy", {"from_logits": True}, "onehot_logits"),
    ("categorical_crossentropy", {"axis": 0}, "onehot"),
    ("categorical_focal_crossentropy", {}, "onehot"),
    ("categorical_focal_crossentropy", {"from_logits": True, "alpha": 0.5}, "onehot_logits"),
    ("categorical_focal_crossentropy", {"label_smoothing": 0.1, "gamma": 3.0}, "onehot"),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse_logits"),
]

# (fkeras/keras class name, kwargs, input kind)
CLASS_CASES = [
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("Huber", {"delta": 0.5}, "regression"),
    ("LogCosh", {}, "regression"),
    ("Hinge", {}, "hinge01"),
    ("SquaredHinge", {}, "hinge_pm1"),
    ("CategoricalHinge", {}, "onehot"),
    ("KLDivergence", {}, "distribution"),
    ("Poisson", {}, "positive"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True}, "binary"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot_logits"),
    ("CategoricalFocalCrossentropy", {}, "onehot"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse"),
]


def _weights(kind, rng, batch_shape):
    if kind is None:
        return None
    if kind == "scalar":
        return np.float32(1.7)
    if kind == "batch":
        return rng.uniform(0, 2, batch_shape[:1]).astype(np.float32)
    if kind == "batch1":
        return rng.uniform(0, 2, batch_shape[:1] + (1,)).astype(np.float32)
    if kind == "full":
        return rng.uniform(0, 2, batch_shape).astype(np.float32)
    raise AssertionError(kind)


def _case_id(case):
    name, kwargs, kind = case
    return f"{name}-{kind}-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", FUNCTION_CASES, ids=_case_id)
def test_function_parity(keras3, case):
    name, kwargs, kind = case
    y, p = _inputs(kind)
    if kwargs.get("axis") == 0 and kind.startswith("onehot"):
        y, p = y.T.copy(), p.T.copy()
    _close(getattr(losses, name)(y, p, **kwargs), getattr(keras3.losses, name)(y, p, **kwargs))


@pytest.mark.parametrize("case", FUNCTION_CASES[:4] + FUNCTION_CASES[16:20], ids=_case_id)
def test_function_parity_temporal(keras3, case):
    name, kwargs, kind = case
    y, p = _inputs(kind, seed=3, shape=(3, 5, 2))
    out = getattr(losses, name)(y, p, **kwargs)
    assert out.shape == (3, 5)
    _close(out, getattr(keras3.losses, name)(y, p, **kwargs))


@pytest.mark.parametrize("case", CLASS_CASES, ids=_case_id)
def test_class_parity_all_reductions_and_weights(keras3, case):
    name, kwargs, kind = case
    rng = np.random.default_rng(1)
    y, p = _inputs(kind, seed=2)
    values_shape = (B,)
    for reduction in REDUCTIONS:
        ours = getattr(losses, name)(reduction=reduction, **kwargs)
        theirs = getattr(keras3.losses, name)(reduction=reduction, **kwargs)
        for weight_kind in (None, "scalar", "batch", "batch1"):
            w = _weights(weight_kind, rng, values_shape)
            got, want = ours(y, p, sample_weight=w), theirs(y, p, sample_weight=w)
            assert got.shape == want.shape, (reduction, weight_kind)
            _close(got, want)
    # Unreduced values are what Keras's wrapper computes.
    _close(ours.call(y, p), theirs.call(keras3.ops.convert_to_tensor(y), p))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_kind", [None, "scalar", "batch1", "full"])
def test_temporal_values_parity(keras3, reduction, weight_kind):
    rng = np.random.default_rng(4)
    y, p = _inputs("regression", shape=(3, 5, 2))
    w = _weights(weight_kind, rng, (3, 5))
    got = losses.MeanSquaredError(reduction=reduction)(y, p, sample_weight=w)
    want = keras3.losses.MeanSquaredError(reduction=reduction)(y, p, sample_weight=w)
    _close(got, want)


def test_per_sample_weights_broadcast_over_timesteps():
    # Keras 3 raises on (batch,) weights against (batch, timesteps) values; fkeras broadcasts
    # them as Keras 2 did, which equals giving the weights shape (batch, 1).
    y, p = _inputs("regression", shape=(3, 5, 2))
    w = np.array([0.5, 1.0, 2.0], np.float32)
    loss = losses.MeanSquaredError()
    _close(loss(y, p, sample_weight=w), loss(y, p, sample_weight=w[:, None]))


@pytest.mark.parametrize("shape_pair", [((B,), (B, 1)), ((B, 1), (B,)), ((B, 1), (B, 1))])
def test_rank_mismatch_squeezed_like_keras(keras3, shape_pair):
    y, p = _inputs("binary", shape=(B, 1))
    y, p = y.reshape(shape_pair[0]), p.reshape(shape_pair[1])
    for name in ("BinaryCrossentropy", "MeanSquaredError", "Hinge"):
        _close(getattr(losses, name)()(y, p), getattr(keras3.losses, name)()(y, p))


def test_sparse_labels_with_trailing_axis_and_int_dtype(keras3):
    y, p = _inputs("sparse")
    for labels in (y.astype(np.int32), y[:, None], y[:, None].astype(np.int64)):
        _close(
            losses.SparseCategoricalCrossentropy()(labels, p),
            keras3.losses.SparseCategoricalCrossentropy()(labels, p),
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignore_class_masks_like_keras(keras3, reduction):
    rng = np.random.default_rng(5)
    y, p = _inputs("sparse_logits", shape=(4, 3, 5))
    y[0, 0], y[2, 1] = 4, 4
    for w in (None, rng.uniform(0, 2, (4, 3)).astype(np.float32)):
        kw = {"from_logits": True, "ignore_class": 4, "reduction": reduction}
        got = losses.SparseCategoricalCrossentropy(**kw)(y, p, sample_weight=w)
        want = keras3.losses.SparseCategoricalCrossentropy(**kw)(y, p, sample_weight=w)
        _close(got, want)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_output_mask_matches_keras_mask(keras3, reduction):
    from keras.src.backend import set_keras_mask

    y, p = _inputs("regression", shape=(3, 5, 2))
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = False
    mask[2, 1:] = False
    p_keras = jnp.asarray(p)
    set_keras_mask(p_keras, jnp.asarray(mask))
    want = keras3.losses.MeanSquaredError(reduction=reduction)(y, p_keras)
    got = losses.MeanSquaredError(reduction=reduction)(y, p, mask=mask)
    _close(got, want)


def test_jit_matches_eager():
    w = np.linspace(0, 1, B).astype(np.float32)
    for name, kwargs, kind in CLASS_CASES:
        loss = getattr(losses, name)(**kwargs)
        y, p = _inputs(kind, seed=7)
        _close(jax.jit(loss.__call__)(y, p, w), loss(y, p, sample_weight=w))


def test_grad_is_finite_at_probability_edges():
    y, p = _inputs("onehot")
    for fn in (losses.categorical_crossentropy, losses.binary_crossentropy):
        g = jax.grad(lambda q: jnp.sum(fn(y, q)))(jnp.asarray(p))
        assert bool(jnp.all(jnp.isfinite(g)))
    y, p = _inputs("sparse")
    g = jax.grad(
        lambda q: losses.SparseCategoricalCrossentropy(ignore_class=1)(y, q)
    )(jnp.asarray(p))
    assert bool(jnp.all(jnp.isfinite(g)))


def test_reduce_values_equals_loss_call():
    y, p = _inputs("regression", shape=(3, 5, 2))
    w = np.random.default_rng(0).uniform(size=(3, 5)).astype(np.float32)
    for reduction in REDUCTIONS:
        loss = losses.Huber(reduction=reduction)
        _close(losses.reduce_values(loss.call(y, p), w, reduction), loss(y, p, sample_weight=w))


def test_reduce_values_scalar_and_empty_pass_through():
    assert losses.reduce_values(jnp.float32(3.0)).shape == ()
    assert losses.reduce_values(jnp.zeros((0,))).shape == (0,)


# ---------------------------------------------------------------------------------------------
# Lookup and serialization
# ---------------------------------------------------------------------------------------------

GET_TABLE = [  # (identifier, fkeras name, Keras 3 reference: a function or class name)
    ("mse", "mean_squared_error", "mean_squared_error"),
    ("MSE", "mean_squared_error", "mean_squared_error"),
    ("mean_squared_error", "mean_squared_error", "mean_squared_error"),
    ("mae", "mean_absolute_error", "mean_absolute_error"),
    ("MAPE", "mean_absolute_percentage_error", "mean_absolute_percentage_error"),
    ("msle", "mean_squared_logarithmic_error", "mean_squared_logarithmic_error"),
    ("bce", "binary_crossentropy", "binary_crossentropy"),
    ("binary_crossentropy", "binary_crossentropy", "binary_crossentropy"),
    ("categorical_crossentropy", "categorical_crossentropy", "categorical_crossentropy"),
    ("kld", "kl_divergence", "kl_divergence"),
    ("kullback_leibler_divergence", "kl_divergence", "kl_divergence"),
    ("logcosh", "log_cosh", "log_cosh"),
    ("hinge", "hinge", "hinge"),
    ("cosine_proximity", "cosine_similarity", "cosine_similarity"),
    ("Huber", "huber_loss", "Huber"),
    ("CategoricalCrossentropy", "categorical_crossentropy", "CategoricalCrossentropy"),
]


@pytest.mark.parametrize("identifier,name,reference", GET_TABLE)
def test_get_names(keras3, identifier, name, reference):
    from keras.src.losses.losses import LossFunctionWrapper

    loss = losses.get(identifier)
    assert isinstance(loss, losses.Loss)
    assert loss.name == name
    ref = getattr(keras3.losses, reference)
    ref = ref() if isinstance(ref, type) else LossFunctionWrapper(ref)
    y, p = _inputs("binary")
    _close(loss(y, p), ref(y, p))


def test_get_passthrough_callable_none_and_class():
    loss = losses.Poisson()
    assert losses.get(loss) is loss
    assert losses.get(None) is None
    assert isinstance(losses.get(losses.Huber), losses.Huber)

    def my_loss(y_true, y_pred):
        return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)

    wrapped = losses.get(my_loss)
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "my_loss"
    y, p = _inputs("regression")
    _close(wrapped(y, p), losses.mean_absolute_error(y, p).mean())


def test_get_dict_identifiers(keras3):
    loss = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(loss, losses.CategoricalCrossentropy) and loss.from_logits
    keras_config = keras3.losses.serialize(keras3.losses.BinaryCrossentropy(label_smoothing=0.2))
    loss = losses.get(keras_config)
    assert loss.get_config() == keras_config["config"]


@pytest.mark.parametrize("bad", ["mean_sqared_error", "categorical_crossentropyy", "nope"])
def test_unknown_names_raise_with_the_name(bad):
    with pytest.raises(ValueError, match=bad) as err:
        losses.get(bad)
    if bad != "nope":
        assert "Did you mean" in str(err.value)


def test_bad_identifier_types_raise():
    with pytest.raises(ValueError, match="loss"):
        losses.get(3)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_auto_reduction_is_keras2_default():
    assert losses.MeanSquaredError(reduction="auto").reduction == "sum_over_batch_size"


@pytest.mark.parametrize("case", CLASS_CASES, ids=_case_id)
def test_serialize_round_trip_and_keras_config(keras3, case):
    name, kwargs, _ = case
    loss = getattr(losses, name)(reduction="sum", **kwargs)
    config = losses.serialize(loss)
    assert config["class_name"] == name
    again = losses.deserialize(config)
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    # Our config holds at least Keras's keys, with Keras's values.
    keras_config = getattr(keras3.losses, name)(reduction="sum", **kwargs).get_config()
    assert {k: loss.get_config()[k] for k in keras_config} == keras_config


def test_serialize_function_and_wrapper_round_trip():
    config = losses.serialize(losses.mean_squared_error)
    assert config["class_name"] == "function" and config["config"] == "mean_squared_error"
    assert losses.deserialize(config) is losses.mean_squared_error
    wrapper = losses.LossFunctionWrapper(losses.huber, reduction="sum", name="h", delta=0.5)
    again = losses.deserialize(losses.serialize(wrapper))
    assert again.fn is losses.huber and again.get_config() == wrapper.get_config()


def test_deserialize_custom_objects():
    def my_loss(y_true, y_pred):
        return y_pred - y_true

    config = losses.serialize(losses.LossFunctionWrapper(my_loss))
    with pytest.raises(ValueError, match="my_loss"):
        losses.deserialize(config)
    assert losses.deserialize(config, custom_objects={"my_loss": my_loss}).fn is my_loss


@pytest.mark.parametrize(
    "y_true_shape,y_pred_shape,expected",
    [
        ((None, 1), (None, 1), losses.binary_crossentropy),
        ((None,), (None, 10), losses.sparse_categorical_crossentropy),
        ((None, 1), (None, 10), losses.sparse_categorical_crossentropy),
        ((None, 10), (None, 10), losses.categorical_crossentropy),
    ],
)
def test_get_compile_loss_crossentropy_shorthand(y_true_shape, y_pred_shape, expected):
    loss = losses.get_compile_loss("ce", y_true_shape, y_pred_shape)
    assert loss.fn is expected and loss.name == "ce"
