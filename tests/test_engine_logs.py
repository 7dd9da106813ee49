"""The packed per-step logs of a training dispatch (fkeras.engine._logs): one buffer per bit width,
unpacked on the host to exactly the values that went in."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fkeras.engine._logs import LogPacker, StackedLogs, StepLogs


def packed(logs: dict):
    packer = LogPacker()
    buffers = jax.jit(packer.pack)(logs)
    return packer, buffers


def test_stacked_logs_of_several_widths_round_trip_bit_for_bit():
    rng = np.random.default_rng(0)
    logs = {
        "loss": rng.normal(size=7).astype(np.float32),
        "half": rng.normal(size=7).astype(np.float16),
        "accuracy": np.array([0, 1, np.nan, np.inf, -0.0, 1e-42, 3], np.float32),
        "bf16": jnp.asarray(rng.normal(size=7), jnp.bfloat16),
    }
    packer, buffers = packed(logs)
    assert len(buffers) == 2  # one 4-byte buffer, one 2-byte buffer
    host = packer.unpack([np.asarray(b) for b in buffers])
    assert list(host) == list(packer.names) == sorted(logs)  # the order of a jitted dict
    for name, value in logs.items():
        expected = np.asarray(value)
        assert host[name].dtype == expected.dtype and host[name].shape == (7,)
        np.testing.assert_array_equal(host[name].view(np.uint8), expected.view(np.uint8))


def test_one_step_scalars_and_float64_under_x64():
    with jax.enable_x64(True):
        logs = {"loss": jnp.float64(0.1), "mae": jnp.float32(2.5)}
        packer, buffers = packed(logs)
        host = packer.unpack([np.asarray(b) for b in buffers])
    assert host["loss"].dtype == np.float64 and host["loss"].tolist() == [0.1]
    assert host["mae"].dtype == np.float32 and host["mae"].tolist() == [2.5]


def test_stacked_logs_read_once_and_step_views():
    packer, buffers = packed({"loss": jnp.arange(4, dtype=jnp.float32), "acc": jnp.ones(4, jnp.float32)})
    stack = StackedLogs(buffers, packer=packer)
    assert stack.names() == ("acc", "loss")
    assert stack.last() == {"loss": 3.0, "acc": 1.0}
    step = StepLogs(stack, 2)
    assert dict(step) == {"loss": 2.0, "acc": 1.0} and len(step) == 2
    with pytest.raises(KeyError):
        step["missing"]
    # a plain dict of device scalars (generator fits) reads the same way
    plain = StackedLogs({"loss": jnp.float32(5.0)})
    assert plain.last() == {"loss": 5.0} and dict(StepLogs(plain, 0)) == {"loss": 5.0}
