"""LSTM on cuDNN's fused kernel (`use_cudnn=True`): that it computes what the scan recurrence
computes, that 'auto' keeps the scan, and the errors where the kernel cannot run.

The kernel itself exists only on a CUDA GPU. On other machines the tests below stand in for it
with `jax.experimental.rnn.lstm_ref`, JAX's reference implementation that reads the same flat
cuDNN weight vector: they check the weight layout, the dropout mask, go_backwards, the states
and the engine's wiring. `test_real_kernel_matches_scan` runs the real kernel and is skipped
without a GPU.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fkeras as keras
from fkeras.layers import _cudnn
from fkeras.layers._recurrent import LSTM
from fkeras.layers._spec import TensorSpec

B, T, F, U = 4, 6, 5, 3
X = np.random.RandomState(0).uniform(-1, 1, (B, T, F)).astype("float32")


def _reference_kernel(calls):
    from jax.experimental import rnn

    def kernel(x, h0, c0, weights, input_size, hidden_size):
        calls.append(x.shape)
        w_ih, w_hh, b_ih, b_hh = rnn.unpack_lstm_weights(weights, input_size, hidden_size, 1, False)
        lengths = jnp.full((x.shape[0],), x.shape[1], jnp.int32)
        y, h, c = rnn.lstm_ref(
            x,
            h0[None],
            c0[None],
            w_ih,
            w_hh,
            b_ih,
            b_hh,
            lengths,
            input_size,
            hidden_size,
            1,
            0.0,
            False,
        )
        return y, h[0], c[0]

    return kernel


@pytest.fixture
def kernel_calls(monkeypatch):
    """Pretend cuDNN is there; its stand-in records the shapes it was called with. Full float32
    matrix products, so that on a GPU (TF32 by default) the two paths agree as tightly as here."""
    calls = []
    monkeypatch.setattr(_cudnn, "available", lambda: True)
    monkeypatch.setattr(_cudnn, "_kernel", _reference_kernel(calls))
    with jax.default_matmul_precision("highest"):
        yield calls


def _pair(**kwargs):
    """The same LSTM twice, on cuDNN and on the scan, with the same (non-trivial) weights."""
    fused, scan = LSTM(U, use_cudnn=True, **kwargs), LSTM(U, use_cudnn=False, **kwargs)
    v = fused.init(jax.random.key(1), TensorSpec((None, T, F)))
    bias = jax.random.normal(jax.random.key(2), v["params"]["bias"].shape) * 0.3
    v = {**v, "params": {**v["params"], "bias": bias}}
    scan.init(jax.random.key(1), TensorSpec((None, T, F)))
    return fused, scan, v


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"return_sequences": True},
        {"go_backwards": True, "return_sequences": True},
        {"return_state": True},
        {"unit_forget_bias": False, "implementation": 1},
    ],
    ids=["last", "sequences", "backwards", "state", "impl1"],
)
def test_kernel_matches_scan_outputs_and_gradients(kernel_calls, kwargs):
    fused, scan, v = _pair(**kwargs)

    def loss(layer, params, x):
        out, _ = layer.apply({**v, "params": params}, x)
        return sum(jnp.sum(jnp.sin(o)) for o in jax.tree.leaves(out)), out

    (lf, of), gf = jax.value_and_grad(lambda p, x: loss(fused, p, x), argnums=(0, 1), has_aux=True)(
        v["params"], X
    )
    assert kernel_calls == [(B, T, F)]
    (ls, os_), gs = jax.value_and_grad(lambda p, x: loss(scan, p, x), argnums=(0, 1), has_aux=True)(
        v["params"], X
    )
    assert len(kernel_calls) == 1
    for a, b in zip(jax.tree.leaves(of), jax.tree.leaves(os_)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(gf), jax.tree.leaves(gs)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_initial_state_and_input_dropout(kernel_calls):
    fused, scan, v = _pair(dropout=0.4, return_sequences=True)
    h0 = np.full((B, U), 0.5, "float32")
    c0 = np.full((B, U), -0.25, "float32")
    key = jax.random.key(5)
    of, _ = fused.apply(v, [X, h0, c0], training=True, rng=key)
    os_, _ = scan.apply(v, [X, h0, c0], training=True, rng=key)
    assert kernel_calls
    np.testing.assert_allclose(of, os_, rtol=1e-5, atol=1e-6)
    dropped, _ = scan.apply(v, X, training=False)  # the mask did something
    assert not np.allclose(os_, dropped)


def test_fit_evaluate_predict_on_the_kernel_match_the_scan(kernel_calls):
    def model(use_cudnn):
        keras.utils.set_random_seed(3)
        m = keras.Sequential(
            [keras.Input((T, F)), keras.layers.LSTM(U, use_cudnn=use_cudnn), keras.layers.Dense(1)]
        )
        m.compile(optimizer="adam", loss="mse")
        return m

    y = np.random.RandomState(1).uniform(size=(B * 4, 1)).astype("float32")
    x = np.concatenate([X] * 4)
    fused, scan = model(True), model(False)
    scan.set_weights(fused.get_weights())
    fit = dict(batch_size=4, epochs=2, shuffle=False, verbose=0)
    h_fused = fused.fit(x, y, **fit).history["loss"]
    assert kernel_calls  # traced into the fused epoch
    h_scan = scan.fit(x, y, **fit).history["loss"]
    np.testing.assert_allclose(h_fused, h_scan, rtol=1e-5)
    for a, b in zip(fused.get_weights(), scan.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        fused.predict(x, verbose=0), scan.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        fused.evaluate(x, y, verbose=0), scan.evaluate(x, y, verbose=0), rtol=1e-5
    )


def test_auto_keeps_the_scan(kernel_calls):
    model = keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(U)])
    assert model.layers[0].use_cudnn == "auto"
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, np.zeros((B, U), "float32"), epochs=1, verbose=0)
    model.predict(X, verbose=0)
    assert kernel_calls == []


def test_use_cudnn_true_where_it_cannot_run_names_the_reason(kernel_calls, monkeypatch):
    layer = LSTM(U, use_cudnn=True, name="rec")
    v = layer.init(jax.random.key(0), TensorSpec((None, T, F)))
    with pytest.raises(ValueError, match="Layer 'rec': use_cudnn=True .* does not take a mask"):
        layer.apply(v, X, mask=np.ones((B, T), bool))
    monkeypatch.setattr(_cudnn, "available", lambda: False)
    with pytest.raises(ValueError, match="use_cudnn=True .*no GPU.*use_cudnn='auto'"):
        layer.apply(v, X)
    auto = LSTM(U, name="auto")  # 'auto' never raises
    auto.apply(auto.init(jax.random.key(0), TensorSpec((None, T, F))), X)


def test_use_cudnn_true_without_a_gpu_raises_as_keras_does():
    if _cudnn.available():
        pytest.skip("this machine has cuDNN's RNN kernels")
    layer = LSTM(U, use_cudnn=True)
    v = layer.init(jax.random.key(0), TensorSpec((None, T, F)))
    with pytest.raises(ValueError, match="use_cudnn=True"):
        layer.apply(v, X)


@pytest.mark.skipif(not _cudnn.available(), reason="needs a CUDA GPU with cuDNN's RNN kernels")
def test_real_kernel_matches_scan():
    fused, scan, v = _pair(return_sequences=True)
    x = np.random.RandomState(2).uniform(-1, 1, (8, 20, F)).astype("float32")
    with jax.default_matmul_precision("highest"):
        of, _ = jax.jit(lambda v, x: fused.apply(v, x))(v, x)
        os_, _ = jax.jit(lambda v, x: scan.apply(v, x))(v, x)
        gf = jax.jit(jax.grad(lambda p: jnp.sum(jnp.sin(fused.apply({**v, "params": p}, x)[0]))))(
            v["params"]
        )
        gs = jax.jit(jax.grad(lambda p: jnp.sum(jnp.sin(scan.apply({**v, "params": p}, x)[0]))))(
            v["params"]
        )
    np.testing.assert_allclose(of, os_, rtol=1e-4, atol=1e-5)
    for a, b in zip(jax.tree.leaves(gf), jax.tree.leaves(gs)):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
