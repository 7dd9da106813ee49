"""Shared test set-up: Keras 3 on the JAX backend for parity, bounded Hypothesis profiles, PRNG keys."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# CI: derandomized, no deadline (the first call of a shape compiles), a bounded number of examples.
settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("FKERAS_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def key():
    """A fresh PRNG key per test."""
    return jax.random.key(0)


@pytest.fixture
def keras3():
    """Keras 3 on the JAX backend (test-only dependency), for parity checks."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("parity tests need KERAS_BACKEND=jax")
    return keras
