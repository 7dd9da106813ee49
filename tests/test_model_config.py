"""Model configs and JSON: round trips, Keras 3 layout parity, Keras 3 and Keras 2 configs."""

import json

import numpy as np
import pytest

import fkeras.layers as L
from fkeras.layers import _serialization
from fkeras.layers._base import Layer
from fkeras.models import _config_graph, _json
from fkeras.models._functional import Model
from fkeras.models._sequential import Sequential

RNG = np.random.default_rng(0)

# Keras 3's own warnings (reading its variables with numpy 2; `input_shape` on a layer).
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning",
    "ignore:Do not pass an `input_shape`:UserWarning",
)


def _x(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _np(tree):
    if isinstance(tree, dict):
        return {k: np.asarray(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [np.asarray(v) for v in tree]
    return np.asarray(tree)


def _unwrap_single(x):
    # Keras 3 returns a lone array for a model whose outputs are a list of one; fkeras's Model
    # keeps the list. That difference is the Model's, not the config's: compare the values.
    return x[0] if isinstance(x, list) and len(x) == 1 else x


def _assert_close(a, b, atol=1e-6):
    a, b = _np(_unwrap_single(_np(a))), _np(_unwrap_single(_np(b)))
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-6, atol=atol)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-6, atol=atol)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=atol)


def _describe(model):
    return [(layer.name, type(layer).__name__) for layer in model.layers]


# ---- fkeras models under test ---------------------------------------------------------------


def _sequential_built():
    model = Sequential(
        [
            L.Dense(8, activation="relu", input_shape=(4,)),
            L.Dropout(0.5),
            L.Dense(3, activation="softmax"),
        ]
    )
    return model, _x(5, 4)


def _sequential_input_first():
    model = Sequential(
        [L.Input((2, 3)), L.Flatten(), L.Dense(4, activation="tanh"), L.Reshape((2, 2))]
    )
    return model, _x(5, 2, 3)


def _functional_mlp():
    inputs = L.Input((6,), name="mlp_in")
    x = L.Dense(8, activation="relu", kernel_initializer="he_normal")(inputs)
    x = L.Dropout(0.2)(x)
    x = L.Activation("sigmoid")(L.Dense(5)(x))
    outputs = L.Dense(2, activation="softmax", use_bias=False)(x)
    return Model(inputs, outputs, name="mlp"), _x(4, 6)


def _two_in_two_out_dict():
    a, b = L.Input((3,), name="in_a"), L.Input((5,), name="in_b")
    out_a = L.Dense(2, name="head_a")(L.Dense(4, activation="relu")(a))
    out_b = L.Dense(1, activation="sigmoid", name="head_b")(b)
    model = Model({"in_a": a, "in_b": b}, {"out_a": out_a, "out_b": out_b})
    return model, {"in_a": _x(4, 3), "in_b": _x(4, 5)}


def _two_in_two_out_list():
    a, b = L.Input((3,), name="left"), L.Input((5,), name="right")
    model = Model([a, b], [L.Dense(2)(a), L.Dense(3)(b)])
    return model, [_x(4, 3), _x(4, 5)]


def _shared_layer():
    inputs = L.Input((4,))
    shared = L.Dense(4, activation="tanh", name="shared")
    x = shared(inputs)
    x = L.Dense(4)(x)
    x = shared(x)  # the same weights at two depths
    return Model(inputs, L.Dense(2)(x)), _x(3, 4)


def _nested_models():
    inner_in = L.Input((4,))
    inner = Model(inner_in, L.Dense(3, activation="relu")(inner_in), name="inner")
    stack = Sequential([L.Dense(2)], name="stack")
    inputs = L.Input((4,))
    y1 = stack(inner(inputs))
    y2 = inner(inputs)  # the nested model called twice: shared weights
    return Model(inputs, [y1, y2], name="outer"), _x(3, 4)


MODELS = {
    "sequential_built": _sequential_built,
    "sequential_input_first": _sequential_input_first,
    "functional_mlp": _functional_mlp,
    "two_in_two_out_dict": _two_in_two_out_dict,
    "two_in_two_out_list": _two_in_two_out_list,
    "shared_layer": _shared_layer,
    "nested_models": _nested_models,
}


def _via_config(model):
    return type(model).from_config(model.get_config())


def _via_json(model):
    return _json.model_from_json(_json.to_json(model))


@pytest.mark.parametrize("rebuild", [_via_config, _via_json], ids=["config", "json"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip(name, rebuild):
    old, x = MODELS[name]()
    new = rebuild(old)
    assert type(new) is type(old)
    assert new.name == old.name
    assert _describe(new) == _describe(old)
    assert [w.shape for w in new.get_weights()] == [w.shape for w in old.get_weights()]
    new.set_weights(old.get_weights())
    _assert_close(new(x), old(x))
    assert new.get_config() == old.get_config()


def test_round_trip_deferred_sequential():
    old = Sequential([L.Dense(5, activation="relu"), L.Dense(2)], name="deferred")
    config = old.get_config()
    assert "build_input_shape" not in config
    assert [e["class_name"] for e in config["layers"]] == ["Dense", "Dense"]
    for new in (Sequential.from_config(config), _via_json(old)):
        assert not new.built
        assert _describe(new) == _describe(old)
        x = _x(3, 7)
        old(x), new(x)  # both build from the data
        new.set_weights(old.get_weights())
        _assert_close(new(x), old(x))


def test_shared_layer_keeps_one_set_of_weights():
    old, _ = _shared_layer()
    config = old.get_config()
    entry = next(e for e in config["layers"] if e["name"] == "shared")
    assert len(entry["inbound_nodes"]) == 2
    new = Model.from_config(config)
    shared = new.get_layer("shared")
    assert len(shared.inbound_nodes) == 2
    assert len(new.get_weights()) == len(old.get_weights()) == 6  # three Dense layers


def test_node_indices_count_only_this_models_nodes():
    shared = L.Dense(3, name="shared_between")
    a = L.Input((3,), name="first_in")
    Model(a, shared(a))  # node 0 of `shared` belongs to another model
    b = L.Input((3,), name="second_in")
    pre = L.Dense(3, name="pre")
    second = Model(b, shared(pre(b)))
    config = second.get_config()
    entry = next(e for e in config["layers"] if e["name"] == "shared_between")
    assert len(entry["inbound_nodes"]) == 1
    history = entry["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
    assert history == ["pre", 0, 0]
    assert config["output_layers"] == ["shared_between", 0, 0]
    new = Model.from_config(config)
    new.set_weights(second.get_weights())
    x = _x(2, 3)
    _assert_close(new(x), second(x))


def test_json_matches_keras_envelope():
    model, _ = _functional_mlp()
    payload = json.loads(_json.to_json(model))
    assert list(payload) == ["module", "class_name", "config", "registered_name"]
    assert (payload["module"], payload["class_name"]) == (
        "keras.src.models.functional",
        "Functional",
    )
    seq, _ = _sequential_built()
    payload = json.loads(_json.to_json(seq, indent=2))
    assert (payload["module"], payload["class_name"], payload["registered_name"]) == (
        "keras",
        "Sequential",
        None,
    )
    assert payload["config"]["build_input_shape"] == [None, 4]  # tuples become lists


# ---- Keras 3 parity: the same graphs built with Keras ---------------------------------------


def _k_sequential(keras):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="k_seq",
    )
    return model, _x(5, 4)


def _k_sequential_reshape(keras):
    model = keras.Sequential(
        [
            keras.Input((2, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.Reshape((2, 2)),
        ]
    )
    return model, _x(5, 2, 3)


def _k_functional_mlp(keras):
    inputs = keras.Input((6,), name="mlp_in")
    x = keras.layers.Dense(8, activation="relu", kernel_initializer="he_normal", name="h1")(inputs)
    x = keras.layers.Dropout(0.2, name="drop")(x)
    x = keras.layers.Activation("sigmoid", name="act")(keras.layers.Dense(5, name="h2")(x))
    outputs = keras.layers.Dense(2, activation="softmax", use_bias=False, name="probs")(x)
    return keras.Model(inputs, outputs, name="mlp"), _x(4, 6)


def _k_two_in_two_out(keras):
    a, b = keras.Input((3,), name="in_a"), keras.Input((5,), name="in_b")
    out_a = keras.layers.Dense(2, name="head_a")(
        keras.layers.Dense(4, activation="relu", name="body")(a)
    )
    out_b = keras.layers.Dense(1, activation="sigmoid", name="head_b")(b)
    model = keras.Model({"in_a": a, "in_b": b}, {"out_a": out_a, "out_b": out_b}, name="two")
    return model, {"in_a": _x(4, 3), "in_b": _x(4, 5)}


def _k_shared(keras):
    inputs = keras.Input((4,), name="shared_in")
    shared = keras.layers.Dense(4, activation="tanh", name="shared")
    x = shared(keras.layers.Dense(4, name="mid")(shared(inputs)))
    return keras.Model(inputs, [keras.layers.Dense(2, name="top")(x)], name="sh"), _x(3, 4)


def _k_nested(keras):
    inner_in = keras.Input((4,), name="inner_in")
    inner = keras.Model(
        inner_in, keras.layers.Dense(3, activation="relu", name="inner_d")(inner_in), name="inner"
    )
    stack = keras.Sequential([keras.layers.Dense(2, name="stack_d")], name="stack")
    inputs = keras.Input((4,), name="outer_in")
    y1 = stack(inner(inputs))
    y2 = inner(inputs)
    return keras.Model(inputs, [y1, y2], name="outer"), _x(3, 4)


KERAS_MODELS = {
    "sequential": _k_sequential,
    "sequential_reshape": _k_sequential_reshape,
    "functional_mlp": _k_functional_mlp,
    "two_in_two_out": _k_two_in_two_out,
    "shared": _k_shared,
    "nested": _k_nested,
}


def _fkeras_class(keras, keras_model):
    return Sequential if isinstance(keras_model, keras.Sequential) else Model


@pytest.mark.parametrize("source", ["config", "json"])
@pytest.mark.parametrize("name", sorted(KERAS_MODELS))
def test_keras3_config_loads_and_predicts_the_same(keras3, name, source):
    keras_model, x = KERAS_MODELS[name](keras3)
    if source == "config":
        model = _fkeras_class(keras3, keras_model).from_config(keras_model.get_config())
    else:
        model = _json.model_from_json(keras_model.to_json())
    assert [layer.name for layer in model.layers] == [layer.name for layer in keras_model.layers]
    renamed = {"Functional": "Model"}  # fkeras's functional class is `Model`
    assert [type(layer).__name__ for layer in model.layers] == [
        renamed.get(type(layer).__name__, type(layer).__name__) for layer in keras_model.layers
    ]
    model.set_weights(keras_model.get_weights())
    _assert_close(model(x), keras_model(x, training=False))


def _skeleton(config):
    """What the layout fixes: layer names/classes/modules, node references, inputs/outputs."""

    def history(node):
        return [a["config"]["keras_history"] for a in _flat_tensors(node["args"])]

    layers = [
        (e["name"], e["class_name"], e["module"], [history(n) for n in e["inbound_nodes"]])
        for e in config["layers"]
    ]
    return layers, config["input_layers"], config["output_layers"]


def _flat_tensors(obj):
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            return [obj]
        return [t for v in obj.values() for t in _flat_tensors(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _flat_tensors(v)]
    return []


@pytest.mark.parametrize("name", ["functional_mlp", "two_in_two_out", "shared", "nested"])
def test_config_layout_matches_keras3(keras3, name):
    keras_model, _ = KERAS_MODELS[name](keras3)
    keras_config = keras_model.get_config()
    model = Model.from_config(keras_config)
    ours = model.get_config()
    assert _skeleton(ours) == _skeleton(keras_config)
    assert sorted(ours) == sorted(keras_config)
    for mine, theirs in zip(ours["layers"], keras_config["layers"]):
        optional = {"build_config", "compile_config"}  # Keras adds these; both are optional
        assert set(mine) - optional == set(theirs) - optional


@pytest.mark.parametrize("name", sorted(KERAS_MODELS))
def test_keras3_loads_our_json(keras3, name):
    keras_model, x = KERAS_MODELS[name](keras3)
    model = _fkeras_class(keras3, keras_model).from_config(keras_model.get_config())
    reloaded = keras3.models.model_from_json(_json.to_json(model))
    reloaded.set_weights(model.get_weights())
    _assert_close(reloaded(x, training=False), model(x))


def test_keras3_loads_our_sequential_built_from_input_shape(keras3):
    model, x = _sequential_built()  # the first Dense holds Keras 2's `batch_input_shape`
    reloaded = keras3.models.model_from_json(_json.to_json(model))
    assert reloaded.built
    reloaded.set_weights(model.get_weights())
    _assert_close(reloaded(x, training=False), model(x))


def test_keras3_deferred_sequential_loads_unbuilt(keras3):
    keras_model = keras3.Sequential(
        [keras3.layers.Dense(4, activation="relu"), keras3.layers.Dense(2)]
    )
    model = Sequential.from_config(keras_model.get_config())
    assert not model.built
    x = _x(3, 5)
    keras_out = keras_model(x)  # both build from the data
    model(x)
    model.set_weights(keras_model.get_weights())
    _assert_close(model(x), keras_out)


def test_keras3_sequential_built_from_input_shape_loads(keras3):
    keras_model = keras3.Sequential(
        [keras3.layers.Dense(3, input_shape=(4,)), keras3.layers.Dense(2)]
    )
    model = Sequential.from_config(keras_model.get_config())
    assert model.built and model.input_shape == (None, 4)
    model.set_weights(keras_model.get_weights())
    x = _x(2, 4)
    _assert_close(model(x), keras_model(x))


# ---- Keras 2 configs, written by hand -------------------------------------------------------


def _k2_dense(name, units, activation="linear", **extra):
    return {
        "class_name": "Dense",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "units": units,
            "activation": activation,
            "use_bias": True,
            "kernel_initializer": {
                "class_name": "VarianceScaling",
                "config": {
                    "scale": 1.0,
                    "mode": "fan_avg",
                    "distribution": "uniform",
                    "seed": None,
                },
            },
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
            **extra,
        },
    }


KERAS2_FUNCTIONAL = {
    "class_name": "Model",
    "keras_version": "2.2.4",
    "backend": "tensorflow",
    "config": {
        "name": "model_1",
        "layers": [
            {
                "name": "input_1",
                "class_name": "InputLayer",
                "config": {
                    "batch_input_shape": [None, 4],
                    "dtype": "float32",
                    "sparse": False,
                    "ragged": False,
                    "name": "input_1",
                },
                "inbound_nodes": [],
            },
            {
                **_k2_dense("dense_1", 5, "relu"),
                "name": "dense_1",
                "inbound_nodes": [[["input_1", 0, 0, {}]]],
            },
            {
                **_k2_dense("dense_2", 2, "softmax"),
                "name": "dense_2",
                "inbound_nodes": [[["dense_1", 0, 0, {}]]],
            },
        ],
        "input_layers": [["input_1", 0, 0]],
        "output_layers": [["dense_2", 0, 0]],
    },
}


def test_keras2_functional_config_loads():
    for model in (
        Model.from_config(KERAS2_FUNCTIONAL["config"]),
        _json.model_from_json(json.dumps(KERAS2_FUNCTIONAL)),
    ):
        assert _describe(model) == [
            ("input_1", "InputLayer"),
            ("dense_1", "Dense"),
            ("dense_2", "Dense"),
        ]
        weights = [_x(4, 5), _x(5), _x(5, 2), _x(2)]
        model.set_weights(weights)
        x = _x(3, 4)
        logits = np.maximum(x @ weights[0] + weights[1], 0) @ weights[2] + weights[3]
        expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        out = model(x)
        assert not isinstance(out, list)  # Keras 2 unwrapped a single output
        np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-6)


def test_keras2_nested_model_indices_are_shifted():
    inner = {
        "name": "inner",
        "layers": [
            {
                "name": "inner_in",
                "class_name": "InputLayer",
                "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "inner_in"},
                "inbound_nodes": [],
            },
            {
                **_k2_dense("inner_d", 3),
                "name": "inner_d",
                "inbound_nodes": [[["inner_in", 0, 0, {}]]],
            },
        ],
        "input_layers": [["inner_in", 0, 0]],
        "output_layers": [["inner_d", 0, 0]],
    }
    outer = {
        "name": "outer",
        "layers": [
            {
                "name": "outer_in",
                "class_name": "InputLayer",
                "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "outer_in"},
                "inbound_nodes": [],
            },
            {
                "name": "inner",
                "class_name": "Model",
                "config": inner,
                "inbound_nodes": [[["outer_in", 0, 0, {}]]],
            },
            {**_k2_dense("top", 2), "name": "top", "inbound_nodes": [[["inner", 1, 0, {}]]]},
        ],
        "input_layers": [["outer_in", 0, 0]],
        "output_layers": [["top", 0, 0], ["inner", 1, 0]],
    }
    model = Model.from_config(outer)
    assert _describe(model) == [("outer_in", "InputLayer"), ("inner", "Model"), ("top", "Dense")]
    x = _x(2, 4)
    top, hidden = model(x)
    assert np.asarray(top).shape == (2, 2) and np.asarray(hidden).shape == (2, 3)


@pytest.mark.parametrize("form", ["list", "dict"])
def test_keras2_sequential_config_loads(form):
    layers = [_k2_dense("dense_1", 5, "relu", batch_input_shape=[None, 4]), _k2_dense("dense_2", 1)]
    config = layers if form == "list" else {"name": "sequential_1", "layers": layers}
    model = Sequential.from_config(config)
    assert model.built and model.input_shape == (None, 4)
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2"]
    weights = [_x(4, 5), _x(5), _x(5, 1), _x(1)]
    model.set_weights(weights)
    x = _x(3, 4)
    expected = np.maximum(x @ weights[0] + weights[1], 0) @ weights[2] + weights[3]
    np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=1e-5, atol=1e-6)
    payload = json.dumps({"class_name": "Sequential", "config": config})
    assert [layer.name for layer in _json.model_from_json(payload).layers] == ["dense_1", "dense_2"]


# ---- custom objects and errors --------------------------------------------------------------


class Scale(Layer):
    """A user layer: multiplies its input by a fixed factor."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = float(factor)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        return inputs * self.factor, {}

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def cube(x):
    return x * x * x


def _custom_model():
    inputs = L.Input((3,))
    x = L.Dense(4, activation=cube)(inputs)
    return Model(inputs, Scale(3.0, name="scale")(x))


def test_unknown_class_raises_with_custom_objects_hint():
    json_string = _json.to_json(_custom_model())
    with pytest.raises(ValueError, match="custom_objects") as info:
        _json.model_from_json(json_string, custom_objects={"cube": cube})
    assert "'Scale'" in str(info.value)
    with pytest.raises(ValueError, match="custom_objects") as info:  # the activation is unknown
        _json.model_from_json(json_string, custom_objects={"Scale": Scale})
    assert "cube" in str(info.value)
    with pytest.raises(ValueError, match="custom_objects"):
        _serialization.deserialize({"class_name": "NoSuchLayer", "config": {}})


def test_custom_objects_resolve_user_layer_and_function():
    old = _custom_model()
    entry = _serialization.serialize(old.get_layer("scale"))
    assert entry["registered_name"] == "Scale" and entry["config"]["factor"] == 3.0
    for new in (
        _json.model_from_json(_json.to_json(old), custom_objects={"Scale": Scale, "cube": cube}),
        Model.from_config(old.get_config(), custom_objects={"Scale": Scale, "cube": cube}),
    ):
        assert isinstance(new.layers[-1], Scale) and new.layers[-1].factor == 3.0
        assert new.layers[1].activation is cube
        new.set_weights(old.get_weights())
        x = _x(2, 3)
        _assert_close(new(x), old(x))


def test_layer_serialize_deserialize():
    layer = L.Dense(3, activation="relu", kernel_initializer="lecun_normal", name="solo")
    layer.build((None, 5))
    config = _serialization.serialize(layer)
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        "keras.layers",
        "Dense",
        None,
    )
    assert config["build_config"] == {"input_shape": (None, 5)}
    clone = _serialization.deserialize(json.loads(json.dumps(config)))
    assert isinstance(clone, L.Dense) and clone.built
    assert clone.get_config() == layer.get_config()
    assert _serialization.get_builtin_layer("Dense") is L.Dense
    assert _serialization.get_builtin_layer("Functional") is Model
    assert _serialization.get_builtin_layer("Sequential") is Sequential
    assert _serialization.get_builtin_layer("NoSuchLayer") is None


def test_keras3_only_keys_are_dropped_only_when_inert():
    config = {
        "class_name": "Dense",
        "config": {"units": 2, "quantization_config": None, "name": "q"},
    }
    assert _serialization.deserialize(config).units == 2
    config["config"]["activity_regularizer"] = {"class_name": "L2", "config": {"l2": 0.1}}
    layer = _serialization.deserialize(config)  # activity regularizers are supported
    assert layer.activity_regularizer is not None and layer.activity_regularizer.l2 == pytest.approx(0.1)
    config["config"]["quantization_config"] = {"mode": "int8"}
    with pytest.raises(TypeError, match="quantization_config"):
        _serialization.deserialize(config)


def test_broken_graph_configs_raise():
    model, _ = _functional_mlp()
    config = model.get_config()
    config["output_layers"] = ["no_such_layer", 0, 0]
    with pytest.raises(ValueError, match="no_such_layer"):
        Model.from_config(config)
    config = model.get_config()
    config["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["mlp_in", 3, 0]
    with pytest.raises(ValueError, match="Unresolved"):
        Model.from_config(config)
    with pytest.raises(ValueError, match="layers"):
        Model.from_config({"name": "x"})
    with pytest.raises(TypeError, match="Sequential.from_config"):
        _json.model_from_config([])
    with pytest.raises(ValueError, match="JSON"):
        _json.model_from_json("{not json")


def test_config_graph_module_api():
    model, _ = _sequential_built()
    assert _config_graph.sequential_config(model) == model.get_config()
    model, _ = _functional_mlp()
    assert _config_graph.functional_config(model) == model.get_config()


def test_keras3_layer_config_with_nested_objects_loads(keras3):
    keras_layer = keras3.layers.Dense(
        3,
        activation="swish",
        kernel_initializer=keras3.initializers.Orthogonal(gain=2.0, seed=3),
        kernel_regularizer=keras3.regularizers.L1L2(l1=0.25, l2=0.5),
        bias_constraint=keras3.constraints.MaxNorm(2.0),
        name="nested_objects",
    )
    keras_layer.build((None, 4))
    layer = _serialization.deserialize(keras3.saving.serialize_keras_object(keras_layer))
    assert layer.built and layer.get_weights()[0].shape == (4, 3)
    config = layer.get_config()
    assert config["activation"] == "silu"
    assert config["kernel_initializer"]["class_name"] == "Orthogonal"
    assert config["kernel_initializer"]["config"]["gain"] == 2.0
    assert config["kernel_regularizer"]["config"] == {"l1": 0.25, "l2": 0.5}
    assert config["bias_constraint"]["class_name"] == "MaxNorm"
    layer.set_weights(keras_layer.get_weights())
    x = _x(2, 4)
    _assert_close(layer(x), keras_layer(x))
