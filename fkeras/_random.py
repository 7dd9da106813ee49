"""The process-wide seed that eager layer building, initializers and shuffling draw from.

Pure code never reads this: `init`/`apply` take their keys as arguments. Only the stateful facade
(building a layer on its first call, `fit`'s training key) asks for a fresh key here. `fit`
derives everything random in training from that one training key, which checkpoints save: the
dropout key of each step (split on the device), each epoch's shuffle and the key of the next
epoch (`epoch_streams`).
See docs/robustness.md, "Determinism".
"""

import threading

import jax
import numpy as np

_seed = int(np.random.SeedSequence().generate_state(1)[0])
_counter = 0

# Mixed into the seed of `numpy_generator`, so the host shuffle never replays the bits that the
# same key gives on the device.
_SHUFFLE_TAG = 0x5348_5546
# The PCG64 increment (any odd number) of the epoch streams, and the state's width.
_PCG_INCREMENT = 0xDA3E_39CB_94B9_5BDB
_MASK128 = (1 << 128) - 1
_thread = threading.local()  # each thread's reusable epoch generator


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


def epoch_streams(words: np.ndarray) -> tuple[np.ndarray, np.random.Generator]:
    """`(next epoch's key words, generator of this epoch's shuffle)`, functions of `words` only.

    `fit` keeps the training key's value at epoch boundaries on the host: the key at the next
    epoch's start is drawn here from the key at this one's, so `fit` knows it, and draws the next
    shuffle, while the device still runs this epoch (the steps split their dropout keys from this
    epoch's key on the device; the epoch's last dispatch leaves the next key in the training
    state, which checkpoints save).

    The generator is this thread's PCG64, its 128-bit state set straight from the key's words and
    a tag (about 1 us, where seeding through a `SeedSequence` costs 5): it is reseeded by the
    next call in the same thread, so use it at once. The next key's words are its first draws,
    the shuffle what follows.
    """
    generator = getattr(_thread, "generator", None)
    if generator is None:
        generator = _thread.generator = np.random.Generator(np.random.PCG64(0))
    flat = np.asarray(words).astype("<u4", copy=False).ravel()
    value = int.from_bytes(flat.tobytes(), "little") & _MASK128
    generator.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": value ^ (_SHUFFLE_TAG << 96), "inc": _PCG_INCREMENT},
        "has_uint32": 0,
        "uinteger": 0,
    }
    raw = generator.bit_generator.random_raw((flat.size + 1) // 2)
    # each 64-bit draw gives two words, its low half first
    halves = raw.astype("<u8", copy=False).view("<u4")[: flat.size]
    return halves.astype(np.uint32).reshape(np.shape(words)), generator


def numpy_generator(key) -> np.random.Generator:
    """The generator of the shuffle of the epoch that starts from JAX PRNG key `key` (typed, or
    raw `uint32` words): `epoch_streams`'s, valid until the next call in this thread.

    Reading a device key is a sync: `fit` passes the host words it already holds.
    """
    return epoch_streams(key_words(key))[1]


def next_epoch_words(words: np.ndarray) -> np.ndarray:
    """The training key's words at the next epoch's start, from those at this one's (see
    `epoch_streams`)."""
    return epoch_streams(words)[0]


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
