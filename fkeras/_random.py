"""The process-wide seed that eager layer building, initializers and shuffling draw from.

Pure code never reads this: `init`/`apply` take their keys as arguments. Only the stateful facade
(building a layer on its first call, `fit`'s training key) asks for a fresh key here. `fit`
derives everything random in training from that one training key, which checkpoints save: the
dropout key of each step (split on the device), each epoch's shuffle (`numpy_generator`) and the
key of the next epoch (`next_epoch_words`).
See docs/robustness.md, "Determinism".
"""

import jax
import numpy as np

_seed = int(np.random.SeedSequence().generate_state(1)[0])
_counter = 0

# Mixed into the seed of `numpy_generator`, so the host shuffle never replays the bits that the
# same key gives on the device.
_SHUFFLE_TAG = 0x5348_5546
# Mixed into `next_epoch_words`, so the next epoch's key is independent of this epoch's shuffle.
_EPOCH_TAG = 0x4550_4F43


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


def key_words(key) -> np.ndarray:
    """The raw `uint32` words of a JAX PRNG key (typed or raw), on the host.

    A device array is read back (a sync); host words are returned as they are.
    """
    if isinstance(key, np.ndarray):
        return key
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.asarray(jax.device_get(key))


def numpy_generator(key) -> np.random.Generator:
    """A NumPy generator seeded from a JAX PRNG key (typed, or raw `uint32` words).

    Reading a device key is a sync: `fit` passes the host words it already holds (see
    `next_epoch_words`).

    Args:
        key: The key to derive the generator from; it is not consumed.

    Returns:
        A generator whose stream is a function of the key's value only.
    """
    words = key_words(key).astype(np.uint64).ravel().tolist()
    return np.random.default_rng(np.random.SeedSequence(words + [_SHUFFLE_TAG]))


def next_epoch_words(words: np.ndarray) -> np.ndarray:
    """The training key's words at the start of the next epoch, from those at this one's start.

    `fit` keeps the key's value at epoch boundaries on the host, so it knows the next epoch's key,
    and draws its shuffle, while the device still runs this epoch (the steps split their dropout
    keys from this epoch's key on the device; the epoch's last dispatch leaves the next key in
    the training state, which checkpoints save).
    """
    seed = np.random.SeedSequence(words.astype(np.uint64).ravel().tolist() + [_EPOCH_TAG])
    return seed.generate_state(words.size, np.uint32).reshape(words.shape)


def set_random_seed(seed: int) -> None:
    """Seeds Python's `random`, NumPy's global generator and fkeras's key stream (Keras's utility).

    After `set_random_seed(s)`, the same script gives the same weight initialization, dropout
    masks, shuffling order, `validation_split` and `History`, run after run (on the same device
    kind; see docs/robustness.md).

    Args:
        seed: The seed, an integer.

    Raises:
        TypeError: If `seed` is not an integer.
    """
    import random

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"`seed` must be an integer. Received: seed={seed!r}")
    from fkeras import initializers

    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    set_seed(int(seed))
    initializers._reset_seed_counter(int(seed) + 1)
