"""Custom objects by name: Keras's global registry (`get_custom_objects`), the
`register_keras_serializable` decorator and `custom_object_scope`, for building, compiling,
saving and loading."""

import threading

import numpy as np
import pytest

import fkeras
import fkeras.compat
from fkeras import _custom_objects
from fkeras.layers import Activation, Dense
from fkeras.utils import CustomObjectScope, custom_object_scope, get_custom_objects


@pytest.fixture(autouse=True)
def clean_registry():
    objects, names = (
        dict(_custom_objects.GLOBAL_CUSTOM_OBJECTS),
        dict(_custom_objects.GLOBAL_CUSTOM_NAMES),
    )
    yield
    _custom_objects.GLOBAL_CUSTOM_OBJECTS.clear()
    _custom_objects.GLOBAL_CUSTOM_OBJECTS.update(objects)
    _custom_objects.GLOBAL_CUSTOM_NAMES.clear()
    _custom_objects.GLOBAL_CUSTOM_NAMES.update(names)


def swish(x):
    return x * fkeras.activations.sigmoid(x)


class AddOne(fkeras.layers.Layer):
    def apply(self, variables, inputs, *, training=False, rng=None):
        return inputs + 1.0, {}


def _model(last):
    model = fkeras.Sequential([Dense(3, input_shape=(4,)), last])
    model.compile("sgd", "mse")
    return model


X = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)


def test_keras2_custom_activation_by_name():
    """The Keras 2 idiom: register an `Activation` layer (or a function) by name, then use it."""
    get_custom_objects().update({"swish_layer": Activation(swish), "swish_fn": swish})
    for name in ("swish_layer", "swish_fn"):
        layer = Dense(3, activation=name)
        model = fkeras.Sequential([fkeras.Input((4,)), layer])
        kernel, bias = layer.get_weights()
        z = X @ kernel + bias
        np.testing.assert_allclose(model.predict(X, verbose=0), z / (1 + np.exp(-z)), rtol=1e-5)


def test_custom_loss_and_metric_by_name():
    def twice_mse(y_true, y_pred):
        return 2.0 * fkeras.backend.mean((y_true - y_pred) ** 2, axis=-1)

    get_custom_objects()["twice_mse"] = twice_mse
    model = fkeras.Sequential([fkeras.Input((4,)), Dense(1)])
    model.compile("sgd", loss="twice_mse", metrics=["twice_mse"])
    y = np.ones((2, 1), "float32")
    loss, metric = model.evaluate(X, y, verbose=0)
    expected = 2.0 * np.mean((y - model.predict(X, verbose=0)) ** 2)
    assert loss == pytest.approx(expected, rel=1e-5) and metric == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("fmt", [".keras", ".h5"])
def test_registered_layer_saves_and_loads_without_custom_objects(tmp_path, fmt):
    @fkeras.saving.register_keras_serializable(package="tests")
    class Scale(fkeras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def apply(self, variables, inputs, *, training=False, rng=None):
            return inputs * self.factor, {}

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    assert fkeras.saving.get_registered_name(Scale) == "tests>Scale"
    assert fkeras.saving.get_registered_object("tests>Scale") is Scale
    model = _model(Scale(3.0))
    assert model.get_config()["layers"][-1]["registered_name"] == "tests>Scale"
    model.save(tmp_path / f"m{fmt}")
    loaded = fkeras.models.load_model(tmp_path / f"m{fmt}")
    assert type(loaded.layers[-1]) is Scale and loaded.layers[-1].factor == 3.0
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_scope_makes_a_class_known_only_inside(tmp_path):
    model = _model(AddOne())
    model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="Unknown layer class 'AddOne'"):
        fkeras.models.load_model(tmp_path / "m.h5")
    with custom_object_scope({"AddOne": AddOne}):
        loaded = fkeras.models.load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    with pytest.raises(ValueError, match="Unknown layer class 'AddOne'"):
        fkeras.models.load_model(tmp_path / "m.h5")


def test_lookup_order_call_then_scopes_then_registry():
    get_custom_objects()["thing"] = "global"
    assert _custom_objects.merged()["thing"] == "global"
    with CustomObjectScope({"thing": "outer"}):
        with CustomObjectScope({"thing": "inner"}, None):
            assert _custom_objects.merged()["thing"] == "inner"
            assert _custom_objects.merged({"thing": "call"})["thing"] == "call"
        assert _custom_objects.merged()["thing"] == "outer"
    assert _custom_objects.merged()["thing"] == "global"


def test_scopes_belong_to_their_thread():
    seen = []
    entered, release = threading.Event(), threading.Event()

    def worker():
        with custom_object_scope({"only_here": 1}):
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait(5)
    seen.append("only_here" in _custom_objects.merged())
    release.set()
    thread.join()
    assert seen == [False]


def test_keras2_import_paths():
    with fkeras.compat.as_keras():
        from keras.utils import CustomObjectScope as Scope  # noqa: I001
        from keras.utils.generic_utils import get_custom_objects as get

    assert Scope is CustomObjectScope and get() is get_custom_objects()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: CustomObjectScope(5), TypeError, "argument 0 is a int"),
        (
            lambda: fkeras.saving.register_keras_serializable(package="a>b"),
            ValueError,
            "without '>'",
        ),
        (
            lambda: fkeras.saving.register_keras_serializable()(type("NoConfig", (), {})),
            TypeError,
            "get_config",
        ),
        (
            lambda: fkeras.saving.register_keras_serializable()(3),
            TypeError,
            "classes and functions",
        ),
    ],
)
def test_mistakes_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
