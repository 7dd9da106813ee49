"""Layers written Keras's way (`build` + `add_weight` + `call`) run on fkeras's pure protocol:
built, trained, saved and loaded like built-in layers, pure under jit/grad/vmap, and equal to
the same class run by Keras 3."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fkeras
from fkeras import backend as K
from fkeras.layers import Dense, Input, Layer

X = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
Y = X.sum(1, keepdims=True)


def _linear_class(base):
    """The same Keras 3-style source for fkeras's and Keras's `Layer` (operators only)."""

    class Linear(base):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="random_normal", name="w"
            )
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
            super().build(input_shape)

        def call(self, inputs):
            return inputs @ self.w + self.b

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Linear


Linear = _linear_class(Layer)


class MyLayer(Layer):
    """The Keras 2 guide's custom layer, as written there."""

    def __init__(self, output_dim, **kwargs):
        self.output_dim = output_dim
        super(MyLayer, self).__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[1], self.output_dim),
            initializer="uniform",
            trainable=True,
        )
        super(MyLayer, self).build(input_shape)

    def call(self, x):
        return K.dot(x, self.kernel)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)


def test_keras2_guide_layer_trains_in_a_sequential_model():
    model = fkeras.Sequential([MyLayer(4, input_shape=(3,)), Dense(1)])
    model.compile("sgd", "mse")
    losses = model.fit(X, Y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    layer = model.layers[0]
    assert [w.name for w in layer.weights] == ["kernel"] and layer.built
    kernel = layer.kernel.numpy()  # outside `call`: a live view of the weight
    np.testing.assert_array_equal(kernel, layer.get_weights()[0])
    dense_w, dense_b = model.layers[1].get_weights()
    np.testing.assert_allclose(
        model.predict(X, verbose=0), X @ kernel @ dense_w + dense_b, rtol=1e-5, atol=1e-6
    )
    assert model.layers[0].output_shape == (None, 4)


def test_matches_keras3_outputs_and_training(keras3):
    ours = fkeras.Sequential([Input((3,)), Linear(4), Dense(1)])
    theirs = keras3.Sequential(
        [keras3.Input((3,)), _linear_class(keras3.layers.Layer)(4), keras3.layers.Dense(1)]
    )
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(
        ours.predict(X, verbose=0), theirs.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )
    for model, module in ((ours, fkeras), (theirs, keras3)):
        model.compile(module.optimizers.SGD(0.05), "mse")
    a = ours.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]
    b = theirs.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(a, b, rtol=1e-5)
    for u, v in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


def test_pure_apply_under_jit_grad_and_vmap():
    inputs = Input((3,))
    model = fkeras.Model(inputs, Dense(1)(Linear(4)(inputs)))
    variables = model.init(jax.random.key(0))

    def loss(params, x):
        out, _ = model.apply({"params": params, "state": variables["state"]}, x)
        return jnp.mean(out**2)

    grads = jax.jit(jax.grad(loss))(variables["params"], X)
    assert jax.tree.structure(grads) == jax.tree.structure(variables["params"])
    per_sample = jax.vmap(lambda x: model.apply(variables, x[None])[0][0])(X)
    np.testing.assert_allclose(per_sample, model.apply(variables, X)[0], rtol=1e-5, atol=1e-6)
    layer = model.layers[1]
    assert isinstance(
        layer.w, fkeras.layers._cell.Weight
    )  # the arrays were bound only inside `call`


class Scaled(Layer):
    """Weights made in `__init__`, a non-trainable one, a regularizer, a constraint, and a `call`
    with `training`."""

    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.scale = self.add_weight(
            shape=(dim,), initializer="ones", regularizer=fkeras.regularizers.l2(0.5),
            constraint=fkeras.constraints.NonNeg(), name="scale",
        )  # fmt: skip
        self.offset = self.add_weight(
            shape=(dim,), initializer="ones", trainable=False, name="offset"
        )

    def call(self, x, training=None):
        out = x * self.scale + self.offset
        return out * 2.0 if training else out


def test_init_weights_regularizer_constraint_and_training_flag():
    layer = Scaled(3)
    model = fkeras.Sequential([Input((3,)), layer])
    assert [(w.name, w.trainable) for w in layer.weights] == [("scale", True), ("offset", False)]
    np.testing.assert_allclose(model.predict(X, verbose=0), X + 1.0, rtol=1e-6)
    np.testing.assert_allclose(layer(X, training=True), 2.0 * (X + 1.0), rtol=1e-6)
    model.compile(fkeras.optimizers.SGD(1.0), "mse")
    # the penalty is part of the loss: 0.5 * sum(scale**2) = 1.5 on top of the MSE
    mse = float(np.mean((X + 1.0 - Y) ** 2))
    assert model.evaluate(X, Y, verbose=0) == pytest.approx(mse + 1.5, rel=1e-5)
    model.fit(X, -100.0 * np.abs(Y) - 100.0, epochs=1, batch_size=16, verbose=0)
    scale, offset = layer.get_weights()
    assert np.all(scale >= 0.0)  # NonNeg applied after the update
    np.testing.assert_array_equal(offset, 1.0)  # non-trainable: unchanged


class Pair(Layer):
    def build(self, input_shape):
        self.mix = self.add_weight(name="mix", shape=(input_shape[0][-1], input_shape[1][-1]))
        self.built = True  # Keras 2 layers often end `build` so

    def call(self, inputs):
        a, b = inputs
        return a @ self.mix + b


@pytest.mark.parametrize("fmt", [".keras", ".h5"])
def test_multi_input_layer_saves_and_loads(tmp_path, fmt):
    a, b = Input((3,)), Input((2,))
    model = fkeras.Model([a, b], Pair()([a, b]))
    model.compile("sgd", "mse")
    xb = np.ones((16, 2), "float32")
    model.save(tmp_path / f"m{fmt}")
    with pytest.raises(ValueError, match="Unknown layer class 'Pair'"):
        fkeras.models.load_model(tmp_path / f"m{fmt}")
    loaded = fkeras.models.load_model(tmp_path / f"m{fmt}", custom_objects={"Pair": Pair})
    np.testing.assert_array_equal(
        loaded.predict([X, xb], verbose=0), model.predict([X, xb], verbose=0)
    )


def test_mistakes_raise_clear_errors():
    class NoCall(Layer):
        pass

    with pytest.raises(NotImplementedError, match="implements neither `apply` nor `call`"):
        NoCall()(X)

    class Twice(Layer):
        def build(self, input_shape):
            self.a = self.add_weight(name="w", shape=(1,))
            self.b = self.add_weight(name="w", shape=(1,))

        def call(self, x):
            return x

    with pytest.raises(ValueError, match="two weights are named 'w'"):
        Twice()(X)

    class BadShape(Layer):
        def build(self, input_shape):
            self.a = self.add_weight(name="a", shape=(None, 2))

        def call(self, x):
            return x

    with pytest.raises(ValueError, match="shape of known integers"):
        BadShape()(X)
    with pytest.raises(TypeError, match="unexpected argument"):
        Linear(2).add_weight(shape=(1,), bogus=True)
    with pytest.raises(AttributeError, match="immutable spec"):
        Linear(2).units = 3  # outside `build`, layers stay frozen


class Matrix(Layer):
    """States what it takes, as Keras layers do: rank 2 with 3 features."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = fkeras.layers.InputSpec(ndim=2, axes={-1: 3})

    def call(self, x):
        return x * 2.0


def test_input_spec_is_checked_symbolically_and_eagerly():
    np.testing.assert_allclose(Matrix()(X), 2.0 * X)
    fkeras.Sequential([Input((3,)), Matrix()])  # fits
    with pytest.raises(
        ValueError, match=r"Input 0 of layer 'm1' is incompatible.*expected ndim=2, found ndim=3"
    ):
        Matrix(name="m1")(Input((4, 3)))
    with pytest.raises(
        ValueError, match=r"expected axis -1 of the input shape to have value 3, found 5"
    ):
        Matrix()(np.zeros((2, 5), "float32"))
    spec = fkeras.InputSpec(shape=(None, 3), dtype="float32")
    assert spec.ndim == 2 and fkeras.layers.InputSpec.from_config(spec.get_config()).shape == (
        None,
        3,
    )
    with pytest.raises(ValueError, match="`min_ndim` must be None or a non-negative integer"):
        fkeras.layers.InputSpec(min_ndim=-1)
