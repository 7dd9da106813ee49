"""cuDNN's fused LSTM kernel (`jax.experimental.rnn.lstm`) for `LSTM(use_cudnn=True)` on a GPU.

Keras 3 on JAX runs an LSTM through this kernel on a GPU whenever the layer's configuration
allows (`use_cudnn="auto"`). fkeras keeps the `lax.scan` recurrence under `"auto"`, by
measurement: on the seeds' LSTM model (benchmarks/, lstm_mimo, one H100) the kernel compiles
the first epoch in 2.0 s instead of 3.6 s but trains each later epoch in 38 ms instead of
26 ms; and the scan accepts every JAX transformation, where the kernel has no batching rule
(`vmap`) and no forward-mode derivative. `use_cudnn=True` asks for the kernel, and raises as
Keras does where it cannot run.

The kernel's numbers are cuDNN's (TF32 matrix products on Ampere and later unless
`jax_default_matmul_precision` says otherwise, as for XLA's own products); the layer's weights
keep Keras's layout and are flattened into cuDNN's inside the program.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fkeras import activations

NOT_SUPPORTED = (
    "Layer {name!r}: use_cudnn=True was specified, but cuDNN is not supported for this layer "
    "configuration with this backend ({reason}). Pass use_cudnn='auto' to fall back to the "
    "non-cuDNN implementation."
)


def _rnn_module():
    """`jax.experimental.rnn` when this jaxlib has its GPU kernels, else None."""
    try:
        from jax.experimental import rnn
    except ImportError:
        return None
    return rnn if getattr(rnn, "gpu_rnn", None) is not None else None


def available() -> bool:
    return jax.default_backend() == "gpu" and _rnn_module() is not None


def _kernel(x, h0, c0, weights, input_size, hidden_size):
    """cuDNN's LSTM on batch-major `x`: (outputs, last h, last c). Tests replace it."""
    seq_lengths = jnp.full((x.shape[0],), x.shape[1], jnp.int32)
    y, h_n, c_n = _rnn_module().lstm(
        x,
        h0[None],
        c0[None],
        weights,
        seq_lengths,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=1,
        dropout=0.0,
        bidirectional=False,
    )
    return y, h_n[0], c_n[0]


def unsupported(layer, params, x, mask, training) -> str | None:
    """Why `layer` (an LSTM) cannot run on cuDNN for this call; None where it can."""
    cell = layer.cell
    if not available():
        return "no GPU with cuDNN's RNN kernels"
    if (
        cell.activation is not activations.tanh
        or cell.recurrent_activation is not activations.sigmoid
    ):
        return "it needs activation='tanh' and recurrent_activation='sigmoid'"
    if not cell.use_bias:
        return "it needs use_bias=True"
    if layer.unroll:
        return "it does not unroll"
    if mask is not None:
        return "it does not take a mask"
    if training and cell.recurrent_dropout > 0:
        return "it has no recurrent dropout"
    if training and cell.dropout > 0 and cell.implementation == 1:
        return "it takes one input dropout mask, not one per gate (implementation=1)"
    dtypes = {jnp.dtype(x.dtype)} | {
        jnp.dtype(params[n].dtype) for n in ("kernel", "recurrent_kernel", "bias")
    }
    if dtypes != {jnp.dtype("float32")}:
        return f"it computes in float32 only; got {sorted(str(d) for d in dtypes)}"
    return None


def use_kernel(layer, params, x, mask, training) -> bool:
    """Whether this call of `layer` runs on cuDNN; raises where `use_cudnn=True` cannot be met."""
    if layer.use_cudnn is not True:
        return False
    reason = unsupported(layer, params, x, mask, training)
    if reason is not None:
        raise ValueError(NOT_SUPPORTED.format(name=layer.name, reason=reason))
    return True


def lstm(layer, params, x, states, training, rng):
    """The LSTM recurrence on cuDNN: `(last output, time-major outputs or None, [h, c])`,
    as `run_recurrence` returns them. `x` is batch-major."""
    cell = layer.cell
    dp, _ = cell._masks(jnp.swapaxes(x, 0, 1), training, rng)  # the scan path's input mask
    if dp is not None:
        x = x * dp[0][:, None, :]
    if layer.go_backwards:
        x = jnp.flip(x, axis=1)
    kernel, recurrent, bias = params["kernel"], params["recurrent_kernel"], params["bias"]
    # cuDNN's layout: W_ih (4u, in), W_hh (4u, u), b_ih, b_hh, gates i, f, g, o (Keras's i, f, c, o)
    weights = jnp.concatenate([kernel.T.ravel(), recurrent.T.ravel(), bias, jnp.zeros_like(bias)])
    y, h, c = _kernel(x, states[0], states[1], weights, kernel.shape[0], cell.units)
    outputs = jnp.swapaxes(y, 0, 1) if layer.return_sequences else None
    return h, outputs, (h, c)
