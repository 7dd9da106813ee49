"""Reshaping layers (Cropping, ZeroPadding, UpSampling in 1/2/3D, Permute, RepeatVector):
harness checks with Keras 3 parity, config parity, hand-computed cases, Hypothesis shape
properties and argument errors."""

import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fkeras.layers._reshaping as R
from fkeras.layers._spec import TensorSpec
from tests.layer_harness import check_shapes, run_layer_test

keras = pytest.importorskip("keras")

CF = "channels_first"

CASES = {
    "crop1d": (lambda m: m.Cropping1D(), (2, 5, 3)),
    "crop1d_pair": (lambda m: m.Cropping1D((0, 2)), (2, 6, 3)),
    "crop2d_int": (lambda m: m.Cropping2D(1), (2, 5, 6, 2)),
    "crop2d_sym": (lambda m: m.Cropping2D((1, 2)), (2, 5, 6, 2)),
    "crop2d_pairs_cf": (lambda m: m.Cropping2D(((1, 0), (2, 1)), data_format=CF), (2, 3, 5, 6)),
    "crop3d": (lambda m: m.Cropping3D(), (2, 4, 5, 3, 2)),
    "crop3d_mixed_cf": (
        lambda m: m.Cropping3D(((0, 1), 1, (2, 0)), data_format=CF),
        (2, 2, 3, 4, 5),
    ),
    "pad1d": (lambda m: m.ZeroPadding1D(), (2, 3, 4)),
    "pad1d_pair_cf": (lambda m: m.ZeroPadding1D((0, 2), data_format=CF), (2, 3, 4)),
    "pad2d": (lambda m: m.ZeroPadding2D(), (2, 3, 4, 2)),
    "pad2d_pairs_cf": (lambda m: m.ZeroPadding2D(((1, 0), (2, 1)), data_format=CF), (2, 3, 4, 5)),
    "pad3d_int": (lambda m: m.ZeroPadding3D(1), (2, 2, 3, 2, 2)),
    "pad3d_sym": (lambda m: m.ZeroPadding3D((1, 0, 2)), (2, 3, 2, 3, 2)),
    "up1d": (lambda m: m.UpSampling1D(), (2, 3, 4)),
    "up1d_3": (lambda m: m.UpSampling1D(3), (2, 3, 2)),
    "up2d": (lambda m: m.UpSampling2D(), (2, 3, 4, 2)),
    "up2d_cf": (lambda m: m.UpSampling2D((2, 3), data_format=CF), (2, 2, 3, 4)),
    "up2d_bilinear": (lambda m: m.UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 4, 2)),
    "up2d_bilinear_cf": (
        lambda m: m.UpSampling2D(2, data_format=CF, interpolation="bilinear"),
        (2, 2, 3, 4),
    ),
    "up2d_bicubic": (lambda m: m.UpSampling2D(3, interpolation="bicubic"), (2, 3, 3, 1)),
    "up3d": (lambda m: m.UpSampling3D(), (2, 2, 3, 2, 2)),
    "up3d_cf": (lambda m: m.UpSampling3D((1, 2, 3), data_format=CF), (2, 2, 3, 2, 2)),
    "permute_swap": (lambda m: m.Permute((2, 1)), (2, 3, 4)),
    "permute_3": (lambda m: m.Permute((3, 1, 2)), (2, 3, 4, 5)),
    "repeat": (lambda m: m.RepeatVector(3), (2, 5)),
}


def assert_config_matches_keras(ours, theirs):
    mine = ours.get_config()
    for key, value in theirs.get_config().items():
        if key in ("name", "dtype", "trainable"):
            continue
        assert key in mine, key
        assert mine[key] == value, (key, mine[key], value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness_and_keras_parity(name):
    make, shape = CASES[name]
    ours, theirs = make(R), make(keras.layers)
    run_layer_test(ours, shape, theirs)
    assert_config_matches_keras(ours, theirs)


def test_hand_computed():
    x = jnp.arange(6.0).reshape(1, 3, 2)  # steps [0,1], [2,3], [4,5]
    out, _ = R.Cropping1D((1, 0)).apply({}, x)
    np.testing.assert_array_equal(out, [[[2, 3], [4, 5]]])
    out, _ = R.ZeroPadding1D((1, 2)).apply({}, x)
    np.testing.assert_array_equal(out[0, :, 0], [0, 0, 2, 4, 0, 0])
    out, _ = R.UpSampling1D(2).apply({}, x)
    np.testing.assert_array_equal(out[0, :, 0], [0, 0, 2, 2, 4, 4])
    out, _ = R.Permute((2, 1)).apply({}, x)
    np.testing.assert_array_equal(out, [[[0, 2, 4], [1, 3, 5]]])
    out, _ = R.RepeatVector(2).apply({}, jnp.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(out, [[[1, 2], [1, 2]]])
    img = jnp.array([[0.0, 1.0]]).reshape(1, 1, 2, 1)
    out, _ = R.UpSampling2D((1, 2), interpolation="bilinear").apply({}, img)
    np.testing.assert_allclose(out.ravel(), [0.0, 0.25, 0.75, 1.0])  # half-pixel centres


def test_argument_normalisation():
    assert R.Cropping1D(2).cropping == ((2, 2),)
    assert R.Cropping2D((1, 2)).cropping == ((1, 1), (2, 2))
    assert R.Cropping3D(((0, 1), 2, (3, 0))).cropping == ((0, 1), (2, 2), (3, 0))
    assert R.ZeroPadding2D(3).padding == ((3, 3), (3, 3))
    assert R.UpSampling2D(2).size == (2, 2)
    assert R.UpSampling2D(interpolation="BILINEAR").interpolation == "bilinear"
    assert R.Cropping1D(2).get_config()["cropping"] == (2, 2)
    assert "data_format" not in R.UpSampling1D().get_config()


def test_unknown_dims_stay_unknown():
    spec = R.ZeroPadding2D(1).compute_output_spec(TensorSpec((None, None, 4, 3)))
    assert spec.shape == (None, None, 6, 3)
    spec = R.Cropping2D(1).compute_output_spec(TensorSpec((None, 5, None, 3)))
    assert spec.shape == (None, 3, None, 3)
    spec = R.UpSampling3D(2).compute_output_spec(TensorSpec((None, 1, None, 2, 3)))
    assert spec.shape == (None, 2, None, 4, 3)
    assert R.RepeatVector(4).compute_output_spec(TensorSpec((None, 7), "int32")) == TensorSpec(
        (None, 4, 7), "int32"
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: R.Cropping1D(-1), "cropping=-1"),
        (lambda: R.Cropping1D((1, 2, 3)), "cropping"),
        (lambda: R.Cropping2D((1, 2, 3)), "cropping"),
        (lambda: R.Cropping2D(((1, 2), (1, -2))), "2nd entry of cropping"),
        (lambda: R.Cropping3D("ab"), "cropping"),
        (lambda: R.ZeroPadding2D(-2), "padding=-2"),
        (lambda: R.ZeroPadding3D((1, 2)), "padding"),
        (lambda: R.ZeroPadding1D(1.5), "padding=1.5"),
        (lambda: R.UpSampling1D(0), "size=0"),
        (lambda: R.UpSampling1D(2.0), "size=2.0"),
        (lambda: R.UpSampling2D((2, 0)), "size"),
        (lambda: R.UpSampling2D(interpolation="area"), "interpolation='area'"),
        (lambda: R.UpSampling3D(data_format="NCDHW"), "data_format"),
        (lambda: R.Permute((0, 1)), r"dims=\(0, 1\)"),
        (lambda: R.Permute((1, 1)), "dims"),
        (lambda: R.Permute((1, 3)), "dims"),
        (lambda: R.Permute(3), "dims"),
        (lambda: R.RepeatVector(0), "n=0"),
        (lambda: R.RepeatVector("3"), "n='3'"),
    ],
)
def test_invalid_arguments_raise(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


@pytest.mark.parametrize(
    "layer, shape",
    [
        (R.Cropping1D((2, 3), name="lay"), (2, 5, 3)),  # crops everything
        (R.Cropping2D(((0, 0), (3, 3)), name="lay"), (2, 4, 6, 1)),
        (R.Cropping3D(1, data_format=CF, name="lay"), (2, 4, 3, 2, 5)),
        (R.Cropping2D(name="lay"), (2, 4, 6)),  # wrong rank
        (R.ZeroPadding3D(name="lay"), (2, 4, 6, 1)),
        (R.UpSampling1D(name="lay"), (2, 4)),
        (R.Permute((2, 1), name="lay"), (2, 3, 4, 5)),
        (R.RepeatVector(2, name="lay"), (2, 3, 4)),
    ],
)
def test_invalid_inputs_raise_naming_the_layer(layer, shape):
    with pytest.raises(ValueError, match="'lay'"):
        layer.compute_output_spec(TensorSpec(shape))
    with pytest.raises(ValueError, match="'lay'"):
        layer.apply({}, jnp.ones(shape))


# ---- Hypothesis ---------------------------------------------------------------------------------

SPATIAL = {
    ("crop", 1): R.Cropping1D,
    ("crop", 2): R.Cropping2D,
    ("crop", 3): R.Cropping3D,
    ("pad", 1): R.ZeroPadding1D,
    ("pad", 2): R.ZeroPadding2D,
    ("pad", 3): R.ZeroPadding3D,
    ("up", 1): R.UpSampling1D,
    ("up", 2): R.UpSampling2D,
    ("up", 3): R.UpSampling3D,
}


@st.composite
def spatial_configs(draw):
    kind, rank = draw(st.sampled_from(sorted(SPATIAL)))
    cls = SPATIAL[kind, rank]
    fmt = (
        "channels_last"
        if (rank == 1 and kind != "pad")
        else draw(st.sampled_from(["channels_last", CF]))
    )
    kwargs = {} if (rank == 1 and kind != "pad") else {"data_format": fmt}
    if kind == "up":
        arg = (
            draw(st.integers(1, 3))
            if rank == 1
            else tuple(draw(st.integers(1, 3)) for _ in range(rank))
        )
    else:
        pairs = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(rank))
        arg = pairs[0] if rank == 1 else pairs
    if kind == "up" and rank == 2:
        kwargs["interpolation"] = draw(st.sampled_from(["nearest", "bilinear"]))
    spatial = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    shape = (
        (batch,) + spatial + (channels,) if fmt == "channels_last" else (batch, channels) + spatial
    )
    return kind, cls(arg, **kwargs), spatial, shape


@given(spatial_configs())
def test_spatial_layers_shapes_property(config):
    kind, layer, spatial, shape = config
    if kind == "crop":
        amounts = [sum(p) for p in layer.cropping]
        if any(a >= s for a, s in zip(amounts, spatial)):
            with pytest.raises(ValueError, match=layer.name):
                layer.compute_output_spec(TensorSpec(shape))
            with pytest.raises(ValueError, match=layer.name):
                layer.apply({}, jnp.ones(shape))
            return
        expected = [s - a for s, a in zip(spatial, amounts)]
    elif kind == "pad":
        expected = [s + sum(p) for s, p in zip(spatial, layer.padding)]
    else:
        expected = [s * f for s, f in zip(spatial, layer.size)]
    _, x, out = check_shapes(layer, shape)
    axes = (
        range(1, 1 + len(spatial))
        if layer.data_format == "channels_last"
        else range(2, 2 + len(spatial))
    )
    assert [out.shape[a] for a in axes] == expected
    if kind == "pad":  # the original values sit inside the zero border, and the sums agree
        np.testing.assert_allclose(out.sum(), x.sum(), rtol=1e-5, atol=1e-5)


@given(st.integers(1, 4), st.data())
def test_permute_property(n, data):
    dims = tuple(data.draw(st.permutations(range(1, n + 1))))
    shape = (2,) + tuple(data.draw(st.integers(1, 4)) for _ in range(n))
    layer = R.Permute(dims)
    _, x, out = check_shapes(layer, shape)
    np.testing.assert_array_equal(out, np.transpose(x, (0,) + dims))
    wrong = data.draw(st.sampled_from([n + 2, max(1, n)]))
    if wrong != n + 1:
        with pytest.raises(ValueError, match=f"rank {n + 1}"):
            layer.compute_output_spec(TensorSpec((2,) * wrong))


@given(st.lists(st.integers(-1, 5), min_size=1, max_size=4))
def test_permute_rejects_non_permutations(dims):
    is_perm = sorted(dims) == list(range(1, len(dims) + 1))
    if is_perm:
        R.Permute(dims)
    else:
        with pytest.raises(ValueError, match="Permute"):
            R.Permute(dims)


def test_permute_all_orders_of_rank_three():
    x = np.random.RandomState(0).rand(2, 2, 3, 4).astype("float32")
    for dims in itertools.permutations((1, 2, 3)):
        out, _ = R.Permute(dims).apply({}, x)
        np.testing.assert_array_equal(out, np.transpose(x, (0,) + dims))
