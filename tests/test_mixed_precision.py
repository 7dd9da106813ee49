"""Mixed precision: dtype policies, autocasting layers, float32 losses and dynamic loss scaling.

Parity with Keras 3 (JAX backend): identical weights give the same predictions under
`mixed_float16` / `mixed_bfloat16`, a few epochs of training give close losses, and
`LossScaleOptimizer` follows exactly Keras's scale trajectory on the same gradients.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import fkeras as keras
from fkeras import mixed_precision
from fkeras.engine import _steps
from fkeras.optimizers import _loss_scale

L = keras.layers
LSO = keras.optimizers.LossScaleOptimizer
SGD = keras.optimizers.SGD


@pytest.fixture(autouse=True)
def float32_policy():
    """Every test starts and ends with the default policy (the process is shared)."""
    mixed_precision.set_global_policy(None)
    yield
    mixed_precision.set_global_policy(None)


@pytest.fixture
def k3(keras3):
    keras3.mixed_precision.set_global_policy("float32")
    yield keras3
    keras3.mixed_precision.set_global_policy("float32")


# ---- policies ---------------------------------------------------------------------------------

POLICIES = [  # name, compute dtype, variable dtype
    ("float32", "float32", "float32"),
    ("float16", "float16", "float16"),
    ("bfloat16", "bfloat16", "bfloat16"),
    ("float64", "float64", "float64"),
    ("mixed_float16", "float16", "float32"),
    ("mixed_bfloat16", "bfloat16", "float32"),
]


@pytest.mark.parametrize("name,compute,variable", POLICIES)
def test_policy_dtypes_match_keras(k3, name, compute, variable):
    policy = mixed_precision.Policy(name)
    ref = k3.mixed_precision.DTypePolicy(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
    assert (ref.compute_dtype, ref.variable_dtype) == (compute, variable)
    assert repr(policy) == repr(ref) == f'<DTypePolicy "{name}">'
    other = mixed_precision.Policy("float16" if name != "float16" else "float32")
    assert policy == keras.dtype_policies.get(name) and policy != other
    assert keras.dtype_policies.get(ref.get_config()) == policy
    assert keras.dtype_policies.get(k3.dtype_policies.serialize(ref)) == policy


def test_global_policy_api_and_keras2_names():
    assert mixed_precision.global_policy().name == "float32"
    mixed_precision.set_global_policy("mixed_float16")
    assert mixed_precision.global_policy() == mixed_precision.DTypePolicy("mixed_float16")
    assert mixed_precision.dtype_policy().name == "mixed_float16"
    assert mixed_precision.DTypePolicy().name == "mixed_float16"  # None: the global policy's name
    mixed_precision.experimental.set_policy(mixed_precision.experimental.Policy("mixed_bfloat16"))
    assert mixed_precision.experimental.global_policy().name == "mixed_bfloat16"
    mixed_precision.set_dtype_policy("float32")
    assert mixed_precision.global_policy().name == "float32"
    keras.config.set_dtype_policy("mixed_float16")  # Keras 3's spelling
    assert keras.config.dtype_policy() is mixed_precision.global_policy()
    assert mixed_precision.LossScaleOptimizer is keras.optimizers.LossScaleOptimizer
    assert isinstance(mixed_precision.experimental.LossScaleOptimizer(SGD()), LSO)


@pytest.mark.parametrize(
    "call,error,text",
    [
        (lambda: mixed_precision.Policy("float33"), ValueError, "Received: name='float33'"),
        (lambda: mixed_precision.Policy("mixed_f16"), ValueError, "'mixed_float16', 'mixed_bf"),
        (lambda: mixed_precision.Policy(3), TypeError, "Received: name=3"),
        (lambda: mixed_precision.set_global_policy("fp"), ValueError, "Received: policy='fp'"),
        (lambda: mixed_precision.set_global_policy(16), ValueError, "Received: policy=16"),
        (lambda: L.Dense(2, dtype="mixed_float8"), ValueError, "Received: dtype='mixed_float8'"),
        (lambda: L.Dense(2, dtype=[1]), TypeError, "Received: dtype=[1]"),
        (lambda: mixed_precision.experimental.LossScaleOptimizer(SGD(), 8), ValueError, "=8"),
    ],
)
def test_policy_errors(call, error, text):
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value)


# ---- layers -----------------------------------------------------------------------------------


def test_layer_dtype_properties_and_config_round_trip():
    mixed_precision.set_global_policy("mixed_float16")
    dense = L.Dense(3)
    head = L.Dense(3, dtype="float32")
    given = L.Dense(3, dtype=mixed_precision.Policy("mixed_bfloat16"))
    assert (dense.dtype, dense.variable_dtype) == ("float32", "float32")
    assert dense.compute_dtype == "float16"
    assert dense.dtype_policy.name == "mixed_float16"
    assert (head.dtype_policy.name, head.compute_dtype) == ("float32", "float32")
    assert given.compute_dtype == "bfloat16"
    mixed_precision.set_global_policy(None)
    assert dense.get_config()["dtype"] == "mixed_float16"
    assert L.Dense.from_config(dense.get_config()).dtype_policy.name == "mixed_float16"
    keras3_form = {
        "module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"},
        "registered_name": None,
    }
    assert L.Dense(2, dtype=keras3_form).compute_dtype == "bfloat16"
    keras2_form = {"class_name": "Policy", "config": {"name": "mixed_float16"}}
    assert L.Dense(2, dtype=keras2_form).compute_dtype == "float16"
    assert L.Dense(2).get_config()["dtype"] == "float32"  # unchanged for float32 layers


def _models(K, kind):
    """The same small model in Keras 3 (K=keras3) or fkeras (K=fkeras); the head is float32."""
    if kind == "dense":
        inp = K.Input((6,))
        h = K.layers.Dense(16, activation="relu")(inp)
        h = K.layers.BatchNormalization()(h)
        h = K.layers.Dense(8, activation="tanh")(h)
    elif kind == "conv":
        inp = K.Input((6, 6, 2))
        h = K.layers.Conv2D(4, 3, activation="relu")(inp)
        h = K.layers.BatchNormalization()(h)
        h = K.layers.Flatten()(K.layers.MaxPooling2D()(h))
    else:
        inp = K.Input((5, 3))
        h = K.layers.LSTM(6)(inp)
    out = K.layers.Dense(3, activation="softmax", dtype="float32")(h)
    return K.Model(inp, out)


SHAPES = {"dense": (6,), "conv": (6, 6, 2), "lstm": (5, 3)}
MODELS = [(kind, policy) for kind in SHAPES for policy in ("mixed_float16", "mixed_bfloat16")]


def _data(kind, n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + SHAPES[kind]).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    return x, y


@pytest.mark.parametrize("kind,policy", MODELS)
def test_mixed_model_dtypes(kind, policy):
    mixed_precision.set_global_policy(policy)
    model = _models(keras, kind)
    compute = mixed_precision.Policy(policy).compute_dtype
    assert {w.dtype for w in model.weights} == {"float32"}
    assert model.inputs[0].dtype == "float32"
    for layer in model.layers[1:-1]:
        assert layer.output.dtype == compute, layer.name
        assert layer(np.zeros((2,) + tuple(layer.input.shape[1:]), "float32")).dtype == compute
    assert model.layers[-1].output.dtype == "float32"
    x, _ = _data(kind, 4)
    assert model.predict(x, verbose=0).dtype == np.float32
    inner = keras.Model(model.inputs, model.layers[-2].output)
    assert inner.predict(x, verbose=0).dtype == jnp.dtype(compute)


@pytest.mark.parametrize("kind,policy", MODELS)
def test_mixed_predictions_match_keras(k3, kind, policy):
    k3.mixed_precision.set_global_policy(policy)
    mixed_precision.set_global_policy(policy)
    k3.utils.set_random_seed(0)  # the same weights every run
    ref, model = _models(k3, kind), _models(keras, kind)
    model.set_weights(ref.get_weights())
    x, _ = _data(kind)
    inner_ref = k3.Model(ref.inputs, ref.layers[-2].output)
    inner = keras.Model(model.inputs, model.layers[-2].output)
    np.testing.assert_allclose(
        np.asarray(inner.predict(x, verbose=0), np.float32),
        np.asarray(inner_ref.predict(x, verbose=0), np.float32), rtol=1e-2, atol=1e-2,
    )
    np.testing.assert_allclose(
        model.predict(x, verbose=0), ref.predict(x, verbose=0), rtol=1e-2, atol=1e-3
    )


TRAIN_PARITY = [("dense", "mixed_float16"), ("conv", "mixed_bfloat16"), ("lstm", "mixed_float16")]


@pytest.mark.parametrize("kind,policy", TRAIN_PARITY)
def test_mixed_training_matches_keras(k3, kind, policy):
    k3.mixed_precision.set_global_policy(policy)
    mixed_precision.set_global_policy(policy)
    k3.utils.set_random_seed(0)  # the same weights every run
    ref, model = _models(k3, kind), _models(keras, kind)
    model.set_weights(ref.get_weights())
    ref.compile(optimizer=k3.optimizers.SGD(0.1), loss="categorical_crossentropy")
    optimizer = SGD(0.1)
    if policy == "mixed_float16":  # as Keras 3's compile does
        assert isinstance(ref.optimizer, k3.optimizers.LossScaleOptimizer)
        optimizer = LSO(optimizer)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    x, y = _data(kind)
    want = ref.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]
    got = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(got, want, rtol=2e-3)
    for w, r in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(w, r, rtol=1e-2, atol=2e-3)


@pytest.mark.parametrize("layer", [L.BatchNormalization, L.LayerNormalization])
def test_normalization_statistics_in_float32(layer):
    """Half-precision inputs whose square overflows float16 still normalize (Keras computes the
    statistics in float32 from float32 weights)."""
    mixed_precision.set_global_policy("mixed_float16")
    norm = layer()
    x = np.array([[1000.0, -1000.0, 500.0, 0.0]] * 4, np.float32).reshape(4, 4)
    x = x + np.arange(4, dtype=np.float32)[:, None] * 300.0
    out = norm(x, training=True)
    assert out.dtype == jnp.float16 and {w.dtype for w in norm.weights} == {"float32"}
    mixed_precision.set_global_policy(None)
    ref = layer()(x, training=True)
    np.testing.assert_allclose(np.asarray(out, np.float32), ref, rtol=1e-2, atol=1e-2)


def test_loss_and_metrics_in_float32():
    """A model ending in float16 is scored by losses and metrics on float32 predictions."""
    mixed_precision.set_global_policy("mixed_float16")
    inp = keras.Input((4,))
    model = keras.Model(inp, L.Dense(3, activation="softmax")(inp))
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x, y = _data("dense", 8)[0][:, :4], _data("dense", 8)[1]
    pred = model.predict(x, verbose=0)
    assert pred.dtype == np.float16
    loss, _ = model.evaluate(x, y, verbose=0)
    ref = keras.losses.categorical_crossentropy(y, pred.astype(np.float32))
    np.testing.assert_allclose(loss, float(np.mean(ref)), rtol=1e-6)


def _jaxpr(model, x, training=False) -> str:
    fn = lambda v, a: model.apply(v, a, training=training, rng=jax.random.key(0))  # noqa: E731
    return str(jax.make_jaxpr(fn)(model.get_variables(), x))


def test_float32_policy_inserts_no_casts():
    """The float32 path is unchanged: no dtype conversion, no half precision in the program."""
    x, _ = _data("dense", 2)
    dense = keras.Sequential([L.Dense(4, activation="relu", input_shape=(6,)), L.Dense(2)])
    assert "convert_element_type" not in _jaxpr(dense, x)
    assert "f16" not in _jaxpr(_models(keras, "dense"), x, training=True)
    mixed_precision.set_global_policy("mixed_float16")
    mixed = keras.Sequential([L.Dense(4, activation="relu", input_shape=(6,)), L.Dense(2)])
    # the input, 2 kernels and 2 biases
    assert _jaxpr(mixed, x).count("convert_element_type[new_dtype=float16") == 5


# ---- loss scaling -----------------------------------------------------------------------------


def _tiny_model(kernel=1.0, constraint=None):
    init = keras.initializers.Constant(kernel)
    dense = L.Dense(
        1, use_bias=False, kernel_initializer=init, kernel_constraint=constraint, input_shape=(2,)
    )
    return keras.Sequential([dense])


def _tiny_loss(factor):
    def loss(y_true, y_pred):
        return factor * jnp.mean(y_pred) + 0.0 * jnp.mean(y_true)

    return loss


def test_loss_scaling_rescues_underflowing_gradients():
    """d loss / d output = 1e-9: zero in float16, so only a scaled loss trains the model."""
    x, y = np.full((4, 2), 0.5, np.float32), np.zeros((4, 1), np.float32)
    results = {}
    for policy, wrap in (("float32", False), ("mixed_float16", False), ("mixed_float16", True)):
        mixed_precision.set_global_policy(policy)
        model = _tiny_model()
        optimizer = SGD(1e4)
        # auto_scale_loss=False: compile would wrap the optimizer itself under mixed_float16
        model.compile(LSO(optimizer) if wrap else optimizer, _tiny_loss(1e-9), auto_scale_loss=False)
        model.train_on_batch(x, y)
        results[(policy, wrap)] = model.get_weights()[0]
    reference = results[("float32", False)]
    assert np.all(reference < 1.0)  # the float32 model moved: -lr * 0.5e-9 per weight
    np.testing.assert_array_equal(results[("mixed_float16", False)], np.ones((2, 1)))  # underflow
    np.testing.assert_allclose(results[("mixed_float16", True)] - 1.0, reference - 1.0, rtol=1e-2)


@pytest.mark.parametrize("kernel,constraint", [(1.0, None), (-1.0, "non_neg")])
def test_overflow_skips_the_step_and_halves_the_scale(kernel, constraint):
    mixed_precision.set_global_policy("mixed_float16")
    model = _tiny_model(kernel, constraint)
    optimizer = LSO(SGD(0.1), initial_scale=2.0**15)
    model.compile(optimizer, _tiny_loss(1e30))  # finite float32 loss, float16 gradients overflow
    before = model.get_weights()
    loss = model.train_on_batch(np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32))
    assert loss == pytest.approx(2e30 * kernel, rel=1e-3)  # finite, logged unscaled
    np.testing.assert_array_equal(model.get_weights()[0], before[0])  # not even constrained
    assert (optimizer.dynamic_scale, optimizer.step_counter) == (2.0**14, 0)
    assert optimizer.iterations == 0
    model.compile(optimizer, _tiny_loss(1e-3))  # a finite step updates (and constrains)
    model.train_on_batch(np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32))
    assert optimizer.iterations == 1 and not np.array_equal(model.get_weights()[0], before[0])


def test_scale_grows_after_dynamic_growth_steps():
    model = _tiny_model()
    optimizer = LSO(SGD(0.1), initial_scale=4.0, dynamic_growth_steps=3)
    model.compile(optimizer, _tiny_loss(1.0))
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    seen = []
    for _ in range(7):
        model.train_on_batch(x, y)
        seen.append((float(optimizer.dynamic_scale), int(optimizer.step_counter)))
    assert seen == [(4, 1), (4, 2), (8, 0), (8, 1), (8, 2), (16, 0), (16, 1)]
    assert optimizer.iterations == 7


GRADIENTS = [1.0, np.inf, 2.0, -3.0, np.nan, 0.5, 1.0, 4.0, -np.inf, 1.0, 2.0, 2.0]


def test_scale_trajectory_matches_keras(k3):
    """The same gradient sequence (with inf/nan entries) through both LossScaleOptimizers."""
    settings = dict(initial_scale=16.0, dynamic_growth_steps=2)
    ref = k3.optimizers.LossScaleOptimizer(k3.optimizers.SGD(0.5), **settings)
    var = k3.Variable(np.array([1.0, -2.0], np.float32))
    ref.build([var])
    names = [v.path for v in ref.variables]
    scale_at = names.index(f"{ref.name}/dynamic_scale")
    counter_at = names.index(f"{ref.name}/step_counter")
    iteration_at = names.index(f"{ref.inner_optimizer.name}/iteration")
    ref_vars, ref_w = [v.value for v in ref.variables], [var.value]
    opt = LSO(SGD(0.5), **settings)
    tx = opt.transform()
    params = {"w": jnp.array([1.0, -2.0])}
    state = tx.init(params)
    update = jax.jit(tx.update)
    for g in GRADIENTS:
        grad = np.array([g, 3.0 * g], np.float32)
        ref_w, ref_vars = ref.stateless_apply(ref_vars, [jnp.asarray(grad)], ref_w)
        updates, state = update({"w": jnp.asarray(grad)}, state, params)
        params = optax.apply_updates(params, updates)
        np.testing.assert_allclose(params["w"], ref_w[0], rtol=1e-6)
        assert float(state.dynamic_scale) == float(ref_vars[scale_at])
        assert int(state.step_counter) == int(ref_vars[counter_at])
    opt.attach_state(state)
    assert opt.iterations == int(ref_vars[iteration_at]) == 9  # the 3 non-finite steps do not count


def test_fused_and_step_by_step_fit_agree():
    """Overflow skips and growth inside the whole-epoch lax.scan match one step per dispatch."""
    x, y = _data("dense", 40)
    mixed_precision.set_global_policy("mixed_float16")
    keras.utils.set_random_seed(7)  # initial weights that overflow float16 at the initial scale
    start = _models(keras, "dense").get_weights()
    runs = []
    for spe in ("auto", 1):
        model = _models(keras, "dense")
        model.set_weights(start)
        optimizer = LSO(keras.optimizers.Adam(0.01), initial_scale=2.0**18, dynamic_growth_steps=2)
        model.compile(optimizer, "categorical_crossentropy", steps_per_execution=spe)
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
        scale = float(optimizer.dynamic_scale)
        runs.append((history, model.get_weights(), scale, optimizer.iterations))
    (h1, w1, s1, i1), (h2, w2, s2, i2) = runs
    np.testing.assert_allclose(h1, h2, rtol=1e-6)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert (s1, i1) == (s2, i2) and 0 < i1 < 10  # some steps were skipped, others applied


# ---- the LossScaleOptimizer facade ------------------------------------------------------------


def test_learning_rate_and_config_through_the_wrapper(k3):
    inner = keras.optimizers.Adam(0.01)
    opt = LSO(inner, initial_scale=256.0, dynamic_growth_steps=10)
    assert float(opt.learning_rate) == pytest.approx(0.01) and float(opt.lr) == pytest.approx(0.01)
    opt.learning_rate = 0.5
    assert float(inner.learning_rate) == 0.5
    config = opt.get_config()
    ref = k3.optimizers.LossScaleOptimizer(
        k3.optimizers.Adam(0.5), initial_scale=256.0, dynamic_growth_steps=10
    )
    assert set(config) == set(ref.get_config())
    assert config["inner_optimizer"]["class_name"] == "Adam"
    again = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(again, keras.optimizers.LossScaleOptimizer)
    assert (again.initial_scale, again.dynamic_growth_steps) == (256.0, 10)
    assert float(again.learning_rate) == 0.5
    from_keras = keras.optimizers.deserialize(k3.optimizers.serialize(ref))
    assert from_keras.get_config()["initial_scale"] == 256.0
    assert isinstance(from_keras.inner_optimizer, keras.optimizers.Adam)


def test_learning_rate_callback_reaches_the_inner_optimizer():
    model = _tiny_model()
    opt = LSO(SGD(0.1))
    model.compile(opt, "mse")
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[schedule])
    assert float(opt.inner_optimizer.learning_rate) == pytest.approx(0.025)


@pytest.mark.parametrize(
    "kwargs,error,text",
    [
        (dict(dynamic=False), ValueError, "dynamic=False"),
        (dict(clipnorm=1.0), ValueError, "`clipnorm`"),
        (dict(momentum=0.9), ValueError, "momentum=0.9"),
        (dict(initial_scale=0), ValueError, "initial_scale=0"),
        (dict(dynamic_growth_steps=1.5), ValueError, "dynamic_growth_steps=1.5"),
        (dict(inner_optimizer=None), TypeError, "inner_optimizer=None"),
    ],
)
def test_loss_scale_optimizer_errors(kwargs, error, text):
    inner = kwargs.pop("inner_optimizer", SGD())
    with pytest.raises(error) as info:
        LSO(inner, **kwargs)
    assert text in str(info.value)


def test_compile_wraps_the_optimizer_under_mixed_float16():
    """Keras 3's compile: only for a 'mixed_float16' model, only with auto_scale_loss."""
    for policy, auto, wrapped in [("mixed_float16", True, True), ("mixed_float16", False, False),
                                  ("mixed_bfloat16", True, False), ("float32", True, False)]:
        mixed_precision.set_global_policy(policy)
        model = _tiny_model()
        model.compile("adam", "mse", auto_scale_loss=auto)
        assert isinstance(model.optimizer, LSO) == wrapped, policy
        direct = _loss_scale.wrap_for_policy(keras.optimizers.Adam(), model.dtype_policy, auto)
        assert isinstance(direct, LSO) == wrapped
    mixed_precision.set_global_policy("mixed_float16")
    model = _tiny_model()
    model.compile("sgd", "mse")
    assert model.optimizer.name == "loss_scale_optimizer"
    assert isinstance(model.optimizer.inner_optimizer, keras.optimizers.SGD)


def test_save_and_load_a_loss_scaled_model(tmp_path):
    mixed_precision.set_global_policy("mixed_float16")
    model = _models(keras, "dense")
    opt = LSO(keras.optimizers.Adam(0.01), initial_scale=64.0, dynamic_growth_steps=3)
    model.compile(opt, "categorical_crossentropy")
    x, y = _data("dense", 16)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    mixed_precision.set_global_policy(None)
    path = str(tmp_path / "mixed.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    policies = [layer.dtype_policy.name for layer in model.layers[1:]]
    assert [layer.dtype_policy.name for layer in loaded.layers[1:]] == policies
    assert isinstance(loaded.optimizer, keras.optimizers.LossScaleOptimizer)
    assert loaded.optimizer.dynamic_scale == opt.dynamic_scale
    assert loaded.optimizer.iterations == opt.iterations
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_train_step_reads_the_scale_only_from_a_loss_scale_state():
    assert _loss_scale.current_scale(optax.EmptyState()) is None
    state = LSO(SGD()).transform().init({"w": jnp.zeros(2)})
    assert float(_loss_scale.current_scale(state)) == 2.0**15
    assert _steps._loss_dtype([jnp.zeros(2, jnp.float16)])[0].dtype == jnp.float32


@pytest.mark.parametrize("scale", [2.0**13, 2.0**14, 2.0**15])
def test_recurrent_weight_gradients_do_not_overflow_where_keras_does_not(k3, scale):
    """Two stacked LSTMs over 200 steps under mixed_float16: with these loss scales Keras 3 (which
    casts the weights inside each step, so sums over time stay float32) skips a step only at
    2**15. fkeras's recurrent layers compute in float32 under a mixed policy, so their weight
    gradients (sums over batch x time) overflow exactly where Keras's do, not before."""
    rng = np.random.RandomState(0)
    x = (rng.randn(64, 200, 8) * 3).astype("float32")
    y = (rng.randn(64, 1) * 50).astype("float32")
    results, weights = [], None
    for K in (k3, keras):
        K.mixed_precision.set_global_policy("mixed_float16")
        inp = K.Input((200, 8))
        h = K.layers.LSTM(8)(K.layers.LSTM(16, return_sequences=True)(inp))
        model = K.Model(inp, K.layers.Dense(1, dtype="float32")(h))
        K.mixed_precision.set_global_policy("float32")
        assert model.layers[1].compute_dtype == "float16"
        weights = weights or model.get_weights()
        model.set_weights(weights)
        optimizer = K.optimizers.LossScaleOptimizer(K.optimizers.SGD(0.01), initial_scale=scale)
        model.compile(optimizer, "mse")
        model.train_on_batch(x, y)
        results.append((float(np.asarray(optimizer.dynamic_scale)), int(np.asarray(optimizer.iterations))))
        assert np.asarray(model.predict(x[:2], verbose=0)).dtype == np.float32
    assert results[1] == results[0]
    assert results[0] == ((scale, 1) if scale < 2.0**15 else (scale / 2, 0))
