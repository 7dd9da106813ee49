"""`fkeras.ops` (Keras 3's `keras.ops` spelling) against Keras 3's own `keras.ops` on the JAX
backend: same values, shapes and dtypes for every function the module has."""

import inspect

import numpy as np
import pytest

import fkeras
import fkeras.compat
from fkeras import ops

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4)).astype("float32")
B = RNG.normal(size=(3, 4)).astype("float32")
P = RNG.uniform(0.05, 0.95, size=(3, 4)).astype("float32")
Y = (RNG.uniform(size=(3, 4)) > 0.5).astype("float32")
SQ = RNG.normal(size=(4, 4)).astype("float32")
I = np.array([[0, 2], [3, 1]], "int32")

CASES = {
    "unary": [
        (n, (A,), {})
        for n in (
            "abs",
            "absolute",
            "negative",
            "sign",
            "exp",
            "expm1",
            "sin",
            "cos",
            "tan",
            "tanh",
            "arctan",
            "isnan",
            "isfinite",
            "isinf",
            "ravel",
            "erf",
            "relu",
            "relu6",
            "sigmoid",
            "softplus",
            "softsign",
            "silu",
            "swish",
            "selu",
            "hard_sigmoid",
            "hard_silu",
            "hard_swish",
            "floor",
            "ceil",
            "square",
        )
    ]
    + [(n, (P,), {}) for n in ("log", "log1p", "sqrt", "rsqrt", "reciprocal")]
    + [("logical_not", (A > 0,), {})],
    "binary": [
        (n, (A, B), {})
        for n in (
            "add",
            "subtract",
            "multiply",
            "divide",
            "true_divide",
            "floor_divide",
            "mod",
            "maximum",
            "minimum",
            "equal",
            "not_equal",
            "greater",
            "greater_equal",
            "less",
            "less_equal",
            "arctan2",
        )
    ]
    + [
        ("power", (P, B), {}),
        ("matmul", (A, B.T), {}),
        ("dot", (A, B.T), {}),
        ("outer", (A[0], B[0]), {}),
        ("logical_and", (A > 0, B > 0), {}),
        ("logical_or", (A > 0, B > 0), {}),
        ("logical_xor", (A > 0, B > 0), {}),
    ],
    "reductions": [
        (n, (A,), kw)
        for n in (
            "sum",
            "mean",
            "std",
            "var",
            "argmax",
            "argmin",
            "median",
            "logsumexp",
            "max",
            "min",
            "prod",
        )
        for kw in ({}, {"axis": 1}, {"axis": 0, "keepdims": True})
    ]
    + [
        ("all", (A > -1,), {"axis": 1}),
        ("any", (A > 1,), {}),
        ("cumsum", (A,), {"axis": 1}),
        ("count_nonzero", (A > 0,), {"axis": 0}),
        ("average", (A,), {"axis": 1, "weights": P[0]}),
        ("norm", (A,), {}),
        ("norm", (A,), {"axis": 1, "keepdims": True}),
    ],
    "shapes": [
        ("reshape", (A, (4, 3)), {}),
        ("transpose", (A,), {}),
        ("transpose", (A[None], (2, 0, 1)), {}),
        ("expand_dims", (A, 1), {}),
        ("squeeze", (A[None],), {}),
        ("swapaxes", (A, 0, 1), {}),
        ("moveaxis", (A[None], 0, 2), {}),
        ("broadcast_to", (A[0], (2, 4)), {}),
        ("concatenate", ([A, B],), {"axis": 1}),
        ("stack", ([A, B],), {"axis": 2}),
        ("vstack", ([A, B],), {}),
        ("hstack", ([A, B],), {}),
        ("split", (A, 2), {"axis": 1}),
        ("unstack", (A,), {"axis": 1}),
        ("repeat", (A, 2), {"axis": 0}),
        ("tile", (A, (2, 1)), {}),
        ("take", (A, I), {"axis": 1}),
        ("take_along_axis", (A, np.argsort(A, 1)), {"axis": 1}),
        ("slice", (A, (1, 1), (2, 2)), {}),
        ("flip", (A,), {"axis": 1}),
        ("roll", (A, 1), {"axis": 0}),
        ("pad", (A, ((1, 0), (0, 2))), {}),
        ("pad", (A, ((1, 1), (1, 1))), {"constant_values": 3.0}),
        ("sort", (A,), {}),
        ("argsort", (A,), {"axis": 0}),
        ("tril", (SQ,), {"k": 1}),
        ("triu", (SQ,), {}),
        ("diag", (SQ,), {}),
        ("trace", (SQ,), {}),
        ("clip", (A, -0.5, 0.5), {}),
        ("round", (A, 1), {}),
        ("where", (A > 0, A, B), {}),
        ("einsum", ("ij,kj->ik", A, B), {}),
        ("cast", (A, "int32"), {}),
        ("convert_to_tensor", (A,), {"dtype": "float32"}),
        ("nan_to_num", (np.array([np.nan, np.inf, 1.0], "float32"),), {}),
    ],
    "creation": [
        ("zeros", ((2, 3),), {}),
        ("ones", ((2,),), {"dtype": "int32"}),
        ("full", ((2, 2), 7.0), {}),
        ("zeros_like", (A,), {}),
        ("ones_like", (A,), {}),
        ("full_like", (A, 2.0), {}),
        ("arange", (5,), {}),
        ("arange", (1.0, 3.0, 0.5), {}),
        ("linspace", (0.0, 1.0, 5), {}),
        ("eye", (3,), {}),
        ("eye", (3, 4, 1), {}),
        ("identity", (3,), {}),
    ],
    "nn": [
        ("softmax", (A,), {}),
        ("softmax", (A,), {"axis": 0}),
        ("log_softmax", (A,), {}),
        ("gelu", (A,), {}),
        ("gelu", (A,), {"approximate": False}),
        ("elu", (A,), {"alpha": 0.5}),
        ("leaky_relu", (A,), {}),
        ("one_hot", (I, 4), {}),
        ("one_hot", (I, 4), {"axis": 0}),
        ("binary_crossentropy", (Y, P), {}),
        ("binary_crossentropy", (Y, A), {"from_logits": True}),
        ("categorical_crossentropy", (Y, P), {}),
        ("categorical_crossentropy", (Y, A), {"from_logits": True}),
        ("sparse_categorical_crossentropy", (I[:, 0], P[:2]), {}),
        ("top_k", (A, 2), {}),
    ],
}
ALL = [case for group in CASES.values() for case in group]


def _leaves(out):
    if isinstance(out, (list, tuple)):
        return [leaf for part in out for leaf in _leaves(part)]
    return [np.asarray(out)]


@pytest.mark.parametrize(
    "name, args, kwargs", ALL, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(ALL)]
)
def test_matches_keras3(keras3, name, args, kwargs):
    expected = _leaves(getattr(keras3.ops, name)(*args, **kwargs))
    got = _leaves(getattr(ops, name)(*args, **kwargs))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, e.shape, g.dtype, e.dtype)
        np.testing.assert_allclose(g, e, rtol=2e-6, atol=2e-6)


def test_every_public_function_is_tested_and_has_keras_signature(keras3):
    public = {
        n
        for n, f in vars(ops).items()
        if callable(f) and not n.startswith("_") and not inspect.isclass(f)
    }
    assert public <= {name for name, _, _ in ALL} | {
        "shape",
        "ndim",
        "size",
        "dtype",
        "convert_to_numpy",
    }
    for name in public:
        ours = list(inspect.signature(getattr(ops, name)).parameters)
        theirs = list(inspect.signature(getattr(keras3.ops, name)).parameters)
        assert ours == theirs, (name, ours, theirs)


def test_shape_helpers_and_keras_path():
    assert (
        ops.shape(A) == (3, 4)
        and ops.ndim(A) == 2
        and ops.size(A) == 12
        and ops.dtype(A) == "float32"
    )
    assert isinstance(ops.convert_to_numpy(ops.ones((2,))), np.ndarray)
    with fkeras.compat.as_keras():
        from keras import ops as keras3_spelling  # noqa: I001

    assert keras3_spelling is ops


def test_missing_names_say_where_to_look():
    with pytest.raises(AttributeError, match="fkeras.ops has no 'segment_sum'.*jax.numpy"):
        ops.segment_sum  # noqa: B018


def test_bad_arguments():
    with pytest.raises(ValueError, match="both `x1` and `x2`, or neither"):
        ops.where(A > 0, A)
    with pytest.raises(ValueError, match="sparse"):
        ops.one_hot(I, 4, sparse=True)
    with pytest.raises(ValueError, match="`num` must equal the size of axis 1"):
        ops.unstack(A, num=3, axis=1)
