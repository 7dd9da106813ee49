"""Keras 3 weight initializers, drawing from explicit JAX PRNG keys.

An initializer is a small config object; calling it is a pure function of the shape, dtype
and key:

    init = initializers.get("glorot_uniform")
    kernel = init((784, 128), dtype="float32", key=jax.random.key(0))

fkeras layers always pass `key` (typed `jax.random.key` keys and raw `uint32[2]` keys both
work), so initializers compose with `jax.jit` and `jax.vmap`. When `key` is omitted, the draw
uses the initializer's `seed`: an integer seed always gives the same values, and its key is the
one Keras 3 builds on the JAX backend (`uint32[seed, 0]`), so `GlorotUniform(seed=3)` here and in
Keras 3 return identical arrays. Without a seed, each keyless call takes a fresh seed from a
module counter, so repeated calls differ.

Formulas, defaults, names and configs follow `keras.initializers`; Keras 2's lowercase
spellings (`glorot_uniform`, `normal`, `zero`, ...) are accepted by `get`.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import _config, _custom_objects
from fkeras._naming import to_snake_case

Array = jax.Array
Shape = Sequence[int]
DType = Any

# The standard deviation of a unit normal truncated to [-2, 2]; dividing by it makes a
# truncated draw have the intended variance (the constant Keras uses).
_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978

_seed_counter = itertools.count(1)


def _next_seed() -> int:
    """A fresh seed for a keyless call of an unseeded initializer."""
    return next(_seed_counter)


def _reset_seed_counter(start: int = 1) -> None:
    """Restart the unseeded-draw counter (for `set_random_seed`-style reproducibility)."""
    global _seed_counter
    _seed_counter = itertools.count(int(start))


def _seed_to_key(seed: int) -> Array:
    # Keras 3 turns an int seed into the raw key [seed, 0] on the JAX backend.
    return jnp.array([seed % 2**32, 0], dtype=jnp.uint32)


def _standardize_shape(shape: Shape) -> tuple[int, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"`shape` must be a tuple of integers. Received: shape={shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"`shape` must not have negative dimensions. Received: shape={shape}")
    return dims


def _standardize_dtype(dtype: DType) -> jnp.dtype:
    return jnp.dtype(_config.floatx() if dtype is None else dtype)


def _float_dtype(dtype: DType, initializer: Initializer) -> jnp.dtype:
    dtype = _standardize_dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(
            f"{type(initializer).__name__} draws random floats; expected a floating dtype. "
            f"Received: dtype={dtype.name}"
        )
    return dtype


class Initializer:
    """Base class: an initializer maps `(shape, dtype, key)` to an array.

    Subclasses implement `__call__(self, shape, dtype=None, *, key=None)` and, when they have
    arguments, `get_config`. The default `from_config` calls the constructor with the config.
    """

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        raise NotImplementedError("Initializer subclasses must implement `__call__()`.")

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Builds an initializer from the output of `get_config`."""
        return cls(**config)

    def clone(self) -> Initializer:
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """Fills with 0."""

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        del key
        return jnp.zeros(_standardize_shape(shape), _standardize_dtype(dtype))


class Ones(Initializer):
    """Fills with 1."""

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        del key
        return jnp.ones(_standardize_shape(shape), _standardize_dtype(dtype))


class Constant(Initializer):
    """Fills with `value` (a scalar, or an array that broadcasts to the shape).

    Args:
        value: The fill value.
    """

    def __init__(self, value: float | Any = 0.0):
        self.value = value

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        del key
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype)
        value = jnp.asarray(self.value, dtype)
        try:
            return jnp.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(
                f"Constant: `value` of shape {value.shape} does not broadcast to the requested "
                f"shape. Received: shape={shape}"
            ) from None

    def get_config(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, (np.ndarray, np.generic, jax.Array)):
            value = np.asarray(value).tolist()
        return {"value": value}


class Identity(Initializer):
    """`gain` times the identity matrix; only for 2D shapes (non-square ones allowed).

    Args:
        gain: Multiplicative factor.
    """

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        del key
        shape = _standardize_shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dtype = _standardize_dtype(dtype)
        return jnp.eye(*shape, dtype=dtype) * jnp.asarray(self.gain, dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base for initializers that draw random numbers.

    Args:
        seed: An int seed used when `__call__` receives no `key`, or `None` for a fresh seed
            per keyless call.
    """

    def __init__(self, seed: int | None = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)

    def _key(self, key: Array | None) -> Array:
        if key is None:
            return _seed_to_key(self.seed if self.seed is not None else _next_seed())
        if isinstance(key, (int, np.integer)):
            raise TypeError(
                "`key` must be a JAX PRNG key such as `jax.random.key(0)`; for an integer seed "
                f"pass `seed=` to the initializer. Received: key={key!r}"
            )
        return key

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Draws from a normal distribution `N(mean, stddev**2)`.

    Args:
        mean: Mean of the distribution.
        stddev: Standard deviation of the distribution.
        seed: See `RandomInitializer`.
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        dtype = _float_dtype(dtype, self)
        sample = jax.random.normal(self._key(key), _standardize_shape(shape), dtype)
        return sample * self.stddev + self.mean

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Draws from `N(mean, stddev**2)` truncated to two standard deviations around the mean.

    Args:
        mean: Mean of the distribution before truncation.
        stddev: Standard deviation of the distribution before truncation.
        seed: See `RandomInitializer`.
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        dtype = _float_dtype(dtype, self)
        shape = _standardize_shape(shape)
        sample = jax.random.truncated_normal(self._key(key), -2.0, 2.0, shape, dtype)
        return sample * self.stddev + self.mean

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Draws from the uniform distribution on `[minval, maxval)`.

    Args:
        minval: Lower bound.
        maxval: Upper bound (excluded).
        seed: See `RandomInitializer`.
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        dtype = _float_dtype(dtype, self)
        shape = _standardize_shape(shape)
        return jax.random.uniform(self._key(key), shape, dtype, self.minval, self.maxval)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(
    shape: Shape,
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Returns `(fan_in, fan_out)` for a weight of the given shape, as Keras computes them.

    Scalars count as 1, a vector's fans are its length, a matrix is `(inputs, outputs)`, and a
    convolution kernel `(*receptive_field, in_channels, out_channels)` multiplies each channel
    count by the receptive field size. With both `input_axes` and `output_axes`, the fans are
    the products of those axes' sizes instead.
    """
    shape = _standardize_shape(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """Draws with a variance that scales with the weight's fans.

    With `n` the fan selected by `mode` (`fan_in`, `fan_out` or their mean `fan_avg`, at
    least 1), the target variance is `scale / n`:

    - `truncated_normal` (alias `normal`): a normal truncated at two standard deviations, with
      `stddev = sqrt(scale / n) / 0.8796...` so that the truncated draw has that variance;
    - `untruncated_normal`: a normal with `stddev = sqrt(scale / n)`;
    - `uniform`: uniform on `[-limit, limit]` with `limit = sqrt(3 * scale / n)`.

    Args:
        scale: Positive scaling factor.
        mode: One of `"fan_in"`, `"fan_out"`, `"fan_avg"`.
        distribution: One of `"truncated_normal"`, `"untruncated_normal"`, `"uniform"`.
        seed: See `RandomInitializer`.
        input_axes: Optional axes whose sizes multiply to the fan-in (with `output_axes`).
        output_axes: Optional axes whose sizes multiply to the fan-out (with `input_axes`).
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        if not scale > 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in _MODES:
            raise ValueError(
                f"Invalid `mode` argument: expected one of {_MODES}. Received: mode={mode!r}"
            )
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: expected one of {_DISTRIBUTIONS}. "
                f"Received: distribution={distribution!r}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        dtype = _float_dtype(dtype, self)
        shape = _standardize_shape(shape)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        key = self._key(key)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_NORMAL_STDDEV
            return jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype) * stddev + 0.0
        if self.distribution == "untruncated_normal":
            return jax.random.normal(key, shape, dtype) * math.sqrt(scale) + 0.0
        limit = math.sqrt(3.0 * scale)
        return jax.random.uniform(key, shape, dtype, -limit, limit)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling with fixed `(scale, mode, distribution)`; only the seed and axes vary."""

    _preset: tuple[float, str, str]

    def __init__(
        self,
        seed: int | None = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ):
        scale, mode, distribution = self._preset
        super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_VarianceScalingPreset):
    """Glorot (Xavier) uniform: on `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))`.

    Same as `VarianceScaling(1.0, "fan_avg", "uniform")`. Args as for `VarianceScaling`.

    Reference: Glorot & Bengio, 2010, https://proceedings.mlr.press/v9/glorot10a.html
    """

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Glorot (Xavier) normal: truncated normal, `stddev = sqrt(2 / (fan_in + fan_out))`.

    Same as `VarianceScaling(1.0, "fan_avg", "truncated_normal")`. Args as for `VarianceScaling`.
    """

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_VarianceScalingPreset):
    """He uniform: uniform on `[-limit, limit]`, `limit = sqrt(6 / fan_in)`.

    Same as `VarianceScaling(2.0, "fan_in", "uniform")`. Args as for `VarianceScaling`.

    Reference: He et al., 2015, https://arxiv.org/abs/1502.01852
    """

    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_VarianceScalingPreset):
    """He normal: truncated normal, `stddev = sqrt(2 / fan_in)`.

    Same as `VarianceScaling(2.0, "fan_in", "truncated_normal")`. Args as for `VarianceScaling`.
    """

    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_VarianceScalingPreset):
    """LeCun uniform: uniform on `[-limit, limit]`, `limit = sqrt(3 / fan_in)`.

    Same as `VarianceScaling(1.0, "fan_in", "uniform")`. Args as for `VarianceScaling`.
    """

    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_VarianceScalingPreset):
    """LeCun normal: truncated normal, `stddev = sqrt(1 / fan_in)` (pair with `selu`).

    Same as `VarianceScaling(1.0, "fan_in", "truncated_normal")`. Args as for `VarianceScaling`.
    """

    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times `gain`, from the QR decomposition of a normal draw.

    The shape is flattened to `(prod(shape[:-1]), shape[-1])`; the result has orthonormal
    columns when it has more rows than columns, and orthonormal rows otherwise.

    Args:
        gain: Multiplicative factor.
        seed: See `RandomInitializer`.

    Reference: Saxe et al., 2014, https://arxiv.org/abs/1312.6120
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        shape = _standardize_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                f"{type(self).__name__} initializer: the tensor to initialize must be at least "
                f"two-dimensional (a kernel, not a bias vector). Received: shape={shape} of rank "
                f"{len(shape)}."
            )
        dtype = _float_dtype(dtype, self)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        # the QR runs in float32 at least: XLA has no QR for half precision (bfloat16, float16)
        work = jnp.promote_types(dtype, jnp.float32)
        flat = jax.random.normal(self._key(key), (max(rows, cols), min(rows, cols)), work)
        q, r = jnp.linalg.qr(flat)
        # Fixing the signs of R's diagonal makes Q uniformly distributed over orthogonal matrices.
        q = q * jnp.sign(jnp.diagonal(r))[None, :]
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gain": self.gain}


def _accepts_key(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "key" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


class _FunctionInitializer(Initializer):
    """Wraps a Keras-style `fn(shape, dtype=None)` so that it accepts (and ignores) `key`."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn

    def __call__(self, shape: Shape, dtype: DType = None, *, key: Array | None = None) -> Array:
        del key
        return jnp.asarray(self.fn(_standardize_shape(shape), dtype=_standardize_dtype(dtype)))

    def get_config(self) -> dict[str, Any]:
        return self.fn.get_config() if hasattr(self.fn, "get_config") else {}

    def __repr__(self) -> str:
        return f"_FunctionInitializer({self.fn!r})"


def _array_initializer(value: Any) -> _FunctionInitializer:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            "An array used as initializer must hold numbers. "
            f"Received: an array of dtype {array.dtype} and shape {array.shape}"
        )

    def initialize(shape, dtype=None):
        if tuple(shape) != array.shape:
            raise ValueError(
                f"Expected `shape` to be {array.shape} for an array used as initializer. "
                f"Received: shape={tuple(shape)}"
            )
        return jnp.asarray(array, dtype)

    return _FunctionInitializer(initialize)


_CLASSES = (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)
_BY_NAME: dict[str, type[Initializer]] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update(
    {
        "normal": RandomNormal,
        "uniform": RandomUniform,
        "zero": Zeros,
        "one": Ones,
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
    }
)

# Keras 2 lowercase aliases, usable as `initializers.glorot_uniform(seed=1)`.
constant, zeros, zero, ones, one = Constant, Zeros, Zeros, Ones, Ones
identity, orthogonal, variance_scaling = Identity, Orthogonal, VarianceScaling
random_normal = normal = RandomNormal
random_uniform = uniform = RandomUniform
truncated_normal = TruncatedNormal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def _function_config(fn: Any) -> dict[str, Any]:
    """Keras 3's config for a plain function: restored from `custom_objects` by its name."""
    name = getattr(fn, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(
            "Cannot serialize this initializer: it is neither an Initializer object nor a named "
            f"function. Define it with `def`. Received: initializer={fn!r}"
        )
    return {
        "module": "builtins",
        "class_name": "function",
        "config": name,
        "registered_name": "function",
    }


def serialize(initializer: Initializer | Callable[..., Any]) -> dict[str, Any]:
    """Returns Keras 3's config dict for `initializer` (`module`, `class_name`, `config`).

    A plain function (wrapped or not) serializes by name, as in Keras 3; deserializing it needs
    the function in `custom_objects`.
    """
    if isinstance(initializer, _FunctionInitializer):
        initializer = initializer.fn
    if not isinstance(initializer, Initializer):
        return _function_config(initializer)
    return {
        "module": "keras.initializers",
        "class_name": type(initializer).__name__,
        "config": initializer.get_config(),
        "registered_name": None,
    }


def deserialize(
    config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None
) -> Initializer:
    """Builds an initializer from a name or a Keras 2/3 config dict (`class_name`, `config`)."""
    custom_objects = _custom_objects.merged(custom_objects)
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "An initializer config must be a name or a dict with a 'class_name' key. "
            f"Received: config={config!r}"
        )
    name = config["class_name"]
    if name == "function" and isinstance(config.get("config"), str):
        return get(custom_objects.get(config["config"]) or config["config"])
    cls = custom_objects.get(name) or _BY_NAME.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown initializer. Expected one of {sorted(_BY_NAME)}. "
            f"Received: identifier={name!r}"
        )
    kwargs = config.get("config") or {}
    return cls.from_config(kwargs) if hasattr(cls, "from_config") else cls(**kwargs)


def get_or_default(identifier: Any, default: str) -> Initializer:
    """`get(identifier)`, where None means `default`.

    Layers use it for their weights' initializers: a Keras layer given `kernel_initializer=None`
    still initializes its kernel (Keras's `add_weight` falls back to a default), so None must
    not reach the build as a missing callable.
    """
    return get(default if identifier is None else identifier)


def get(identifier: Any) -> Initializer | None:
    """Returns an initializer object from a name, config, class, instance, callable or array.

    Args:
        identifier: `None` (returns `None`); a Keras name, case-sensitive (`"GlorotUniform"`,
            `"glorot_uniform"`, `"zeros"`, ...); a config dict; an `Initializer` class
            (instantiated with defaults) or instance; a Keras 2 style function
            `fn(shape, dtype=None)` (wrapped so that it accepts and ignores `key`); or an
            array (returned as is, for exactly its own shape).

    Returns:
        A callable `init(shape, dtype=None, *, key=None)`.

    Raises:
        ValueError: for an unknown name or an identifier of another type.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, (np.ndarray, np.generic, jax.Array)):
        return _array_initializer(identifier)
    if inspect.isclass(identifier):
        identifier = identifier()
    if callable(identifier):
        return identifier if _accepts_key(identifier) else _FunctionInitializer(identifier)
    raise ValueError(
        "Could not interpret initializer identifier: expected a name, a config dict, an "
        f"initializer or a callable. Received: identifier={identifier!r}"
    )
