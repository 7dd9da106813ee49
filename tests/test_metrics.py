"""Metrics: parity with Keras 3 over several weighted updates, through both the stateful facade
and the pure `init`/`update`/`compute` path under `jax.jit`; lookup, compile-time resolution
and serialization."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fkeras.losses as losses
import fkeras.metrics as metrics

RTOL = ATOL = 1e-6


def _close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def mean_pred(y_true, y_pred):
    return jnp.mean(y_pred)


# ---------------------------------------------------------------------------------------------
# Data: each kind gives one batch (y_true, y_pred) of n samples; edge values included.
# ---------------------------------------------------------------------------------------------


def _probs(rng, shape):
    p = rng.uniform(0, 1, shape).astype(np.float32)
    p.flat[0], p.flat[1] = 0.0, 1.0
    if p.size > 3:
        p.flat[2] = 0.5  # exactly on a threshold
    return p


def _batch(kind, rng, n):
    c = 3
    if kind == "unweighted":  # a scalar per batch takes no per-sample weights (as in Keras)
        return _batch("binary", rng, n)
    if kind == "values":
        return rng.normal(size=(n, c)).astype(np.float32), None
    if kind == "binary":
        return rng.integers(0, 2, (n, 1)).astype(np.float32), _probs(rng, (n, 1))
    if kind == "binary_logits":
        return rng.integers(0, 2, (n, 1)).astype(np.float32), rng.normal(0, 2, (n, 1)).astype(
            np.float32
        )
    if kind == "multilabel":
        return rng.integers(0, 2, (n, c)).astype(np.float32), _probs(rng, (n, c))
    if kind == "int_equal":
        return rng.integers(0, 3, (n, 1)), rng.integers(0, 3, (n, 1)).astype(np.float32)
    if kind in ("onehot", "sparse", "sparse_col"):
        labels = rng.integers(0, c, (n,))
        p = rng.dirichlet(np.ones(c), n).astype(np.float32)
        p[1] = [0.25, 0.25, 0.5]
        p[2] = [0.4, 0.4, 0.2]  # a tie for the top score
        if kind == "onehot":
            return np.eye(c, dtype=np.float32)[labels], p
        return (labels[:, None] if kind == "sparse_col" else labels), p
    if kind == "seg":
        return rng.integers(0, c, (n, 4)), rng.integers(0, c, (n, 4))
    if kind == "regression":
        y = rng.uniform(0.0, 2.0, (n, c)).astype(np.float32)
        y[0, 0] = 0.0
        return y, rng.uniform(0.0, 2.0, (n, c)).astype(np.float32)
    if kind == "distribution":
        return _probs(rng, (n, c)), _probs(rng, (n, c))
    if kind == "hinge01":
        return rng.integers(0, 2, (n, c)).astype(np.float32), rng.normal(size=(n, c)).astype(
            np.float32
        )
    raise AssertionError(kind)


# (id, constructor taking the metrics module, data kind): the registry the parity tests read.
# The same constructor builds the fkeras metric and the Keras 3 one.
METRIC_CASES = [
    ("Mean", lambda M: M.Mean(), "values"),
    ("Sum", lambda M: M.Sum(), "values"),
    ("MeanMetricWrapper-mean_pred", lambda M: M.MeanMetricWrapper(mean_pred, "mp"), "unweighted"),
    ("Accuracy", lambda M: M.Accuracy(), "int_equal"),
    ("BinaryAccuracy", lambda M: M.BinaryAccuracy(threshold=0.4), "binary"),
    ("BinaryAccuracy-multilabel", lambda M: M.BinaryAccuracy(), "multilabel"),
    ("CategoricalAccuracy", lambda M: M.CategoricalAccuracy(), "onehot"),
    ("SparseCategoricalAccuracy", lambda M: M.SparseCategoricalAccuracy(), "sparse"),
    ("SparseCategoricalAccuracy-col", lambda M: M.SparseCategoricalAccuracy(), "sparse_col"),
    ("TopKCategoricalAccuracy", lambda M: M.TopKCategoricalAccuracy(k=2), "onehot"),
    ("SparseTopKCategoricalAccuracy", lambda M: M.SparseTopKCategoricalAccuracy(k=2), "sparse"),
    ("AUC", lambda M: M.AUC(), "binary"),
    ("AUC-few-thresholds", lambda M: M.AUC(num_thresholds=7), "binary"),
    ("AUC-PR", lambda M: M.AUC(curve="PR"), "binary"),
    ("AUC-PR-minoring", lambda M: M.AUC(curve="PR", summation_method="minoring"), "binary"),
    ("AUC-ROC-majoring", lambda M: M.AUC(summation_method="majoring"), "binary"),
    ("AUC-PRGAIN", lambda M: M.AUC(curve="PRGAIN"), "binary"),
    ("AUC-thresholds", lambda M: M.AUC(thresholds=[0.7, 0.2, 0.5]), "binary"),
    ("AUC-even-thresholds", lambda M: M.AUC(thresholds=[0.25, 0.5, 0.75]), "binary"),
    ("AUC-from_logits", lambda M: M.AUC(from_logits=True), "binary_logits"),
    ("AUC-label_weights", lambda M: M.AUC(label_weights=[1.0, 2.0, 0.5]), "multilabel"),
    ("AUC-multi_label", lambda M: M.AUC(multi_label=True), "multilabel"),
    ("AUC-multi_label-PR", lambda M: M.AUC(multi_label=True, curve="PR"), "multilabel"),
    (
        "AUC-multi_label-weights",
        lambda M: M.AUC(multi_label=True, num_labels=3, label_weights=[1.0, 2.0, 3.0]),
        "multilabel",
    ),
    (
        "AUC-multi_label-thresholds",
        lambda M: M.AUC(multi_label=True, thresholds=[0.3, 0.6]),
        "multilabel",
    ),
    ("Precision", lambda M: M.Precision(), "binary"),
    ("Precision-thresholds", lambda M: M.Precision(thresholds=[0.3, 0.6]), "binary"),
    ("Precision-top_k", lambda M: M.Precision(top_k=2), "multilabel"),
    ("Precision-class_id", lambda M: M.Precision(class_id=1), "multilabel"),
    ("Recall", lambda M: M.Recall(), "binary"),
    ("Recall-top_k-class_id", lambda M: M.Recall(top_k=2, class_id=2), "multilabel"),
    ("Recall-thresholds", lambda M: M.Recall(thresholds=[0.0, 0.5, 1.0]), "multilabel"),
    ("TruePositives", lambda M: M.TruePositives(), "binary"),
    ("FalsePositives", lambda M: M.FalsePositives(thresholds=[0.2, 0.8]), "binary"),
    ("TrueNegatives", lambda M: M.TrueNegatives(), "multilabel"),
    ("FalseNegatives", lambda M: M.FalseNegatives(thresholds=[0.0, 0.5, 1.0]), "binary"),
    ("SensitivityAtSpecificity", lambda M: M.SensitivityAtSpecificity(0.5), "binary"),
    ("SpecificityAtSensitivity", lambda M: M.SpecificityAtSensitivity(0.4, 50), "binary"),
    ("PrecisionAtRecall", lambda M: M.PrecisionAtRecall(0.6, num_thresholds=1), "binary"),
    ("RecallAtPrecision", lambda M: M.RecallAtPrecision(0.5, class_id=0), "multilabel"),
    ("MeanIoU", lambda M: M.MeanIoU(num_classes=3), "seg"),
    ("IoU", lambda M: M.IoU(3, [0, 2]), "seg"),
    ("IoU-ignore_class", lambda M: M.IoU(3, [0, 1], ignore_class=2), "seg"),
    ("BinaryIoU", lambda M: M.BinaryIoU(threshold=0.4), "binary"),
    ("OneHotIoU", lambda M: M.OneHotIoU(3, [0, 1]), "onehot"),
    ("OneHotMeanIoU", lambda M: M.OneHotMeanIoU(3), "onehot"),
    ("MeanSquaredError", lambda M: M.MeanSquaredError(), "regression"),
    ("MeanAbsoluteError", lambda M: M.MeanAbsoluteError(), "regression"),
    ("RootMeanSquaredError", lambda M: M.RootMeanSquaredError(), "regression"),
    ("MeanAbsolutePercentageError", lambda M: M.MeanAbsolutePercentageError(), "regression"),
    ("MeanSquaredLogarithmicError", lambda M: M.MeanSquaredLogarithmicError(), "regression"),
    ("CosineSimilarity", lambda M: M.CosineSimilarity(), "regression"),
    ("LogCoshError", lambda M: M.LogCoshError(), "regression"),
    ("KLDivergence", lambda M: M.KLDivergence(), "distribution"),
    ("Poisson", lambda M: M.Poisson(), "regression"),
    ("BinaryCrossentropy", lambda M: M.BinaryCrossentropy(), "multilabel"),
    (
        "BinaryCrossentropy-logits",
        lambda M: M.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        "binary_logits",
    ),
    ("CategoricalCrossentropy", lambda M: M.CategoricalCrossentropy(), "onehot"),
    (
        "CategoricalCrossentropy-smoothing",
        lambda M: M.CategoricalCrossentropy(label_smoothing=0.2),
        "onehot",
    ),
    ("SparseCategoricalCrossentropy", lambda M: M.SparseCategoricalCrossentropy(), "sparse"),
    (
        "SparseCategoricalCrossentropy-ignore",
        lambda M: M.SparseCategoricalCrossentropy(ignore_class=1),
        "sparse",
    ),
    ("Hinge", lambda M: M.Hinge(), "hinge01"),
    ("SquaredHinge", lambda M: M.SquaredHinge(), "hinge01"),
    ("CategoricalHinge", lambda M: M.CategoricalHinge(), "onehot"),
]
IDS = [c[0] for c in METRIC_CASES]

# Three updates: no weights, per-sample weights, (batch, 1) weights on a smaller last batch.
SCHEDULE = [(6, None), (6, "batch"), (4, "batch1")]


def _schedule(kind, integer_weights):
    rng = np.random.default_rng(0)
    batches = []
    for n, weight_kind in SCHEDULE:
        y, p = _batch(kind, rng, n)
        w = None
        if weight_kind and kind != "unweighted":
            shape = (n,) if weight_kind == "batch" else (n, 1)
            if kind == "seg":  # IoU flattens labels and weights alike
                shape = y.shape if weight_kind == "batch" else y.shape + (1,)
            w = (rng.integers(0, 3, shape) if integer_weights else rng.uniform(0, 2, shape))
            w = w.astype(np.float32)
        batches.append((y, p, w))
    return batches


def _args(kind, y, p):
    return (y,) if kind == "values" else (y, p)


@pytest.mark.parametrize("case", METRIC_CASES, ids=IDS)
def test_metric_parity_facade_and_pure_jit(keras3, case):
    _, ctor, kind = case
    ours, theirs = ctor(metrics), ctor(keras3.metrics)
    batches = _schedule(kind, integer_weights="IoU" in case[0])
    for y, p, w in batches:
        ours.update_state(*_args(kind, y, p), sample_weight=w)
        theirs.update_state(*_args(kind, y, p), sample_weight=w)
    want = np.asarray(theirs.result())
    _close(ours.result(), want)

    pure = ctor(metrics)
    pure.build(batches[0][0].shape, batches[0][1].shape if kind != "values" else None)

    @jax.jit  # one compiled function: every update, then the result
    def run(batches):
        state = pure.init()
        for y, p, w in batches:
            state = pure.update(state, *_args(kind, y, p), sample_weight=w)
        return pure.compute(state)

    _close(run(batches), want)


@pytest.mark.parametrize("case", METRIC_CASES[:12], ids=IDS[:12])
def test_reset_state_and_call(keras3, case):
    _, ctor, kind = case
    ours, theirs = ctor(metrics), ctor(keras3.metrics)
    (y, p, _), (y2, p2, _) = _schedule(kind, False)[:2]
    ours.update_state(*_args(kind, y, p))
    ours.reset_states()
    _close(ours(*_args(kind, y2, p2)), theirs(*_args(kind, y2, p2)))
    ours.reset_state()
    _close(ours.result(), ctor(keras3.metrics).result())


def test_state_is_a_pytree_of_zeros_and_jit_does_not_retrace():
    m = metrics.AUC(num_thresholds=5)
    state = m.init()
    assert set(state) == {"true_positives", "false_positives", "true_negatives", "false_negatives"}
    assert all(v.shape == (5,) and not v.any() for v in state.values())
    traces = []

    def step(s, y, p):
        traces.append(1)
        return m.update(s, y, p)

    step = jax.jit(step)
    y, p = _batch("binary", np.random.default_rng(0), 6)
    for _ in range(3):
        state = step(state, y, p)
    assert len(traces) == 1


FUNCTIONS = [
    ("accuracy", {}, "int_equal"),
    ("binary_accuracy", {}, "binary"),
    ("binary_accuracy", {"threshold": 0.7}, "multilabel"),
    ("categorical_accuracy", {}, "onehot"),
    ("sparse_categorical_accuracy", {}, "sparse"),
    ("sparse_categorical_accuracy", {}, "sparse_col"),
    ("top_k_categorical_accuracy", {"k": 1}, "onehot"),
    ("sparse_top_k_categorical_accuracy", {"k": 2}, "sparse_col"),
]


@pytest.mark.parametrize("name,kwargs,kind", FUNCTIONS)
def test_metric_function_parity(keras3, name, kwargs, kind):
    y, p = _batch(kind, np.random.default_rng(1), 6)
    from keras.src.metrics import accuracy_metrics

    got = getattr(metrics, name)(y, p, **kwargs)
    want = getattr(accuracy_metrics, name)(y, p, **kwargs)
    assert got.shape == want.shape
    _close(got, want)


def test_argmax_prefers_positive_zero_like_keras_on_cpu(keras3):
    y = np.array([[0.0, 1.0]], np.float32)
    p = np.array([[-0.0, 0.0]], np.float32)
    _close(metrics.categorical_accuracy(y, p), keras3.metrics.categorical_accuracy(y, p))


def test_output_mask_matches_keras_mask(keras3):
    from keras.src.backend import set_keras_mask

    rng = np.random.default_rng(2)
    y, p = rng.normal(size=(3, 5, 2)).astype(np.float32), rng.normal(size=(3, 5, 2))
    mask = np.ones((3, 5), bool)
    mask[0, 2:] = False
    for w in (None, rng.uniform(size=(3, 1)).astype(np.float32)):
        p_keras = jnp.asarray(p, jnp.float32)
        set_keras_mask(p_keras, jnp.asarray(mask))
        theirs = keras3.metrics.MeanSquaredError()
        theirs.update_state(y, p_keras, sample_weight=w)
        ours = metrics.MeanSquaredError()
        state = ours.update(ours.init(), y, p.astype(np.float32), sample_weight=w, mask=mask)
        _close(ours.compute(state), theirs.result())


# ---------------------------------------------------------------------------------------------
# Lookup, compile-time resolution and serialization
# ---------------------------------------------------------------------------------------------

KERAS_NAMES = ["mse", "MAE", "accuracy", "binary_accuracy", "auc", "AUC", "kl_divergence", "bce",
               "root_mean_squared_error", "categorical_crossentropy", "Precision", "mean_io_u",
               "top_k_categorical_accuracy", "logcosh"]  # fmt: skip


@pytest.mark.parametrize("identifier", KERAS_NAMES)
def test_get_names_like_keras(keras3, identifier):
    ours = metrics.get(identifier) if identifier != "mean_io_u" else metrics.MeanIoU(3)
    if identifier == "logcosh":  # A Keras 2 name that Keras 3's table lacks.
        theirs = keras3.metrics.LogCoshError()
    elif identifier == "mean_io_u":
        theirs = keras3.metrics.MeanIoU(3)
    else:
        theirs = keras3.metrics.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name.split("_")[0] == theirs.name.split("_")[0]


def test_get_callables_classes_and_instances():
    m = metrics.get(mean_pred)
    assert isinstance(m, metrics.MeanMetricWrapper) and m.name == "mean_pred"
    auc = metrics.AUC()
    assert metrics.get(auc) is auc
    assert isinstance(metrics.get(metrics.Recall), metrics.Recall)
    assert metrics.get(None) is None
    assert metrics.get(metrics.binary_accuracy).name == "binary_accuracy"
    assert metrics.get(losses.mean_squared_error).name == "mean_squared_error"
    assert metrics.get("huber").name == "huber"


def test_mean_pred_is_averaged_per_batch_like_keras(keras3):
    ours = metrics.get_compile_metric(mean_pred, (None, 1), (None, 1))
    theirs = keras3.metrics.MeanMetricWrapper(mean_pred)
    rng = np.random.default_rng(3)
    for n in (6, 6, 2):
        y, p = _batch("binary", rng, n)
        ours.update_state(y, p)
        theirs.update_state(y, p)
    assert ours.name == "mean_pred"
    _close(ours.result(), theirs.result())


@pytest.mark.parametrize("bad", ["acuracy", "mean_sqared_error", "zzz"])
def test_unknown_metric_raises_with_the_name(bad):
    with pytest.raises(ValueError, match=bad):
        metrics.get(bad)
    with pytest.raises(ValueError, match=bad):
        metrics.get_compile_metric(bad, (None, 1), (None, 1))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XYZ")
    with pytest.raises(ValueError, match="thresholds"):
        metrics.Precision(thresholds=[1.5])
    with pytest.raises(ValueError, match="multi_label"):
        metrics.AUC(multi_label=True).init()
    with pytest.raises(ValueError, match="Expected a metric"):
        metrics.get_compile_metric(None, (None, 1), (None, 1))


B2 = metrics.BinaryAccuracy
CAT = metrics.CategoricalAccuracy
SP = metrics.SparseCategoricalAccuracy
RESOLUTION = [  # identifier, y_true shape, y_pred shape, loss, expected class
    ("accuracy", (None, 1), (None, 1), None, B2),
    ("acc", (None, 1), (None, 1), None, B2),
    ("accuracy", (None,), (None, 10), None, SP),
    ("accuracy", (None, 1), (None, 10), None, SP),
    ("accuracy", (None, 10), (None, 10), None, CAT),
    ("Accuracy", (None, 5, 3), (None, 5, 3), None, CAT),
    ("ACC", (None, 5), (None, 5, 3), None, SP),
    ("accuracy", None, (None, 4), None, CAT),
    ("accuracy", (None, 10), (None, 10), "binary_crossentropy", B2),
    ("acc", (None, 10), (None, 10), losses.BinaryCrossentropy(), B2),
    ("acc", (None, 10), (None, 10), losses.binary_crossentropy, B2),
    ("accuracy", (None, 10), (None, 10), "sparse_categorical_crossentropy", SP),
    ("accuracy", (None, 10), (None, 10), "categorical_crossentropy", CAT),
    ("accuracy", (None, 1), (None, 1), "categorical_crossentropy", B2),
    ("accuracy", (None, 10), (None, 10), "mse", CAT),
    ("ce", (None, 1), (None, 1), None, metrics.BinaryCrossentropy),
    ("crossentropy", (None,), (None, 4), None, metrics.SparseCategoricalCrossentropy),
    ("ce", (None, 4), (None, 4), None, metrics.CategoricalCrossentropy),
    ("mse", (None, 1), (None, 1), None, metrics.MeanSquaredError),
    ("mae", (None, 1), (None, 1), "binary_crossentropy", metrics.MeanAbsoluteError),
]


@pytest.mark.parametrize("identifier,t_shape,p_shape,loss,expected", RESOLUTION)
def test_compile_resolution_keeps_the_written_name(identifier, t_shape, p_shape, loss, expected):
    m = metrics.get_compile_metric(identifier, t_shape, p_shape, loss=loss)
    assert type(m) is expected
    assert m.name == identifier


@pytest.mark.parametrize("row", [r for r in RESOLUTION if r[3] is None and r[1] is not None])
def test_compile_resolution_matches_keras_shape_rule(keras3, row):
    from keras.src.trainers.compile_utils import get_metric

    identifier, t_shape, p_shape, _, _ = row
    if identifier.lower() in ("ce", "crossentropy"):
        pytest.skip("Keras 3 resolves 'ce' for losses only")
    theirs = get_metric(identifier, keras3.KerasTensor(t_shape), keras3.KerasTensor(p_shape))
    ours = metrics.get_compile_metric(identifier, t_shape, p_shape)
    assert (type(ours).__name__, ours.name) == (type(theirs).__name__, theirs.name)


def test_compile_builds_multi_label_auc():
    m = metrics.get_compile_metric(metrics.AUC(multi_label=True), (None, 4), (None, 4))
    assert m.init()["true_positives"].shape == (200, 4)


def _plain(config):
    return {k: (np.asarray(v).tolist() if hasattr(v, "shape") else v) for k, v in config.items()}


@pytest.mark.parametrize("case", METRIC_CASES, ids=IDS)
def test_serialize_round_trip_and_keras_config(keras3, case):
    _, ctor, _ = case
    ours = ctor(metrics)
    config = metrics.serialize(ours)
    again = metrics.deserialize(config, custom_objects={"mean_pred": mean_pred})
    assert type(again) is type(ours)
    assert again.get_config() == ours.get_config()
    if type(ours) is metrics.MeanMetricWrapper:
        return  # Keras serializes the function object itself
    # Our config holds Keras's keys with Keras's values (auto names differ by counter suffix).
    keras_config = _plain(ctor(keras3.metrics).get_config())
    ours_config = _plain(ours.get_config())
    keras_config.pop("name"), ours_config.pop("name")
    assert {k: ours_config[k] for k in keras_config} == keras_config


def test_deserialize_keras_format_and_wrapper_functions(keras3):
    keras_config = keras3.metrics.serialize(keras3.metrics.AUC(curve="PR", num_thresholds=50))
    m = metrics.deserialize(keras_config)
    assert isinstance(m, metrics.AUC) and m.curve == "PR" and m.num_thresholds == 50
    wrapper = metrics.MeanMetricWrapper(metrics.binary_accuracy, name="ba", threshold=0.3)
    again = metrics.deserialize(metrics.serialize(wrapper))
    assert again._fn is metrics.binary_accuracy and again.get_config() == wrapper.get_config()
    config = metrics.serialize(metrics.MeanMetricWrapper(mean_pred))
    with pytest.raises(ValueError, match="mean_pred"):
        metrics.deserialize(config)
    assert metrics.deserialize(config, {"mean_pred": mean_pred})._fn is mean_pred
