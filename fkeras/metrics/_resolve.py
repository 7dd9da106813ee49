"""Metric lookup: names, configs and callables to `Metric` objects, and `model.compile`'s
resolution of `"accuracy"`/`"acc"` and `"crossentropy"`/`"ce"` from shapes and the loss."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from fkeras import _custom_objects
from fkeras import losses as _losses
from fkeras._naming import to_snake_case
from fkeras.metrics import _accuracy, _auc, _base, _confusion, _iou, _probabilistic, _regression

Metric = _base.Metric
MeanMetricWrapper = _base.MeanMetricWrapper

_CLASSES: list[type] = [
    _base.Metric, _base.Mean, _base.Sum, _base.MeanMetricWrapper,
    _accuracy.Accuracy, _accuracy.BinaryAccuracy, _accuracy.CategoricalAccuracy,
    _accuracy.SparseCategoricalAccuracy, _accuracy.TopKCategoricalAccuracy,
    _accuracy.SparseTopKCategoricalAccuracy,
    _regression.MeanSquaredError, _regression.MeanAbsoluteError,
    _regression.MeanAbsolutePercentageError, _regression.MeanSquaredLogarithmicError,
    _regression.RootMeanSquaredError, _regression.CosineSimilarity, _regression.LogCoshError,
    _probabilistic.KLDivergence, _probabilistic.Poisson, _probabilistic.BinaryCrossentropy,
    _probabilistic.CategoricalCrossentropy, _probabilistic.SparseCategoricalCrossentropy,
    _probabilistic.Hinge, _probabilistic.SquaredHinge, _probabilistic.CategoricalHinge,
    _confusion.TruePositives, _confusion.FalsePositives, _confusion.TrueNegatives,
    _confusion.FalseNegatives, _confusion.Precision, _confusion.Recall,
    _confusion.SensitivityAtSpecificity, _confusion.SpecificityAtSensitivity,
    _confusion.PrecisionAtRecall, _confusion.RecallAtPrecision, _auc.AUC,
    _iou.IoU, _iou.BinaryIoU, _iou.MeanIoU, _iou.OneHotIoU, _iou.OneHotMeanIoU,
]  # fmt: skip

# Keras 3's table: class names, their snake_case, and short names; then Keras 2 spellings.
_BY_NAME: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update(
    bce=_probabilistic.BinaryCrossentropy, BCE=_probabilistic.BinaryCrossentropy,
    mse=_regression.MeanSquaredError, MSE=_regression.MeanSquaredError,
    mae=_regression.MeanAbsoluteError, MAE=_regression.MeanAbsoluteError,
    mape=_regression.MeanAbsolutePercentageError, MAPE=_regression.MeanAbsolutePercentageError,
    msle=_regression.MeanSquaredLogarithmicError, MSLE=_regression.MeanSquaredLogarithmicError,
    acc=_accuracy.Accuracy, kld=_probabilistic.KLDivergence, KLD=_probabilistic.KLDivergence,
    kullback_leibler_divergence=_probabilistic.KLDivergence,
    logcosh=_regression.LogCoshError, log_cosh=_regression.LogCoshError,
)

# Metric functions, by the name `serialize` writes for them.
_FUNCTIONS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (
        _accuracy.accuracy, _accuracy.binary_accuracy, _accuracy.categorical_accuracy,
        _accuracy.sparse_categorical_accuracy, _accuracy.top_k_categorical_accuracy,
        _accuracy.sparse_top_k_categorical_accuracy, _regression.cosine_similarity,
    )
}  # fmt: skip

# Names with no metric class: the mean of the loss function of that name.
_WRAPPED_LOSSES: dict[str, Callable] = {
    "huber": _losses.huber,
    "binary_focal_crossentropy": _losses.binary_focal_crossentropy,
    "categorical_focal_crossentropy": _losses.categorical_focal_crossentropy,
    "cosine_proximity": _losses.cosine_similarity,
}


def _all_names() -> list[str]:
    return [*_BY_NAME, *_WRAPPED_LOSSES]


def deserialize_function(config, custom_objects: dict | None = None) -> Callable:
    """The metric or loss function a function config (or name) refers to."""
    name = config.get("config") if isinstance(config, dict) else config
    custom_objects = _custom_objects.merged(custom_objects)
    if name in custom_objects:
        return custom_objects[name]
    if name in _FUNCTIONS:
        return _FUNCTIONS[name]
    if name in _losses._FUNCTIONS:
        return _losses._FUNCTIONS[name]
    raise _losses._unknown("metric function", name, [*_FUNCTIONS, *_losses._FUNCTIONS])


def _from_name(name: str, custom_objects: dict | None):
    custom_objects = _custom_objects.merged(custom_objects)
    if name in custom_objects:
        return custom_objects[name]
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name in _WRAPPED_LOSSES:
        return MeanMetricWrapper(_WRAPPED_LOSSES[name], name=name)
    raise _losses._unknown("metric", name, _all_names())


def serialize(metric) -> dict | None:
    """A JSON-able config of a `Metric` or metric function, in Keras 3's layout."""
    if metric is None:
        return None
    if isinstance(metric, Metric):
        known = type(metric) in _CLASSES
        return {
            "module": "keras.metrics",
            "class_name": type(metric).__name__,
            "config": metric.get_config(),
            "registered_name": None if known else type(metric).__name__,
        }
    return _losses.serialize(metric)


def deserialize(config, custom_objects: dict | None = None):
    """A `Metric` (or a metric function, for a function config) from `serialize`'s output, a
    Keras 2 `{'class_name', 'config'}` dict, or a name."""
    if config is None:
        return None
    if isinstance(config, str):
        obj = _from_name(config, custom_objects)
        return obj() if inspect.isclass(obj) else obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Could not deserialize metric: expected a name or a dict with 'class_name' and "
            f"'config'. Received: config={config!r}"
        )
    if config["class_name"] == "function":
        return deserialize_function(config, custom_objects)
    cls = _from_name(config["class_name"], custom_objects)
    if not inspect.isclass(cls):
        return cls
    inner = dict(config.get("config") or {})
    if isinstance(inner.get("fn"), (dict, str)):
        inner["fn"] = deserialize_function(inner["fn"], custom_objects)
    return cls.from_config(inner)


def get(identifier) -> Metric | None:
    """Resolve a metric identifier to a `Metric`.

    Args:
        identifier: A name (`"mae"`, `"AUC"`, `"binary_accuracy"`, Keras 2 aliases), a config
            dict, a `Metric` instance (returned as is) or class, any callable
            `fn(y_true, y_pred)` (wrapped in a `MeanMetricWrapper` named after it), or None.

    Returns:
        A `Metric` named as Keras names it (`get("mse").name == "mean_squared_error"`); see
        `get_compile_metric` for the names `model.compile` gives.

    Raises:
        ValueError: If the identifier names no metric; the message lists close and valid names.
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    obj = deserialize(identifier) if isinstance(identifier, (str, dict)) else identifier
    if inspect.isclass(obj) and issubclass(obj, Metric):
        obj = obj()
    if isinstance(obj, Metric):
        return obj
    if callable(obj) and not inspect.isclass(obj):
        return MeanMetricWrapper(obj, name=_base._fn_name(obj))
    raise ValueError(f"Could not interpret metric identifier. Received: metric={identifier!r}")


def _loss_kind(loss) -> str | None:
    """'binary', 'sparse' or 'categorical' when `loss` is that crossentropy, else None."""
    if loss is None:
        return None
    try:
        loss = _losses.get(loss)
    except (ValueError, TypeError):
        return None
    fn = getattr(loss, "fn", None)
    if fn in (_losses.binary_crossentropy, _losses.binary_focal_crossentropy):
        return "binary"
    if fn is _losses.sparse_categorical_crossentropy:
        return "sparse"
    if fn in (_losses.categorical_crossentropy, _losses.categorical_focal_crossentropy):
        return "categorical"
    return None


def _target_kind(y_true_shape, y_pred_shape, loss) -> str:
    kind = _loss_kind(loss)
    is_binary, is_sparse = _losses.is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
    if is_binary or kind == "binary":
        return "binary"
    if is_sparse or kind == "sparse":
        return "sparse"
    return "categorical"


_BY_KIND = {
    "accuracy": {
        "binary": _accuracy.BinaryAccuracy,
        "sparse": _accuracy.SparseCategoricalAccuracy,
        "categorical": _accuracy.CategoricalAccuracy,
    },
    "crossentropy": {
        "binary": _probabilistic.BinaryCrossentropy,
        "sparse": _probabilistic.SparseCategoricalCrossentropy,
        "categorical": _probabilistic.CategoricalCrossentropy,
    },
}
_SHORTHANDS = {"accuracy": "accuracy", "acc": "accuracy", "crossentropy": "crossentropy",
               "ce": "crossentropy"}  # fmt: skip


def get_compile_metric(identifier, y_true_shape, y_pred_shape, loss=None) -> Metric:
    """The metric `model.compile(metrics=[identifier])` uses for one output.

    `"accuracy"`/`"acc"` (any case) become binary, sparse categorical or categorical accuracy,
    and `"crossentropy"`/`"ce"` the matching crossentropy: binary when `y_pred` ends in 1 or
    the loss is a binary crossentropy; sparse when `y_true` has a lower rank than `y_pred`,
    ends in 1 while `y_pred` does not, or the loss is the sparse crossentropy; categorical
    otherwise (Keras 3's shape rule, plus Keras 2's reading of the loss). A string keeps the
    name the user wrote (`"acc"` stays `"acc"`, `"mse"` stays `"mse"`).

    Args:
        identifier: Anything `get` accepts.
        y_true_shape: Static shape of the targets (None entries unknown; None if unknown).
        y_pred_shape: Static shape of the output.
        loss: The output's loss identifier, if any.

    Returns:
        A `Metric`, built for the shapes.
    """
    if identifier is None:
        raise ValueError("Expected a metric identifier. Received: metric=None")
    shorthand = _SHORTHANDS.get(identifier.lower()) if isinstance(identifier, str) else None
    if shorthand:
        kind = _target_kind(y_true_shape, y_pred_shape, loss)
        metric = _BY_KIND[shorthand][kind](name=identifier)
    else:
        metric = get(identifier)
        if isinstance(identifier, str):
            metric.name = identifier
    metric.build(y_true_shape, y_pred_shape)
    return metric
