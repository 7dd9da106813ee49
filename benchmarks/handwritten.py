"""Hand-written JAX + optax versions of the benchmark models (the `jax-step` and `jax-scan` impls).

Each workload is written out as plain functions with Keras 3's numerics, so that the only thing
that differs from a Keras-API run is the framework around the arithmetic:

- initialisers: glorot_uniform kernels (conv fans include the receptive field), zero biases,
  Embedding uniform(-0.05, 0.05), recurrent kernels orthogonal, LSTM forget-gate bias 1;
- layers: Keras's gate orders (LSTM i, f, c, o; GRU z, r, h with `reset_after=True`), VALID
  convolutions, Dropout as `keras.random.dropout` (Bernoulli keep mask, scaled by 1/keep);
- losses on probabilities, clipped to [1e-7, 1 - 1e-7], categorical outputs renormalised first;
- optimizers: RMSprop and SGD(nesterov) are optax's own (their update rules equal Keras's);
  Adam is written below because Keras adds epsilon to sqrt(v) and folds both bias corrections
  into the step size, which `optax.adam` does not;
- the reported loss is Keras's loss tracker: the batch-size-weighted mean over the epoch.

One deliberate difference: the recurrent layers project all time steps' inputs with one matmul
before the time loop (Keras 3 multiplies inside the loop). It is the obvious hand-written form.

Training: the data goes to the device once; each epoch draws a permutation on the host (as Keras
does) and every batch is gathered on the device from it. `step` runs one jitted call per batch
with the training state donated; `scan` runs the whole epoch (all full batches in `lax.scan`,
then the partial last batch) as one jitted call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

EPSILON = 1e-7  # keras.backend.epsilon()
F32 = jnp.float32


# ---- initialisers ------------------------------------------------------------------------------


def glorot_uniform(key, shape):
    """Keras's glorot_uniform: limit sqrt(6 / (fan_in + fan_out)), fans times the kernel window."""
    window = math.prod(shape[:-2]) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * window, shape[-1] * window
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, F32, -limit, limit)


def orthogonal(key, shape):
    return jax.nn.initializers.orthogonal()(key, shape, F32)


def dense_params(key, n_in, n_out):
    return {"kernel": glorot_uniform(key, (n_in, n_out)), "bias": jnp.zeros((n_out,), F32)}


def conv_params(key, window, n_in, n_out):
    return {"kernel": glorot_uniform(key, (*window, n_in, n_out)), "bias": jnp.zeros((n_out,), F32)}


def embedding_params(key, vocab, dim):
    return {"embeddings": jax.random.uniform(key, (vocab, dim), F32, -0.05, 0.05)}


def lstm_params(key, n_in, units):
    k1, k2 = jax.random.split(key)
    bias = jnp.concatenate([jnp.zeros((units,)), jnp.ones((units,)), jnp.zeros((2 * units,))])
    return {
        "kernel": glorot_uniform(k1, (n_in, 4 * units)),
        "recurrent_kernel": orthogonal(k2, (units, 4 * units)),
        "bias": bias.astype(F32),
    }


def gru_params(key, n_in, units):
    k1, k2 = jax.random.split(key)
    return {
        "kernel": glorot_uniform(k1, (n_in, 3 * units)),
        "recurrent_kernel": orthogonal(k2, (units, 3 * units)),
        "bias": jnp.zeros((2, 3 * units), F32),
    }  # row 0: input bias, row 1: recurrent bias


# ---- layers ------------------------------------------------------------------------------------


def dense(p, x):
    return x @ p["kernel"] + p["bias"]


_CONV_DIMS = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}


def conv(p, x):
    rank = p["kernel"].ndim - 2
    y = lax.conv_general_dilated(
        x, p["kernel"], (1,) * rank, "VALID", dimension_numbers=_CONV_DIMS[rank]
    )
    return y + p["bias"]


def max_pool(x, size):
    window = (1, *size, 1)
    return lax.reduce_window(x, -jnp.inf, lax.max, window, window, "VALID")


def dropout(key, x, rate, training):
    if not training:
        return x
    keep = 1.0 - rate
    mask = jax.random.bernoulli(key, keep, x.shape)
    return lax.select(mask, x / keep, jnp.zeros_like(x))


def lstm_last(p, x):
    """LSTM over x (batch, time, features); returns the last hidden state."""
    units = p["recurrent_kernel"].shape[0]
    projected = jnp.einsum("btf,fg->tbg", x, p["kernel"]) + p["bias"]

    def cell(carry, z_t):
        h, c = carry
        i, f, g, o = jnp.split(z_t + h @ p["recurrent_kernel"], 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    zeros = jnp.zeros((x.shape[0], units), x.dtype)
    (h, _), _ = lax.scan(cell, (zeros, zeros), projected)
    return h


def gru_last(p, x):
    """GRU (Keras 3 default, reset gate applied after the recurrent matmul); last hidden state."""
    units = p["recurrent_kernel"].shape[0]
    projected = jnp.einsum("btf,fg->tbg", x, p["kernel"]) + p["bias"][0]

    def cell(h, x_t):
        xz, xr, xh = jnp.split(x_t, 3, axis=-1)
        hz, hr, hh = jnp.split(h @ p["recurrent_kernel"] + p["bias"][1], 3, axis=-1)
        z = jax.nn.sigmoid(xz + hz)
        r = jax.nn.sigmoid(xr + hr)
        candidate = jnp.tanh(xh + r * hh)
        return z * h + (1.0 - z) * candidate, None

    h, _ = lax.scan(cell, jnp.zeros((x.shape[0], units), x.dtype), projected)
    return h


# ---- losses and metrics (per sample, Keras's formulas on probabilities) ------------------------


def binary_crossentropy(y, p):
    p = jnp.clip(p, EPSILON, 1.0 - EPSILON)
    return -jnp.mean(y * jnp.log(p) + (1.0 - y) * jnp.log(1.0 - p), axis=-1)


def categorical_crossentropy(y, p):
    p = jnp.clip(p / jnp.sum(p, axis=-1, keepdims=True), EPSILON, 1.0 - EPSILON)
    return -jnp.sum(y * jnp.log(p), axis=-1)


def binary_accuracy(y, p):
    return jnp.mean((y == (p > 0.5).astype(y.dtype)).astype(F32), axis=-1)


def categorical_accuracy(y, p):
    return (jnp.argmax(y, axis=-1) == jnp.argmax(p, axis=-1)).astype(F32)


# ---- optimizers --------------------------------------------------------------------------------


class KerasAdamState(NamedTuple):
    count: jax.Array
    mu: Any
    nu: Any


def keras_adam(
    learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7
) -> optax.GradientTransformation:
    """Adam as Keras 3 computes it.

    The step size is lr * sqrt(1 - b2^t) / (1 - b1^t) and epsilon is added to sqrt(v).
    """

    def init_fn(params):
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)
        return KerasAdamState(jnp.zeros((), jnp.int32), zeros(), zeros())

    def update_fn(grads, state, params=None):
        del params
        count = state.count + 1
        t = count.astype(F32)
        step = learning_rate * jnp.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
        mu = jax.tree.map(lambda m, g: m + (g - m) * (1.0 - beta_1), state.mu, grads)
        nu = jax.tree.map(lambda v, g: v + (g * g - v) * (1.0 - beta_2), state.nu, grads)
        updates = jax.tree.map(lambda m, v: -step * m / (jnp.sqrt(v) + epsilon), mu, nu)
        return updates, KerasAdamState(count, mu, nu)

    return optax.GradientTransformation(init_fn, update_fn)


def keras_rmsprop():
    return optax.rmsprop(1e-3, decay=0.9, eps=1e-7)  # eps inside the sqrt, as Keras


def keras_sgd_nesterov():
    return optax.sgd(0.01, momentum=0.9, nesterov=True)


# ---- the workloads -----------------------------------------------------------------------------


class Reference(NamedTuple):
    """A workload written by hand.

    init(key) -> params; forward(params, x, key, training) -> outputs;
    objective(outputs, y) -> (scalar loss, {metric: per-sample values}); tx: the optimizer.
    """

    init: Callable
    forward: Callable
    objective: Callable
    tx: optax.GradientTransformation


def _split(key, n):
    return list(jax.random.split(key, n))


def _mlp_binary():
    def init(key):
        k = _split(key, 2)
        return [dense_params(k[0], 100, 32), dense_params(k[1], 32, 1)]

    def forward(p, x, key, training):
        return jax.nn.sigmoid(dense(p[1], jax.nn.relu(dense(p[0], x))))

    def objective(out, y):
        return jnp.mean(binary_crossentropy(y, out)), {"accuracy": binary_accuracy(y, out)}

    return Reference(init, forward, objective, keras_rmsprop())


def _mlp_softmax():
    def init(key):
        k = _split(key, 3)
        return [dense_params(k[0], 20, 64), dense_params(k[1], 64, 64), dense_params(k[2], 64, 10)]

    def forward(p, x, key, training):
        k = _split(key, 2) if training else [None, None]
        h = dropout(k[0], jax.nn.relu(dense(p[0], x)), 0.5, training)
        h = dropout(k[1], jax.nn.relu(dense(p[1], h)), 0.5, training)
        return jax.nn.softmax(dense(p[2], h))

    def objective(out, y):
        return jnp.mean(categorical_crossentropy(y, out)), {
            "accuracy": categorical_accuracy(y, out)
        }

    return Reference(init, forward, objective, keras_sgd_nesterov())


def _vgg_small():
    def init(key):
        k = _split(key, 6)
        return [
            conv_params(k[0], (3, 3), 3, 32),
            conv_params(k[1], (3, 3), 32, 32),
            conv_params(k[2], (3, 3), 32, 64),
            conv_params(k[3], (3, 3), 64, 64),
            dense_params(k[4], 22 * 22 * 64, 256),
            dense_params(k[5], 256, 10),
        ]

    def forward(p, x, key, training):
        k = _split(key, 3) if training else [None] * 3
        h = jax.nn.relu(conv(p[1], jax.nn.relu(conv(p[0], x))))
        h = dropout(k[0], max_pool(h, (2, 2)), 0.25, training)
        h = jax.nn.relu(conv(p[3], jax.nn.relu(conv(p[2], h))))
        h = dropout(k[1], max_pool(h, (2, 2)), 0.25, training)
        h = dropout(k[2], jax.nn.relu(dense(p[4], h.reshape(h.shape[0], -1))), 0.5, training)
        return jax.nn.softmax(dense(p[5], h))

    def objective(out, y):
        return jnp.mean(categorical_crossentropy(y, out)), {}

    return Reference(init, forward, objective, keras_sgd_nesterov())


def _lstm_mimo():
    def init(key):
        k = _split(key, 7)
        return {
            "embedding": embedding_params(k[0], 10000, 512),
            "lstm": lstm_params(k[1], 512, 32),
            "aux_output": dense_params(k[2], 32, 1),
            "dense_1": dense_params(k[3], 37, 64),
            "dense_2": dense_params(k[4], 64, 64),
            "dense_3": dense_params(k[5], 64, 64),
            "main_output": dense_params(k[6], 64, 1),
        }

    def forward(p, x, key, training):
        tokens, extra = x
        seq = lstm_last(p["lstm"], jnp.take(p["embedding"]["embeddings"], tokens, axis=0))
        aux = jax.nn.sigmoid(dense(p["aux_output"], seq))
        h = jnp.concatenate([seq, extra], axis=-1)
        for name in ("dense_1", "dense_2", "dense_3"):
            h = jax.nn.relu(dense(p[name], h))
        return jax.nn.sigmoid(dense(p["main_output"], h)), aux

    def objective(out, y):
        main = jnp.mean(binary_crossentropy(y[0], out[0]))
        aux = jnp.mean(binary_crossentropy(y[1], out[1]))
        return main + 0.2 * aux, {}

    return Reference(init, forward, objective, keras_rmsprop())


def _mlp_large():
    def init(key):
        k = _split(key, 3)
        return [
            dense_params(k[0], 784, 512),
            dense_params(k[1], 512, 512),
            dense_params(k[2], 512, 10),
        ]

    def forward(p, x, key, training):
        h = jax.nn.relu(dense(p[1], jax.nn.relu(dense(p[0], x))))
        return jax.nn.softmax(dense(p[2], h))

    def objective(out, y):
        return jnp.mean(categorical_crossentropy(y, out)), {
            "accuracy": categorical_accuracy(y, out)
        }

    return Reference(init, forward, objective, keras_adam())


def _text_gru_conv1d():
    def init(key):
        k = _split(key, 4)
        return {
            "embedding": embedding_params(k[0], 5000, 64),
            "conv": conv_params(k[1], (5,), 64, 64),
            "gru": gru_params(k[2], 64, 32),
            "dense": dense_params(k[3], 32, 1),
        }

    def forward(p, x, key, training):
        h = jnp.take(p["embedding"]["embeddings"], x, axis=0)
        h = max_pool(jax.nn.relu(conv(p["conv"], h)), (2,))
        return jax.nn.sigmoid(dense(p["dense"], gru_last(p["gru"], h)))

    def objective(out, y):
        return jnp.mean(binary_crossentropy(y, out)), {"accuracy": binary_accuracy(y, out)}

    return Reference(init, forward, objective, keras_adam())


REFERENCES = {
    "mlp_binary": _mlp_binary,
    "mlp_softmax": _mlp_softmax,
    "vgg_small": _vgg_small,
    "lstm_mimo": _lstm_mimo,
    "mlp_large": _mlp_large,
    "text_gru_conv1d": _text_gru_conv1d,
}


# ---- training loops ----------------------------------------------------------------------------


class TrainState(NamedTuple):
    params: Any
    opt_state: Any
    key: jax.Array
    cursor: jax.Array  # index of the next full batch in this epoch's permutation
    totals: dict  # on-device sums: "loss" (batch-size weighted), "seen", and each metric


def _gather(tree, idx):
    return jax.tree.map(lambda a: jnp.take(a, idx, axis=0), tree)


def _first_leaf_rows(tree):
    return jax.tree.leaves(tree)[0].shape[0]


def make_epoch_runner(ref: Reference, n: int, batch_size: int, variant: str, scan_unroll=1):
    """Return run_epoch(state, X, Y, perm) -> state for variant 'step' or 'scan'."""
    full, rest = divmod(n, batch_size)

    def train_on(state, idx, X, Y):
        key, drop_key = jax.random.split(state.key)
        xb, yb = _gather(X, idx), _gather(Y, idx)

        def loss_fn(params):
            out = ref.forward(params, xb, drop_key, True)
            return ref.objective(out, yb)

        (loss, per_sample), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = ref.tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        size = idx.shape[0]
        totals = {"loss": state.totals["loss"] + loss * size, "seen": state.totals["seen"] + size}
        for name, values in per_sample.items():
            totals[name] = state.totals[name] + jnp.sum(values)
        return TrainState(params, opt_state, key, state.cursor + 1, totals)

    def full_batch(state, X, Y, perm):
        idx = lax.dynamic_slice_in_dim(perm, state.cursor * batch_size, batch_size)
        return train_on(state, idx, X, Y)

    def last_batch(state, X, Y, perm):
        return train_on(state, perm[full * batch_size :], X, Y)

    if variant == "step":
        full_jit = jax.jit(full_batch, donate_argnums=0)
        last_jit = jax.jit(last_batch, donate_argnums=0)

        def run_epoch(state, X, Y, perm):
            perm = jax.device_put(perm)
            for _ in range(full):
                state = full_jit(state, X, Y, perm)
            return last_jit(state, X, Y, perm) if rest else state

        return run_epoch

    if variant == "scan":

        def epoch(state, X, Y, perm):
            state, _ = lax.scan(
                lambda s, _: (full_batch(s, X, Y, perm), None),
                state,
                None,
                length=full,
                unroll=scan_unroll,
            )
            return last_batch(state, X, Y, perm) if rest else state

        return jax.jit(epoch, donate_argnums=0)

    raise ValueError(f"variant must be 'step' or 'scan'. Received: variant={variant!r}")


def _zero_totals(ref: Reference, params, X, Y):
    """Host zeros for every total the objective reports (shapes found without running anything)."""

    def probe(p, x, y):
        return ref.objective(ref.forward(p, x, jax.random.key(0), True), y)[1]

    one = lambda tree: jax.tree.map(lambda a: a[:1], tree)
    names = jax.eval_shape(probe, params, one(X), one(Y))
    return {name: np.zeros((), np.float32) for name in ["loss", "seen", *names]}


def fit(
    workload: str,
    x,
    y,
    *,
    batch_size: int,
    epochs: int,
    variant: str,
    seed: int,
    scan_unroll=1,
    params=None,
    shuffle=True,
    history=None,
):
    """Train the hand-written model; returns (t0, per-epoch end stamps, last epoch's logs).

    `params` replaces the fresh initialisation, `shuffle=False` keeps the data order and `history`
    (a list) receives every epoch's logs: the three are for check_handwritten.py.
    """
    ref = REFERENCES[workload]()
    key, init_key = jax.random.split(jax.random.key(seed))
    params = jax.block_until_ready(ref.init(init_key) if params is None else params)
    n = _first_leaf_rows(y)
    run_epoch = make_epoch_runner(ref, n, batch_size, variant, scan_unroll)
    rng = np.random.default_rng(seed)

    t0 = time.perf_counter()
    X, Y = jax.device_put(x), jax.device_put(y)
    zeros = _zero_totals(ref, params, X, Y)
    state = TrainState(params, jax.jit(ref.tx.init)(params), key, np.int32(0), zeros)
    stamps, logs = [], {}
    for _ in range(epochs):
        state = state._replace(cursor=np.int32(0), totals=zeros)
        order = rng.permutation(n) if shuffle else np.arange(n)
        state = run_epoch(state, X, Y, order.astype(np.int32))
        totals = jax.device_get(state.totals)
        seen = float(totals.pop("seen"))
        logs = {name: float(v) / seen for name, v in totals.items()}
        if history is not None:
            history.append(logs)
        stamps.append(time.perf_counter())
    return t0, stamps, logs


# ---- inference (latency workload) --------------------------------------------------------------


def trained_forward(workload: str, seed: int):
    """(params, jitted forward(params, x)) of a freshly initialised hand-written model."""
    ref = REFERENCES[workload]()
    params = ref.init(jax.random.key(seed))
    return params, jax.jit(lambda p, x: ref.forward(p, x, None, False))


def make_evaluator(workload: str, n: int, batch_size: int, variant: str):
    """evaluate(params, X, Y) -> {'loss', metrics...}, batch by batch ('step') or in one scan."""
    ref = REFERENCES[workload]()
    full, rest = divmod(n, batch_size)

    def add_batch(totals, params, xb, yb):
        loss, per_sample = ref.objective(ref.forward(params, xb, None, False), yb)
        size = _first_leaf_rows(yb)
        new = {"loss": totals["loss"] + loss * size, "seen": totals["seen"] + size}
        new.update({k: totals[k] + jnp.sum(v) for k, v in per_sample.items()})
        return new

    def window(tree, start, size):
        return jax.tree.map(lambda a: lax.dynamic_slice_in_dim(a, start, size), tree)

    def full_batch(totals, params, X, Y, i):
        start = i * batch_size
        return add_batch(totals, params, window(X, start, batch_size), window(Y, start, batch_size))

    def last_batch(totals, params, X, Y):
        cut = lambda t: jax.tree.map(lambda a: a[full * batch_size :], t)
        return add_batch(totals, params, cut(X), cut(Y))

    def finish(totals):
        totals = jax.device_get(totals)
        seen = float(totals.pop("seen"))
        return {k: float(v) / seen for k, v in totals.items()}

    if variant == "step":
        full_jit, last_jit = jax.jit(full_batch), jax.jit(last_batch)

        def evaluate(params, X, Y, zeros):
            totals = zeros
            for i in range(full):
                totals = full_jit(totals, params, X, Y, i)
            return finish(last_jit(totals, params, X, Y) if rest else totals)

        return evaluate

    def whole(totals, params, X, Y):
        totals, _ = lax.scan(
            lambda t, i: (full_batch(t, params, X, Y, i), None), totals, jnp.arange(full)
        )
        return last_batch(totals, params, X, Y) if rest else totals

    whole_jit = jax.jit(whole)
    return lambda params, X, Y, zeros: finish(whole_jit(zeros, params, X, Y))
