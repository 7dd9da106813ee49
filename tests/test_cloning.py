"""`clone_model`: new layers from configs, the same graph, fresh weights (Keras 3's semantics)."""

import numpy as np
import optax
import pytest

from fkeras import layers as L
from fkeras.graph._tensor import nodes_of
from fkeras.models._cloning import clone_model
from fkeras.models._functional import Model
from fkeras.models._sequential import Sequential


def _x(*shape, seed=0):
    return np.random.RandomState(seed).rand(*shape).astype("float32")


def functional_model():
    """Two inputs, a shared layer, a nested Sequential, a merge, two named outputs."""
    a = L.Input(shape=(4,), name="a")
    b = L.Input(shape=(4,), name="b")
    shared = L.Dense(3, name="shared")
    inner = Sequential([L.Dense(5, input_shape=(3,), name="inner_dense")], name="inner")
    h = L.concatenate([inner(shared(a)), shared(b)], name="cat")
    out = L.Dense(2, activation="softmax", name="out")(h)
    return Model({"a": a, "b": b}, {"out": out, "h": h}, name="net")


INPUTS = {"a": _x(6, 4, seed=1), "b": _x(6, 4, seed=2)}


def _all_layers(model):
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, Model):
            found.extend(_all_layers(layer))
    return found


def _assert_same_outputs(a, b, x):
    pa, pb = a.predict(x, verbose=0), b.predict(x, verbose=0)
    assert list(pa) == list(pb)  # the same output names, in the same order
    for key in pa:
        np.testing.assert_allclose(pb[key], pa[key], rtol=1e-6, atol=1e-7)


def test_functional_clone_same_graph_new_layers_fresh_weights():
    model = functional_model()
    clone = clone_model(model)
    assert type(clone) is Model and clone.name == "net"
    assert clone.get_config() == model.get_config()  # same layers, names, nodes, inputs, outputs
    assert clone.input_names == ["a", "b"] and clone.output_names == ["out", "h"]
    originals = {id(layer) for layer in _all_layers(model)}
    assert not any(id(layer) in originals for layer in _all_layers(clone))
    assert clone.count_params() == model.count_params()
    fresh = clone.get_weights()
    assert any(not np.array_equal(u, v) for u, v in zip(fresh, model.get_weights()))
    clone.set_weights(model.get_weights())
    _assert_same_outputs(model, clone, INPUTS)
    pa = model.predict(INPUTS, verbose=0)
    # the clone owns its weights: changing them leaves the original alone
    clone.set_weights([w + 1.0 for w in clone.get_weights()])
    np.testing.assert_allclose(model.predict(INPUTS, verbose=0)["out"], pa["out"], rtol=1e-6)


def test_shared_layer_is_cloned_once_and_stays_shared():
    clone = clone_model(functional_model())
    shared = clone.get_layer("shared")
    assert len(nodes_of(shared)) == 2  # called on both inputs, one set of weights
    assert len(clone.get_weights()) == len(functional_model().get_weights())
    shared.set_weights([np.zeros((4, 3), "float32"), np.ones(3, "float32")])
    inner_out = clone.get_layer("inner").predict(np.ones((1, 3), "float32"), verbose=0)
    h = clone.predict(INPUTS, verbose=0)["h"]
    np.testing.assert_allclose(h[:, 5:], np.ones((6, 3)))  # both calls see the new kernel
    np.testing.assert_allclose(h[:, :5], np.repeat(inner_out, 6, axis=0), rtol=1e-6)


def test_nested_model_is_rebuilt_from_config_or_cloned_recursively():
    model = functional_model()
    seen = []

    def record(layer):
        seen.append(layer.name)
        return layer.__class__.from_config(layer.get_config())

    clone_model(model, clone_function=record)
    assert "inner" in seen and "inner_dense" not in seen
    seen.clear()
    clone = clone_model(model, clone_function=record, recursive=True)
    assert "inner_dense" in seen and "inner" not in seen
    inner = clone.get_layer("inner")
    assert isinstance(inner, Sequential) and inner is not model.get_layer("inner")
    assert inner.layers[0] is not model.get_layer("inner").layers[0]


def test_clone_function_can_reuse_or_replace_layers():
    model = functional_model()
    same = clone_model(model, clone_function=lambda layer: layer)
    assert same.get_layer("shared") is model.get_layer("shared")
    _assert_same_outputs(model, same, INPUTS)  # reused layers share the weights

    def wider(layer):
        config = layer.get_config()
        if layer.name == "out":
            config["units"] = 7
        return layer.__class__.from_config(config)

    assert clone_model(model, clone_function=wider).output_shape == [(None, 7), (None, 8)]


def test_call_function_inserts_layers():
    model = functional_model()

    def call(layer, inputs, **kwargs):
        out = layer(inputs, **kwargs)
        if layer.name == "cat":
            out = L.Dense(1, name="extra")(out)
        return out

    clone = clone_model(model, call_function=call)
    assert clone.get_layer("extra") is not None
    assert clone.output_shape == [(None, 2), (None, 1)]


@pytest.mark.parametrize("how", ["input_shape", "input_layer", "deferred"])
def test_sequential_clone(how):
    layers = [L.Dense(3, activation="relu", name="d0"), L.Dropout(0.5), L.Dense(2, name="d1")]
    if how == "input_shape":
        layers[0] = L.Dense(3, activation="relu", input_shape=(4,), name="d0")
    elif how == "input_layer":
        layers.insert(0, L.InputLayer(shape=(4,), name="pixels"))
    model = Sequential(layers, name="seq")
    clone = clone_model(model)
    assert type(clone) is Sequential and clone.name == "seq"
    assert [type(x).__name__ for x in clone.layers] == ["Dense", "Dropout", "Dense"]
    assert not any(x is y for x, y in zip(clone.layers, model.layers))
    if how == "deferred":
        assert not clone.built
        x = _x(5, 4)
        model.predict(x, verbose=0), clone.predict(x, verbose=0)
    else:
        assert clone.get_config() == model.get_config()
        assert clone.input_shape == (None, 4)
    clone.set_weights(model.get_weights())
    x = _x(5, 4)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_input_tensors():
    model = functional_model()
    a, b = L.Input(shape=(4,), name="new_a"), L.Input(shape=(4,), name="new_b")
    for given in ([a, b], {"a": a, "b": b}):
        clone = clone_model(model, input_tensors=given)
        assert clone.inputs == [a, b]
    seq = Sequential([L.Dense(2, input_shape=(4,))])
    x = L.Input(shape=(4,), name="given")
    assert clone_model(seq, input_tensors=x).inputs == [x]
    assert clone_model(seq, input_tensors=[x]).inputs == [x]
    # a layer's output as input: the clone starts from a new Input of that shape
    h = L.Dense(4)(L.Input(shape=(9,)))
    clone = clone_model(seq, input_tensors=h)
    assert clone.input_shape == (None, 4) and clone.inputs[0] is not h


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"input_tensors": [L.Input(shape=(4,))]}, ValueError, r"model.input: 2 tensor"),
        ({"input_tensors": {"a": L.Input(shape=(4,))}}, ValueError, r"keys \['a', 'b'\]"),
        ({"input_tensors": [np.zeros((1, 4)), np.zeros((1, 4))]}, ValueError, "symbolic tensors"),
        ({"clone_function": 3}, ValueError, "clone_function"),
        ({"clone_function": lambda layer: 3}, TypeError, "must return a layer"),
        ({"call_function": 3}, ValueError, "call_function"),
        ({"cache": {}}, ValueError, "Unexpected keyword argument"),
    ],
)
def test_clone_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        clone_model(functional_model(), **kwargs)


def test_clone_errors_for_non_models_and_sequential_call_function():
    with pytest.raises(ValueError, match="functional `Model` or a `Sequential`"):
        clone_model(L.Dense(2))
    seq = Sequential([L.Dense(2, input_shape=(4,))])
    with pytest.raises(ValueError, match="not supported with Sequential"):
        clone_model(seq, call_function=lambda layer, x: layer(x))
    with pytest.raises(ValueError, match="single tensor"):
        clone_model(seq, input_tensors=[L.Input(shape=(4,)), L.Input(shape=(4,))])


@pytest.mark.parametrize("optimizer", ["adam", "optax"])
def test_compiled_model_clone_is_compiled_with_a_fresh_optimizer(optimizer):
    model = Sequential([L.Dense(2, input_shape=(4,))])
    opt = optax.sgd(0.1) if optimizer == "optax" else "adam"
    model.compile(optimizer=opt, loss="mse", metrics=["mae"], loss_weights=[2.0])
    clone = clone_model(model)
    assert clone.compiled and clone.optimizer is not model.optimizer
    assert type(clone.optimizer) is type(model.optimizer)
    assert clone.loss == "mse" and clone._compile_args == model._compile_args
    before = model.get_weights()
    x, y = _x(8, 4), _x(8, 2, seed=3)
    clone.fit(x, y, epochs=1, verbose=0)
    assert clone.metrics_names == model.metrics_names == ["loss", "mae"]
    for u, v in zip(model.get_weights(), before):
        np.testing.assert_array_equal(u, v)
    assert not clone_model(Sequential([L.Dense(2, input_shape=(4,))])).compiled


def test_operator_nodes_and_keyword_tensors_clone():
    x = L.Input(shape=(5, 3))
    h0, c0 = L.Input(shape=(4,)), L.Input(shape=(4,))
    seq = L.LSTM(4, name="lstm")(x, initial_state=[h0, c0])
    out = seq * 2.0 + 1.0
    model = Model([x, h0, c0], out)
    clone = clone_model(model)
    clone.set_weights(model.get_weights())
    data = [_x(2, 5, 3), _x(2, 4, seed=1), _x(2, 4, seed=2)]
    np.testing.assert_allclose(
        clone.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6, atol=1e-7
    )


def _keras3_graph(k):
    a = k.Input(shape=(4,), name="a")
    b = k.Input(shape=(4,), name="b")
    shared = k.layers.Dense(3, name="shared")
    h = k.layers.concatenate([shared(a), shared(b)], name="cat")
    h = k.layers.Dense(5, activation="relu", name="mid")(h)
    return k.Model([a, b], k.layers.Dense(2, name="out")(h), name="net")


def test_clone_matches_keras3_layers_and_weight_order(keras3):
    import fkeras

    theirs = keras3.models.clone_model(_keras3_graph(keras3))
    ours = clone_model(_keras3_graph(fkeras))
    assert [x.name for x in ours.layers] == [x.name for x in theirs.layers]
    assert [type(x).__name__ for x in ours.layers] == [type(x).__name__ for x in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    ours.set_weights(theirs.get_weights())
    data = [INPUTS["a"], INPUTS["b"]]
    np.testing.assert_allclose(
        ours.predict(data, verbose=0), theirs.predict(data, verbose=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("recursive", [False, True])
def test_nested_model_called_twice_is_cloned_once(recursive):
    x = L.Input(shape=(3,), name="x")
    inner = Model(x, L.Dense(2, name="h")(x), name="inner")
    a, b = L.Input(shape=(3,), name="a"), L.Input(shape=(3,), name="b")
    outer = Model([a, b], L.add([inner(a), inner(b)], name="sum"), name="outer")
    clone = clone_model(outer, recursive=recursive)
    new_inner = clone.get_layer("inner")
    assert new_inner is not inner and len(nodes_of(new_inner)) == 2
    assert len(clone.get_weights()) == 2  # one kernel and one bias behind both calls
    clone.set_weights(outer.get_weights())
    data = [_x(4, 3, seed=1), _x(4, 3, seed=2)]
    np.testing.assert_allclose(
        clone.predict(data, verbose=0), outer.predict(data, verbose=0), rtol=1e-6
    )


def test_trainable_flags_are_kept():
    model = functional_model()
    model.get_layer("shared").trainable = False
    clone = clone_model(model)
    assert clone.get_layer("shared").trainable is False and clone.get_layer("out").trainable
    assert len(clone.trainable_weights) == len(model.trainable_weights)
    model.trainable = False
    frozen = clone_model(model)
    assert frozen.trainable is False and frozen.trainable_weights == []
    seq = Sequential([L.Dense(2, input_shape=(3,))], trainable=False)
    assert clone_model(seq).trainable is False
