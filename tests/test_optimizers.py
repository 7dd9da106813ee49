"""fkeras.optimizers: parity with Keras 3 (JAX backend), the engine's interface, config, errors."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402

import fkeras.optimizers as optimizers  # noqa: E402
from fkeras.optimizers import schedules  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6
N_STEPS = 10
SHAPES = [(3, 4), (5,)]


def same(**kwargs):
    """Row helper: the same constructor arguments for fkeras and Keras."""
    return lambda s: dict(kwargs)


def fk_vs_k(fkeras_kwargs, keras_kwargs):
    """Row helper: different arguments (Keras 2 spellings on the fkeras side)."""
    return fkeras_kwargs, keras_kwargs


# id -> (class name, fkeras kwargs, Keras kwargs); kwargs are functions of the schedules module,
# so that each side builds its own schedule objects.
CASES = {
    "sgd": ("SGD", same(learning_rate=0.1), None),
    "sgd_momentum": ("SGD", same(learning_rate=0.1, momentum=0.9), None),
    "sgd_nesterov": ("SGD", same(learning_rate=0.1, momentum=0.9, nesterov=True), None),
    "sgd_keras2_decay": (
        "SGD",
        lambda s: dict(lr=0.1, decay=0.1, momentum=0.9, nesterov=True),
        lambda s: dict(learning_rate=s.InverseTimeDecay(0.1, 1, 0.1), momentum=0.9, nesterov=True),
    ),
    "rmsprop": ("RMSprop", same(), None),
    "rmsprop_centered_momentum": (
        "RMSprop", same(learning_rate=0.01, rho=0.8, momentum=0.5, centered=True), None
    ),
    "rmsprop_momentum_decay": (
        "RMSprop",
        lambda s: dict(lr=0.01, decay=0.2, momentum=0.7),
        lambda s: dict(learning_rate=s.InverseTimeDecay(0.01, 1, 0.2), momentum=0.7),
    ),
    "adagrad": ("Adagrad", same(learning_rate=0.1), None),
    "adadelta": ("Adadelta", same(learning_rate=1.0), None),
    "adam": ("Adam", same(learning_rate=0.01), None),
    "adam_amsgrad": ("Adam", same(learning_rate=0.01, beta_2=0.9, amsgrad=True), None),
    "adamax": ("Adamax", same(learning_rate=0.01), None),
    "nadam": ("Nadam", same(learning_rate=0.01), None),
    "adamw": ("AdamW", same(learning_rate=0.01, weight_decay=0.1), None),
    "ftrl": ("Ftrl", same(learning_rate=0.1), None),
    "ftrl_regularized": (
        "Ftrl",
        same(
            learning_rate=0.1, learning_rate_power=-0.7, l1_regularization_strength=0.01,
            l2_regularization_strength=0.02, l2_shrinkage_regularization_strength=0.03, beta=0.5,
            weight_decay=0.05,
        ),
        None,
    ),
    "lion": ("Lion", same(learning_rate=0.01), None),
    "adam_clipnorm": ("Adam", same(learning_rate=0.01, clipnorm=0.5), None),
    "sgd_clipvalue": ("SGD", same(learning_rate=0.1, clipvalue=0.3), None),
    "rmsprop_global_clipnorm": ("RMSprop", same(global_clipnorm=1.0), None),
    "sgd_weight_decay": ("SGD", same(learning_rate=0.1, momentum=0.5, weight_decay=0.2), None),
    "adam_exponential_decay": (
        "Adam", lambda s: dict(learning_rate=s.ExponentialDecay(0.01, 3, 0.5)), None
    ),
    "sgd_piecewise": (
        "SGD",
        lambda s: dict(learning_rate=s.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01]),
                       momentum=0.9),
        None,
    ),
    "adam_cosine_warmup": (
        "Adam",
        lambda s: dict(learning_rate=s.CosineDecay(0.0, 6, alpha=0.1, warmup_target=0.02,
                                                   warmup_steps=3)),
        None,
    ),
    "nadam_clipnorm_weight_decay": (
        "Nadam", same(learning_rate=0.01, clipnorm=1.0, weight_decay=0.1), None
    ),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    grads = [[2 * rng.normal(size=s).astype(np.float32) for s in SHAPES] for _ in range(N_STEPS)]
    grads[3][1] = np.zeros(SHAPES[1], np.float32)  # an all-zero gradient (clipnorm's 0/0 guard)
    return params, grads


def build_pair(keras3, case):
    cls_name, fk_kwargs, k_kwargs = CASES[case]
    k_kwargs = k_kwargs or fk_kwargs
    fk_opt = getattr(optimizers, cls_name)(**fk_kwargs(schedules))
    k_opt = getattr(keras3.optimizers, cls_name)(**k_kwargs(keras3.optimizers.schedules))
    return fk_opt, k_opt


def run_fkeras(opt, params, grads):
    """Yields the params after each update, with a jitted update."""
    tx = opt.transform()
    state = tx.init([jnp.asarray(p) for p in params])
    update = jax.jit(tx.update)
    current = [jnp.asarray(p) for p in params]
    for g in grads:
        updates, state = update([jnp.asarray(x) for x in g], state, current)
        current = optax.apply_updates(current, updates)
        opt.attach_state(state)
        yield current


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras3_step_by_step(keras3, data, case):
    params, grads = data
    fk_opt, k_opt = build_pair(keras3, case)
    k_vars = [keras3.Variable(p) for p in params]
    for step, (g, ours) in enumerate(zip(grads, run_fkeras(fk_opt, params, grads))):
        k_opt.apply_gradients(zip([jnp.asarray(x) for x in g], k_vars))
        for i, (k_var, mine) in enumerate(zip(k_vars, ours)):
            np.testing.assert_allclose(
                np.asarray(mine), np.asarray(k_var.value), rtol=RTOL, atol=ATOL,
                err_msg=f"{case}: variable {i} after step {step + 1}",
            )
    # The optimizer state too, in Keras 3's variable order.
    assert fk_opt.iterations == N_STEPS
    k_weights = [np.asarray(v.value) for v in k_opt.variables]
    fk_weights = fk_opt.get_weights()
    if fk_opt.decay:  # Keras 3 ran an InverseTimeDecay schedule: no learning rate variable
        del fk_weights[1]
    assert [w.shape for w in fk_weights] == [w.shape for w in k_weights]
    assert fk_weights[0].dtype == np.int32 and int(fk_weights[0]) == N_STEPS
    for i, (mine, theirs) in enumerate(zip(fk_weights, k_weights)):
        scale = max(1.0, float(np.max(np.abs(theirs))))
        np.testing.assert_allclose(
            mine, theirs, rtol=RTOL, atol=ATOL * scale, err_msg=f"{case}: weight {i}"
        )


@pytest.mark.parametrize("case", ["adam_amsgrad", "nadam", "rmsprop_centered_momentum", "ftrl"])
def test_set_weights_from_keras_then_continue(keras3, data, case):
    """Load Keras's optimizer state half-way through, then both continue identically."""
    params, grads = data
    fk_opt, k_opt = build_pair(keras3, case)
    k_vars = [keras3.Variable(p) for p in params]
    for g in grads[:5]:
        k_opt.apply_gradients(zip([jnp.asarray(x) for x in g], k_vars))
    current = [jnp.asarray(v.value) for v in k_vars]
    fk_opt.build(current)
    fk_opt.set_weights([np.asarray(v.value) for v in k_opt.variables])
    assert fk_opt.iterations == 5
    tx, state = fk_opt.transform(), fk_opt.state
    for g in grads[5:]:
        k_opt.apply_gradients(zip([jnp.asarray(x) for x in g], k_vars))
        updates, state = tx.update([jnp.asarray(x) for x in g], state, current)
        current = optax.apply_updates(current, updates)
    for k_var, mine in zip(k_vars, current):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(k_var.value), rtol=RTOL, atol=ATOL)


def test_keras2_decay_is_lr_over_one_plus_decay_t(data):
    params, grads = data
    lr, decay = 0.1, 0.5
    expected = [p.copy() for p in params]
    for t, (g, ours) in enumerate(zip(grads, run_fkeras(optimizers.SGD(lr=lr, decay=decay),
                                                       params, grads))):
        rate = np.float32(lr) / (np.float32(1) + np.float32(decay) * np.float32(t))
        expected = [p - g_i * rate for p, g_i in zip(expected, g)]
        for e, o in zip(expected, ours):
            np.testing.assert_allclose(np.asarray(o), e, rtol=RTOL, atol=ATOL)


def test_optax_schedule_as_learning_rate(data):
    params, grads = data
    ours = list(run_fkeras(optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.01, 3, 0.5)),
                           params, grads))
    theirs = list(run_fkeras(optimizers.Adam(learning_rate=optax.exponential_decay(0.01, 3, 0.5)),
                             params, grads))
    for a, b in zip(ours[-1], theirs[-1]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=ATOL)


# -------------------------------------------------------------------------------------------------
# Learning rate at runtime
# -------------------------------------------------------------------------------------------------


def test_setting_learning_rate_does_not_retrace():
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    tx = opt.transform()
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    grads = jax.tree.map(jnp.ones_like, params)
    traces = []

    @jax.jit
    def step(params, state):
        traces.append(1)
        updates, state = tx.update(grads, state, params)
        return updates, state

    state = opt.sync(tx.init(params))
    updates, state = step(params, state)
    np.testing.assert_allclose(updates["b"], -0.1, rtol=1e-6)
    state = opt.sync(state)  # nothing changed since init
    opt.attach_state(state)

    opt.learning_rate = 0.01
    state = opt.sync(state)
    assert float(state.learning_rate) == pytest.approx(0.01)
    updates, state = step(params, state)
    # momentum 0.9 * (-0.1) - 0.01 * 1: the new rate was used, and the velocity kept
    np.testing.assert_allclose(updates["b"], -0.1 * 0.9 - 0.01, rtol=1e-6)
    opt.lr.assign(0.5)  # Keras 2 spelling, via K.set_value
    updates, state = step(params, opt.sync(state))
    np.testing.assert_allclose(updates["b"], (-0.1 * 0.9 - 0.01) * 0.9 - 0.5, rtol=1e-6)
    assert len(traces) == 1  # one trace: the rate is a state leaf, not a constant
    assert opt.transform() is tx


def test_sync_returns_same_state_when_unchanged():
    opt = optimizers.Adam()
    state = opt.transform().init({"w": jnp.ones(2)})
    assert opt.sync(state) is state
    opt.learning_rate = 0.5
    new = opt.sync(state)
    assert new is not state and float(new.learning_rate) == 0.5
    assert opt.sync(new) is new


def test_sync_after_init_with_changed_rate():
    # An optimizer shared by two models: the second init reads the current host rate.
    opt = optimizers.SGD(learning_rate=0.1)
    tx = opt.transform()
    tx.init({"w": jnp.ones(2)})
    opt.learning_rate = 0.2
    state = opt.sync(tx.init({"w": jnp.ones(2)}))
    assert float(state.learning_rate) == pytest.approx(0.2)


def test_learning_rate_variable_behaves_like_keras_variable():
    opt = optimizers.RMSprop(learning_rate=0.01)
    lr = opt.learning_rate
    assert float(lr) == pytest.approx(0.01)
    assert lr.numpy().dtype == np.float32 and np.asarray(lr).shape == ()
    assert lr * 0.5 == pytest.approx(0.005) and 0.5 * lr == pytest.approx(0.005)
    assert lr + 1 == pytest.approx(1.01) and 1 - lr == pytest.approx(0.99)
    assert lr / 2 == pytest.approx(0.005) and lr > 0.001 and lr < 0.1 and lr == np.float32(0.01)
    assert f"{lr:.3f}" == "0.010"
    lr.assign(0.02)
    assert float(opt.lr) == pytest.approx(0.02)  # a live view, under both names
    opt.lr = 0.03
    assert float(lr) == pytest.approx(0.03)
    opt.learning_rate = np.float32(0.04)
    assert float(opt.learning_rate) == pytest.approx(0.04)
    assert opt.get_config()["learning_rate"] == pytest.approx(0.04)


def test_schedule_learning_rate_reads_current_step_and_refuses_assignment():
    opt = optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1, 0.5))
    assert float(opt.learning_rate) == pytest.approx(0.1)
    opt.build({"w": jnp.ones(2)})
    state = opt.state
    for _ in range(2):
        _, state = opt.transform().update({"w": jnp.ones(2)}, state, {"w": jnp.ones(2)})
    opt.attach_state(state)
    assert float(opt.learning_rate) == pytest.approx(0.025)
    assert float(state.learning_rate) == pytest.approx(0.05)  # the rate the last update used
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.01
    with pytest.raises(TypeError, match="not settable"):
        opt.lr.assign(0.01)
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = schedules.ExponentialDecay(0.2, 1, 0.5)  # after transform()


def test_iterations_and_weights_before_and_after_training():
    opt = optimizers.Adam(learning_rate=0.01)
    assert opt.iterations == 0
    weights = opt.get_weights()
    assert [w.dtype for w in weights] == [np.int32, np.float32]
    with pytest.raises(ValueError, match="no state yet"):
        opt.set_weights(weights)
    params = {"b": jnp.zeros(3), "a": jnp.ones((2, 2))}
    state = opt.transform().init(params)
    for _ in range(3):
        _, state = opt.transform().update(jax.tree.map(jnp.ones_like, params), state, params)
    opt.attach_state(state)
    assert opt.iterations == 3
    weights = opt.get_weights()
    # iterations, learning_rate, then (momentum, velocity) per variable in tree-leaf order
    assert [w.shape for w in weights] == [(), (), (2, 2), (2, 2), (3,), (3,)]
    assert opt.variables[0] == 3
    with pytest.raises(ValueError, match="expects 6 weight arrays"):
        opt.set_weights(weights[:-1])
    with pytest.raises(ValueError, match="shape"):
        opt.set_weights(weights[:-1] + [np.zeros(4)])
    weights[0] = np.asarray(7, np.int32)
    weights[1] = np.asarray(0.5, np.float32)
    opt.set_weights(weights)
    assert opt.iterations == 7 and float(opt.learning_rate) == 0.5
    assert int(opt.state.inner_state[-1].count) == 7  # Adam's own step follows


def test_strict_dtype_and_rank_promotion():
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    grads = jax.tree.map(lambda p: jnp.full_like(p, 0.5), params)
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        for case, (cls_name, fk_kwargs, _) in CASES.items():
            tx = getattr(optimizers, cls_name)(**fk_kwargs(schedules)).transform()
            state = tx.init(params)
            updates, state = jax.jit(tx.update)(grads, state, params)
            assert jax.tree.map(lambda u: u.dtype, updates) == jax.tree.map(
                lambda p: p.dtype, params
            ), case


def test_bfloat16_params_keep_their_dtype():
    params = {"w": jnp.ones((2, 3), jnp.bfloat16)}
    for name in ["sgd", "adam", "nadam", "ftrl", "lion", "rmsprop"]:
        tx = optimizers.get(name).transform()
        updates, _ = tx.update(params, tx.init(params), params)
        assert updates["w"].dtype == jnp.bfloat16, name


# -------------------------------------------------------------------------------------------------
# Identifiers, config, serialization
# -------------------------------------------------------------------------------------------------

NAMES = [
    "sgd", "rmsprop", "adam", "adagrad", "adadelta", "adamax", "nadam", "adamw", "ftrl", "lion",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras's own
def test_get_by_name_has_keras3_defaults(keras3, name):
    ours = optimizers.get(name.upper())
    theirs = keras3.optimizers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    k_config = theirs.get_config()
    for key, value in ours.get_config().items():
        if key == "name":
            continue
        if key == "learning_rate":
            assert value == pytest.approx(k_config[key])
        else:
            assert value == k_config[key], key
    assert optimizers.get(ours) is ours


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip(case):
    cls_name, fk_kwargs, _ = CASES[case]
    opt = getattr(optimizers, cls_name)(**fk_kwargs(schedules))
    config = opt.get_config()
    assert type(opt).from_config(config).get_config() == config
    serialized = optimizers.serialize(opt)
    assert serialized["class_name"] == cls_name
    again = optimizers.deserialize(serialized)
    assert type(again) is type(opt) and again.get_config() == config
    assert optimizers.get(serialized).get_config() == config


def test_configs_interoperate_with_keras3(keras3):
    sched = schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=2)
    ours = optimizers.Adam(learning_rate=sched, beta_1=0.8, amsgrad=True, clipnorm=1.0)
    theirs = keras3.optimizers.deserialize(optimizers.serialize(ours))
    assert isinstance(theirs, keras3.optimizers.Adam)
    assert theirs.beta_1 == 0.8 and theirs.amsgrad and theirs.clipnorm == 1.0
    back = optimizers.deserialize(keras3.optimizers.serialize(theirs))
    assert back.get_config() == {**ours.get_config(), "name": back.name}
    assert back._learning_rate == sched


def test_keras2_config_loads():
    config = {"class_name": "SGD", "config": {"lr": 0.01, "momentum": 0.9, "decay": 1e-6,
                                              "nesterov": True}}
    opt = optimizers.deserialize(config)
    assert float(opt.lr) == pytest.approx(0.01) and opt.decay == 1e-6 and opt.nesterov
    assert opt.get_config()["decay"] == 1e-6


def test_keras3_only_features_are_refused_from_config():
    config = optimizers.Adam().get_config()
    assert optimizers.Adam.from_config({**config, "use_ema": False, "ema_momentum": 0.99})
    with pytest.raises(ValueError, match="use_ema"):
        optimizers.Adam.from_config({**config, "use_ema": True})


def test_optax_transformation_is_wrapped():
    opt = optimizers.get(optax.sgd(0.5))
    assert isinstance(opt, optimizers.OptaxOptimizer) and isinstance(opt, optimizers.Optimizer)
    params = {"w": jnp.ones(2)}
    tx = opt.transform()
    state = tx.init(params)
    updates, state = tx.update({"w": jnp.ones(2)}, state, params)
    np.testing.assert_allclose(updates["w"], -0.5)
    assert opt.sync(state) is state
    opt.attach_state(state)
    assert opt.iterations == 1 and len(opt.get_weights()) == 1  # sgd has no slots
    with pytest.raises(AttributeError, match="raw optax"):
        opt.learning_rate  # noqa: B018
    assert not hasattr(opt, "lr")  # as callbacks check it
    with pytest.raises(TypeError, match="raw optax"):
        opt.learning_rate = 0.1
    with pytest.raises(TypeError, match="no Keras config"):
        optimizers.serialize(opt)
    adam = optimizers.get(optax.adam(1e-3))
    adam.build(params)
    weights = adam.get_weights()
    adam.set_weights([np.asarray(4, np.int32)] + weights[1:])
    assert adam.iterations == 4


# -------------------------------------------------------------------------------------------------
# Errors
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: optimizers.get("adamm"), ValueError, r"Unknown optimizer: 'adamm'.*'rmsprop'"),
        (lambda: optimizers.get(3), ValueError, "Could not interpret optimizer identifier"),
        (lambda: optimizers.deserialize({"class_name": "Nope", "config": {}}), ValueError,
         "Unknown optimizer"),
        (lambda: optimizers.SGD(lr=0.1, learning_rate=0.1), TypeError, "`lr`.*only one"),
        (lambda: optimizers.Adam(lrate=0.1), TypeError, "lrate"),
        (lambda: optimizers.SGD(learning_rate="fast"), ValueError, "learning_rate='fast'"),
        (lambda: optimizers.SGD(momentum=1.5), ValueError, "momentum=1.5"),
        (lambda: optimizers.SGD(decay=-1.0), ValueError, "decay=-1.0"),
        (lambda: optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1, 0.9), decay=0.1),
         ValueError, "decay"),
        (lambda: optimizers.Adam(clipnorm=1.0, clipvalue=1.0), ValueError, "Only one of"),
        (lambda: optimizers.Adam(clipnorm="big"), TypeError, "clipnorm='big'"),
        (lambda: optimizers.AdamW(weight_decay=None), ValueError, "weight_decay=None"),
        (lambda: optimizers.Lion(beta_1=0.0), ValueError, "beta_1=0.0"),
        (lambda: optimizers.Ftrl(l1_regularization_strength=-1.0), ValueError,
         "l1_regularization_strength=-1.0"),
        (lambda: optimizers.Ftrl(learning_rate_power=0.5), ValueError, "learning_rate_power=0.5"),
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError, "decay_steps=0"),
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1]), ValueError, "length"),
        (lambda: schedules.deserialize({"class_name": "Nope", "config": {}}), ValueError, "Nope"),
    ],
)
def test_invalid_arguments_raise(make, error, match):
    with pytest.raises(error, match=match):
        make()


# -------------------------------------------------------------------------------------------------
# Schedules
# -------------------------------------------------------------------------------------------------

SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=4, decay_rate=0.7)),
    ("ExponentialDecay",
     dict(initial_learning_rate=0.1, decay_steps=4, decay_rate=0.7, staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[3, 7, 12], values=[1.0, 0.5, 0.2, 0.1])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=10, power=2.0)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=6, cycle=True, power=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5)),
    ("InverseTimeDecay",
     dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=10, alpha=0.1)),
    ("CosineDecay",
     dict(initial_learning_rate=0.0, decay_steps=10, warmup_target=0.3, warmup_steps=5)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=4)),
    ("CosineDecayRestarts",
     dict(initial_learning_rate=0.1, first_decay_steps=3, t_mul=1.0, m_mul=0.5, alpha=0.1)),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULES)
def test_schedule_matches_keras3(keras3, name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras3.optimizers.schedules, name)(**kwargs)
    steps = jnp.arange(16, dtype=jnp.int32)
    jitted = jax.jit(jax.vmap(ours))(steps)
    for step in range(16):
        expected = float(theirs(jnp.asarray(step, jnp.int32)))
        assert float(ours(step)) == pytest.approx(expected, rel=1e-6, abs=1e-9), step
        # XLA's fused cos/pow may differ from the eager kernels in the last bits.
        assert float(jitted[step]) == pytest.approx(expected, rel=1e-5, abs=1e-9), step
    config = ours.get_config()
    assert config == theirs.get_config()
    again = schedules.deserialize(schedules.serialize(ours))
    assert again == ours and again.get_config() == config
    assert keras3.optimizers.schedules.deserialize(schedules.serialize(ours)).get_config() == config


def test_fit_builds_the_optimizer_state_in_one_program_or_eagerly_when_it_must():
    """fit initialises the optimizer state as one jitted program; a hand-written optax
    transformation whose `init` reads values on the host still works (eager fallback)."""
    import optax

    import fkeras

    seen = []

    def init(params):
        seen.append(float(sum(np.asarray(p).sum() for p in jax.tree_util.tree_leaves(params))))
        return optax.EmptyState()

    def update(updates, state, params=None):
        return jax.tree_util.tree_map(lambda g: -0.1 * g, updates), state

    x = np.ones((8, 3), "float32")
    for tx in (optax.GradientTransformation(init, update), "rmsprop"):
        model = fkeras.Sequential([fkeras.layers.Input((3,)), fkeras.layers.Dense(1, kernel_initializer="zeros")])
        model.compile(tx, "mse")
        losses = model.fit(x, x[:, :1] * 2, epochs=3, verbose=0).history["loss"]
        assert losses[-1] < losses[0]
    assert seen == [0.0]  # the host-reading init ran once, eagerly, on the zero weights
    # the structure check of a loaded state falls back the same way
    from fkeras.models import _training

    params = {"w": jnp.ones((2,))}
    assert _training._optimizer_state(optax.GradientTransformation(init, update), params, shape_only=True) == optax.EmptyState()
    assert seen == [0.0, 2.0]
    shapes = _training._optimizer_state(optax.adam(0.1), params, shape_only=True)
    assert isinstance(jax.tree_util.tree_leaves(shapes)[0], jax.ShapeDtypeStruct)
