"""User mistakes at the model and layer entry points: each is a ValueError/TypeError that names
the argument (or the model input), never a NumPy or JAX error from deep inside."""

import numpy as np
import pytest

import fkeras as keras


@pytest.fixture(scope="module")
def models():
    inp = keras.Input((3,), name="x")
    single = keras.Model(inp, keras.layers.Dense(2)(inp))
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    double = keras.Model([a, b], keras.layers.concatenate([a, b]))
    return single, double


@pytest.mark.parametrize(
    "value, error, match",
    [
        (None, TypeError, r"input 'x' is None"),
        ("abc", TypeError, r"input 'x' must hold numbers.*<U3"),
        (np.array(["a", "b", "c"]), TypeError, r"input 'x' must hold numbers"),
        ([None], TypeError, r"input 'x' must hold numbers.*object"),
        ([[1, 2], [3]], TypeError, r"input 'x' could not be converted"),
        (np.zeros((1, 4)), ValueError, r"expected shape \(None, 3\)"),
    ],
)
def test_calling_a_model_on_bad_data(models, value, error, match):
    with pytest.raises(error, match=match):
        models[0](value)


def test_calling_a_model_on_nested_lists_and_several_inputs(models):
    single, double = models
    assert single([[1.0, 2.0, 3.0]]).shape == (1, 2)  # a nested list is one array
    assert double({"a": np.zeros((1, 2)), "b": np.zeros((1, 3))}).shape == (1, 5)
    with pytest.raises(TypeError, match=r"2 inputs \['a', 'b'\]: pass a list or a dict"):
        double(np.zeros((1, 2)))
    with pytest.raises(TypeError, match=r"input 'b' is None"):
        double([np.zeros((1, 2)), None])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"index": "0"}, TypeError, r"`index` must be an integer. Received: index='0'"),
        ({"index": 1.0}, TypeError, r"`index` must be an integer"),
        ({"index": True}, TypeError, r"`index` must be an integer"),
        ({"index": 7}, ValueError, r"index 7 but model only has"),
        ({"name": 3}, TypeError, r"`name` must be a string. Received: name=3"),
        ({}, ValueError, r"provide either a layer `name` or an `index`"),
        ({"name": "nope"}, ValueError, r"No such layer: nope"),
    ],
)
def test_get_layer_arguments(models, kwargs, error, match):
    with pytest.raises(error, match=match):
        models[0].get_layer(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"shape": (3,), "batch_size": -2}, ValueError, r"`batch_size` must be a positive integer.*batch_size=-2"),
        ({"shape": (3,), "batch_size": "x"}, TypeError, r"`batch_size`.*batch_size='x'"),
        ({"shape": (3,), "batch_size": True}, TypeError, r"`batch_size`"),
        ({"batch_shape": 5}, TypeError, r"`batch_shape` must be a tuple.*batch_shape=5"),
    ],
)
def test_input_batch_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        keras.Input(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"trainable": "yes"}, TypeError, r"`trainable` must be a bool. Received: trainable='yes'"),
        ({"trainable": np.array([1, 0])}, TypeError, r"`trainable` must be a bool"),
        ({"weights": "abc"}, TypeError, r"`weights` must be a list of arrays"),
        ({"weights": 5}, TypeError, r"`weights` must be a list of arrays.*int"),
        ({"weights": [np.zeros((3, 2)), "x"]}, TypeError, r"`weights\[1\]` must be an array of numbers"),
        ({"input_dim": "a"}, TypeError, r"`input_dim` must contain only integers"),
        ({"input_dim": -1}, ValueError, r"`input_dim` must contain only non-negative"),
    ],
)
def test_layer_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        shape = {} if "input_dim" in kwargs else {"input_shape": (3,)}
        keras.Sequential([keras.layers.Dense(2, **shape, **kwargs)])


def test_set_weights_and_trainable_setter():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    for bad, match in ((["a", "b"], r"`weights\[0\]`"), ("xx", r"list of arrays"), (5, r"list of arrays")):
        with pytest.raises(TypeError, match=match):
            layer.set_weights(bad)
    with pytest.raises(TypeError, match=r"`trainable` must be a bool"):
        layer.trainable = "no"
    layer.set_weights([np.ones((3, 2), dtype=object), [1, 2]])  # numbers in any container work
    np.testing.assert_array_equal(layer.get_weights()[1], [1.0, 2.0])


def test_compile_flags():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"`sample_weight_mode` must be None or 'temporal'"):
        model.compile("sgd", "mse", sample_weight_mode=np.array([1, 2]))
    with pytest.raises(TypeError, match=r"`run_eagerly` must be a bool"):
        model.compile("sgd", "mse", run_eagerly="x")
