"""The process-wide seed that eager layer building, initializers and shuffling draw from.

Pure code never reads this: `init`/`apply` take their keys as arguments. Only the stateful facade
(building a layer on its first call, `fit`'s dropout key) asks for a fresh key here.
"""

import jax
import numpy as np

_seed = int(np.random.SeedSequence().generate_state(1)[0])
_counter = 0


def set_seed(seed: int) -> None:
    """Make every later facade-drawn key a function of `seed` and the draw order."""
    global _seed, _counter
    _seed = int(seed)
    _counter = 0


def next_key() -> jax.Array:
    """A fresh PRNG key: `fold_in(key(seed), n)` for the n-th draw since the last `set_seed`."""
    global _counter
    _counter += 1
    return jax.random.fold_in(jax.random.key(_seed), _counter)


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and fkeras's key stream (Keras's utility)."""
    import random

    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"`seed` must be an integer. Received: seed={seed!r}")
    from fkeras import initializers

    random.seed(seed)
    np.random.seed(seed)
    set_seed(seed)
    initializers._reset_seed_counter(int(seed) + 1)
