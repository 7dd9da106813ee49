"""fkeras.initializers: Keras 3 parity (seeded draws use Keras 3's JAX keys), statistics, keys."""

import contextlib
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fkeras.initializers as initializers
from fkeras import _config


@contextlib.contextmanager
def strict_jax():
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield


# class name, constructor kwargs. Seeded, so Keras 3 (JAX backend, key uint32[seed, 0]) draws
# exactly the same numbers.
RANDOM = [
    ("RandomNormal", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 2.0}),
    ("RandomUniform", {}),
    ("RandomUniform", {"minval": -3.0, "maxval": 1.0}),
    ("TruncatedNormal", {}),
    ("TruncatedNormal", {"mean": 0.5, "stddev": 0.1}),
    ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform"}),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "untruncated_normal"}),
    ("VarianceScaling", {"mode": "fan_in", "distribution": "normal"}),
    ("VarianceScaling", {"input_axes": [0, 2], "output_axes": [3]}),
    ("GlorotUniform", {}),
    ("GlorotNormal", {}),
    ("HeUniform", {}),
    ("HeNormal", {}),
    ("LecunUniform", {}),
    ("LecunNormal", {}),
    ("Orthogonal", {}),
    ("Orthogonal", {"gain": 0.5}),
]
SHAPES = [(7, 5), (3, 3, 4, 6)]
CONSTANT = [("Zeros", {}), ("Ones", {}), ("Constant", {"value": 3.5}), ("Identity", {"gain": 2.0})]


def _keras_and_ours(keras3, name, kwargs):
    return getattr(keras3.initializers, name)(**kwargs), getattr(initializers, name)(**kwargs)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name,kwargs", RANDOM, ids=[f"{n}-{k}" for n, k in RANDOM])
def test_seeded_draw_matches_keras3(keras3, name, kwargs, shape):
    if "input_axes" in kwargs and len(shape) != 4:
        pytest.skip("axes refer to a rank-4 shape")
    theirs, ours = _keras_and_ours(keras3, name, {**kwargs, "seed": 1234})
    expected = np.asarray(theirs(shape, dtype="float32"))
    with strict_jax():
        got = ours(shape, dtype="float32")
    assert got.shape == shape and got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-7)
    # A seeded initializer gives the same values on every call, as in Keras 3.
    np.testing.assert_array_equal(ours(shape), got)


@pytest.mark.parametrize("name,kwargs", CONSTANT, ids=[n for n, _ in CONSTANT])
def test_constant_initializers_match_keras3(keras3, name, kwargs):
    theirs, ours = _keras_and_ours(keras3, name, kwargs)
    for dtype in ("float32", "int32", "float16"):
        expected = np.asarray(theirs((4, 3), dtype=dtype))
        got = ours((4, 3), dtype=dtype, key=jax.random.key(0))
        assert got.dtype == jnp.dtype(dtype)
        np.testing.assert_array_equal(np.asarray(got), expected)


def test_constant_values_and_broadcast():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((2,)), np.ones(2))
    np.testing.assert_array_equal(initializers.Constant(7)((2, 2)), np.full((2, 2), 7.0))
    np.testing.assert_array_equal(initializers.Constant([1.0, 2.0])((3, 2)), [[1, 2]] * 3)
    np.testing.assert_array_equal(initializers.Identity()((2, 3)), np.eye(2, 3))
    with pytest.raises(ValueError, match=r"does not broadcast.*shape=\(3, 3\)"):
        initializers.Constant([1.0, 2.0])((3, 3))


def test_default_dtype_is_floatx():
    assert initializers.GlorotUniform(seed=0)((2, 2)).dtype == jnp.float32
    _config.set_floatx("float16")
    try:
        assert initializers.GlorotUniform(seed=0)((2, 2)).dtype == jnp.float16
        assert initializers.Zeros()((2, 2)).dtype == jnp.float16
    finally:
        _config.set_floatx("float32")


@pytest.mark.parametrize(
    "shape",
    [
        (),
        (5,),
        (1,),
        (3, 4),
        (4, 3),
        (1, 1),
        (3, 3, 8),
        (5, 5, 3, 16),
        (2, 3, 4, 5, 6),
        (1, 1, 1, 7),
        (7, 0),
        (0, 3, 3),
    ],
    ids=str,
)
def test_compute_fans_matches_keras3(keras3, shape):
    from keras.src.initializers.random_initializers import compute_fans

    assert initializers.compute_fans(shape) == compute_fans(shape)
    if len(shape) >= 2:
        axes = dict(input_axes=[0], output_axes=list(range(1, len(shape))))
        assert initializers.compute_fans(shape, **axes) == compute_fans(shape, **axes)


@given(st.lists(st.integers(0, 9), min_size=0, max_size=6))
def test_compute_fans_property_matches_keras3(shape):
    compute_fans = pytest.importorskip("keras.src.initializers.random_initializers").compute_fans

    assert initializers.compute_fans(tuple(shape)) == compute_fans(tuple(shape))


def test_compute_fans_conv_kernel():
    assert initializers.compute_fans((3, 3, 16, 32)) == (3 * 3 * 16, 3 * 3 * 32)


# name, expected std of a large draw with fan_in=400, fan_out=600 (shape (400, 600)),
# and the bound on |values| (None: unbounded).
_FI, _FO = 400, 600
STATISTICS = [
    ("GlorotUniform", math.sqrt(2 / (_FI + _FO)), math.sqrt(6 / (_FI + _FO))),
    ("GlorotNormal", math.sqrt(2 / (_FI + _FO)), 2 * math.sqrt(2 / (_FI + _FO)) / 0.8796),
    ("HeUniform", math.sqrt(2 / _FI), math.sqrt(6 / _FI)),
    ("HeNormal", math.sqrt(2 / _FI), 2 * math.sqrt(2 / _FI) / 0.8796),
    ("LecunUniform", math.sqrt(1 / _FI), math.sqrt(3 / _FI)),
    ("LecunNormal", math.sqrt(1 / _FI), 2 * math.sqrt(1 / _FI) / 0.8796),
    ("RandomNormal", 0.05, None),
    ("RandomUniform", 0.1 / math.sqrt(12), 0.05),
    ("TruncatedNormal", 0.05 * 0.8796, 0.1),
]


@pytest.mark.parametrize("name,std,bound", STATISTICS, ids=[s[0] for s in STATISTICS])
def test_statistics_of_a_large_draw(name, std, bound):
    values = np.asarray(getattr(initializers, name)()((_FI, _FO), key=jax.random.key(7)))
    assert abs(values.mean()) < 4 * std / math.sqrt(values.size)
    np.testing.assert_allclose(values.std(), std, rtol=0.01)
    if bound is not None:
        assert np.abs(values).max() <= bound * (1 + 1e-6)
        assert np.abs(values).max() > 0.95 * bound


def test_variance_scaling_fan_modes():
    shape = (200, 800)
    for mode, fan in [("fan_in", 200), ("fan_out", 800), ("fan_avg", 500)]:
        init = initializers.VarianceScaling(3.0, mode, "untruncated_normal")
        values = np.asarray(init(shape, key=jax.random.key(1)))
        np.testing.assert_allclose(values.std(), math.sqrt(3.0 / fan), rtol=0.01)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 2, 4), (2, 2, 3, 8)], ids=str)
def test_orthogonal_is_orthonormal(shape):
    q = np.asarray(initializers.Orthogonal(gain=1.0)(shape, key=jax.random.key(3)))
    flat = q.reshape(-1, shape[-1])
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)
    q2 = np.asarray(initializers.Orthogonal(gain=3.0)(shape, key=jax.random.key(3)))
    np.testing.assert_allclose(q2, 3.0 * q, rtol=1e-6)


# --- keys, seeds and jit ------------------------------------------------------------------------

ALL_RANDOM = [name for name, kwargs in RANDOM if not kwargs]


@pytest.mark.parametrize("name", ALL_RANDOM)
def test_keys_typed_and_raw_same_and_different(name):
    init = getattr(initializers, name)()
    a = init((4, 5), key=jax.random.key(0))
    np.testing.assert_array_equal(init((4, 5), key=jax.random.key(0)), a)
    assert not np.allclose(init((4, 5), key=jax.random.key(1)), a)
    raw = init((4, 5), key=jax.random.PRNGKey(0))
    np.testing.assert_array_equal(raw, a)


@pytest.mark.parametrize("name", ALL_RANDOM + ["Zeros", "Identity"])
def test_jit_and_vmap(name):
    init = getattr(initializers, name)()
    key = jax.random.key(5)
    eager = init((4, 4), dtype="float32", key=key)
    jitted = jax.jit(lambda k: init((4, 4), dtype="float32", key=k))(key)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-7)
    batched = jax.vmap(lambda k: init((4, 4), key=k))(jax.random.split(key, 3))
    assert batched.shape == (3, 4, 4)


def test_unseeded_keyless_calls_differ_and_seeded_repeat():
    init = initializers.GlorotUniform()
    assert not np.allclose(init((3, 3)), init((3, 3)))
    seeded = initializers.GlorotUniform(seed=3)
    np.testing.assert_array_equal(seeded((3, 3)), seeded((3, 3)))


def test_reset_seed_counter_replays_unseeded_draws():
    initializers._reset_seed_counter(100)
    first = initializers.HeNormal()((3, 3))
    initializers._reset_seed_counter(100)
    np.testing.assert_array_equal(initializers.HeNormal()((3, 3)), first)


def test_key_must_be_a_prng_key():
    with pytest.raises(TypeError, match=r"jax.random.key.*Received: key=3"):
        initializers.RandomNormal()((2,), key=3)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: initializers.VarianceScaling(scale=0.0), r"scale.*Received: scale=0.0"),
        (lambda: initializers.VarianceScaling(mode="fan"), r"Received: mode='fan'"),
        (lambda: initializers.VarianceScaling(distribution="cauchy"), r"distribution='cauchy'"),
        (lambda: initializers.RandomNormal(seed="1"), r"Received: seed='1'"),
        (lambda: initializers.Identity()((2, 2, 2)), r"2D matrices.*shape=\(2, 2, 2\)"),
        (lambda: initializers.Orthogonal()((4,)), r"two-dimensional.*shape=\(4,\)"),
        (lambda: initializers.GlorotUniform()((2, 2), dtype="int32"), r"floating.*dtype=int32"),
        (lambda: initializers.get("glorot"), r"Unknown initializer.*'glorot_uniform'.*'glorot'"),
        (lambda: initializers.get(3), r"Received: identifier=3"),
        (lambda: initializers.get(np.ones((2, 2)))((3, 3)), r"Expected `shape` to be \(2, 2\)"),
    ],
)
def test_invalid_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --- get / config / serialization -----------------------------------------------------------


def test_every_keras3_name_resolves_to_the_same_class(keras3):
    from keras.src.initializers import ALL_OBJECTS_DICT

    for name, cls in ALL_OBJECTS_DICT.items():
        if cls.__name__ == "STFT":  # a signal-processing kernel, not a weight initializer
            continue
        assert type(initializers.get(name)).__name__ == cls.__name__ or name == "Initializer", name


@pytest.mark.parametrize(
    "name,cls",
    [
        ("glorot_uniform", "GlorotUniform"),
        ("he_normal", "HeNormal"),
        ("zeros", "Zeros"),
        ("zero", "Zeros"),
        ("ones", "Ones"),
        ("one", "Ones"),
        ("constant", "Constant"),
        ("normal", "RandomNormal"),
        ("random_normal", "RandomNormal"),
        ("uniform", "RandomUniform"),
        ("random_uniform", "RandomUniform"),
        ("truncated_normal", "TruncatedNormal"),
        ("orthogonal", "Orthogonal"),
        ("identity", "Identity"),
        ("lecun_normal", "LecunNormal"),
        ("variance_scaling", "VarianceScaling"),
        ("glorot_normal", "GlorotNormal"),
        ("he_uniform", "HeUniform"),
        ("lecun_uniform", "LecunUniform"),
    ],
)
def test_keras2_names(name, cls):
    assert type(initializers.get(name)).__name__ == cls
    assert getattr(initializers, name).__name__ == cls


CONFIGS = [(n, k) for n, k in RANDOM if "input_axes" not in k] + CONSTANT


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_config_and_serialize_match_keras3(keras3, name, kwargs):
    if name in dict(RANDOM):
        kwargs = {**kwargs, "seed": 9}
    theirs, ours = _keras_and_ours(keras3, name, kwargs)
    if name == "Identity":
        # Keras 3.15's Identity has no get_config, so its config drops `gain`; fkeras keeps it.
        assert ours.get_config() == {"gain": 2.0} and theirs.get_config() == {}
        return
    assert ours.get_config() == theirs.get_config()
    assert initializers.serialize(ours) == keras3.initializers.serialize(theirs)
    rebuilt = initializers.deserialize(initializers.serialize(ours))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    assert initializers.get(keras3.initializers.serialize(theirs)).get_config() == ours.get_config()
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    assert ours.clone().get_config() == ours.get_config()


def test_get_keras2_config_dict_and_classes():
    init = initializers.get({"class_name": "RandomNormal", "config": {"stddev": 2.0}})
    assert isinstance(init, initializers.RandomNormal) and init.stddev == 2.0
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)
    he = initializers.HeNormal(seed=1)
    assert initializers.get(he) is he
    assert initializers.get(None) is None


def test_get_wraps_keras2_style_functions():
    calls = []

    def my_init(shape, dtype=None):
        calls.append((shape, dtype))
        return np.full(shape, 0.5)

    init = initializers.get(my_init)
    out = init((2, 3), dtype="float32", key=jax.random.key(0))
    np.testing.assert_array_equal(out, np.full((2, 3), 0.5))
    assert calls == [((2, 3), jnp.dtype("float32"))]

    def keyed(shape, dtype=None, key=None):
        return jax.random.normal(key, shape)

    assert initializers.get(keyed) is keyed


def test_get_wraps_keras_style_initializer_subclasses():
    class Halves(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return jnp.full(shape, 0.5, dtype)

    init = initializers.get(Halves())
    np.testing.assert_array_equal(init((2,), key=jax.random.key(0)), [0.5, 0.5])
    assert initializers.serialize(init)["class_name"] == "Halves"


def test_get_array():
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(initializers.get(value)((2, 3), key=jax.random.key(0)), value)


def test_function_initializers_serialize_by_name_as_keras3(keras3):
    def my_init(shape, dtype=None):
        return np.ones(shape)

    expected = keras3.initializers.serialize(my_init)
    assert initializers.serialize(my_init) == expected
    assert initializers.serialize(initializers.get(my_init)) == expected
    restored = initializers.deserialize(expected, custom_objects={"my_init": my_init})
    np.testing.assert_array_equal(restored((2,), key=jax.random.key(0)), [1.0, 1.0])
    with pytest.raises(ValueError, match="named function"):
        initializers.serialize(lambda shape, dtype=None: np.ones(shape))
