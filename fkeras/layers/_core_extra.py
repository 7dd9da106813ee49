"""More core layers: Lambda, Masking, Identity, ActivityRegularization, and the noise layers
(SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout).

Lambda and safe loading: `Lambda.get_config` writes a Python lambda as its marshalled bytecode
(base64, Keras's `func_dump`) and a named function by module and name, as Keras 3 does. Loading
bytecode, or importing a function from an arbitrary module, can run code, so `Lambda.from_config`
refuses both unless the caller opts in: `safe_mode=False`, else the process-wide
`enable_unsafe_deserialization()` (Keras's `keras.config` switch), else an enclosing
`with safe_mode_scope(False):` (for loaders). Functions given in `custom_objects`, and fkeras's
activations and backend functions, load in safe mode.

Noise layers draw only from the `rng` passed to `apply` (`seed` is kept for Keras configs); they
are the identity at inference.
"""

import base64
import contextlib
import copy
import importlib
import inspect
import marshal
import math
import numbers
import types

import jax
import jax.numpy as jnp
import numpy as np

from fkeras import _config
from fkeras.layers._base import Layer
from fkeras.layers._core import _check_rank, check_noise_shape, standardize_noise_shape
from fkeras.layers._pooling import _as_spec, _check_ndim, _spatial_axes
from fkeras.layers._spec import TensorSpec

MSG_NEEDS_RNG = (
    "{cls} layer {name!r} was applied with training=True but no `rng`. Pass a PRNG key:\n"
    "    outputs, state = layer.apply(variables, x, training=True, rng=jax.random.key(0))\n"
    "or apply with training=False ({cls} is the identity at inference)."
)

MSG_UNSAFE_LAMBDA = (
    "Requested the deserialization of a `Lambda` layer whose {what} is a Python lambda, stored "
    "as bytecode. Loading it runs arbitrary code, so it is disallowed by default. If you trust "
    "the source of this config, pass `safe_mode=False` to the loading function (or to "
    "`Lambda.from_config`), or call "
    "`fkeras.layers._core_extra.enable_unsafe_deserialization()`."
)

MSG_UNSAFE_FUNCTION = (
    "Requested the deserialization of a `Lambda` layer whose {what} is the function {name!r} "
    "from module {module!r}. Importing it could run arbitrary code, so it is disallowed by "
    "default. Pass the function in `custom_objects` (e.g. `custom_objects={{{name!r}: {name}}}`), "
    "or, if you trust the source of this config, pass `safe_mode=False` to the loading function, "
    "or call `fkeras.layers._core_extra.enable_unsafe_deserialization()`."
)

# Modules whose functions a config may name in safe mode (pure array maths, no side effects).
_SAFE_MODULES = ("fkeras.activations", "fkeras.backend")

_unsafe_enabled = False
_scopes: list[bool] = []


def enable_unsafe_deserialization() -> None:
    """Allow `Lambda` configs to load code (bytecode or imported functions), process-wide."""
    global _unsafe_enabled
    _unsafe_enabled = True


def disable_unsafe_deserialization() -> None:
    """Undo `enable_unsafe_deserialization` (the default: code is refused)."""
    global _unsafe_enabled
    _unsafe_enabled = False


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool = True):
    """Within the block, `Lambda.from_config` without `safe_mode` uses this value."""
    _scopes.append(bool(safe_mode))
    try:
        yield
    finally:
        _scopes.pop()


def in_safe_mode(safe_mode: bool | None = None) -> bool:
    """The effective safe mode: the explicit value, else the process switch, else the scope."""
    if safe_mode is not None:
        return bool(safe_mode)
    if _unsafe_enabled:
        return False
    return _scopes[-1] if _scopes else True


# ---- function (de)serialization ------------------------------------------------------------------


def _serialize_function(fn, what: str) -> dict:
    cached = getattr(fn, "_fkeras_config", None)  # set on a function loaded from a config
    if cached is not None:
        return copy.deepcopy(cached)
    if isinstance(fn, types.FunctionType) and fn.__name__ == "<lambda>":
        # Keras's `func_dump`: base64 (76-char lines) of the marshalled code object.
        code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {
            "class_name": "__lambda__",
            "config": {"code": code, "defaults": fn.__defaults__, "closure": closure},
        }
    name, module = getattr(fn, "__name__", None), getattr(fn, "__module__", None)
    if not isinstance(name, str) or not isinstance(module, str):
        raise TypeError(
            f"Lambda: cannot serialize the {what} {fn!r}: it is neither a Python lambda nor a "
            "named function with a module. Use a `def` function (or a lambda)."
        )
    return {"module": module, "class_name": "function", "config": name, "registered_name": name}


def _code_globals() -> dict:
    """Globals for loaded lambdas: builtins and the names Keras scripts use (`K`, `keras`)."""
    import fkeras
    from fkeras import backend

    names = {"K": backend, "backend": backend, "keras": fkeras, "jax": jax, "jnp": jnp, "np": np}
    return {"__builtins__": __builtins__, **names}


def _load_lambda(inner: dict, what: str):
    code, defaults, closure = inner["code"], inner.get("defaults"), inner.get("closure")
    try:
        code_obj = marshal.loads(base64.decodebytes(code.encode("ascii")))
    except (ValueError, EOFError, TypeError, UnicodeEncodeError) as err:
        raise ValueError(
            f"Lambda: could not load the bytecode of its {what}; it was probably saved by "
            f"another Python version ({err}). Rebuild the layer from source code instead."
        ) from err
    cells = None if closure is None else tuple(types.CellType(v) for v in closure)
    return types.FunctionType(
        code_obj,
        _code_globals(),
        code_obj.co_name,
        None if defaults is None else tuple(defaults),
        cells,
    )


def _find_function(
    name: str, module: str | None, registered, custom_objects: dict, safe: bool, what: str
):
    for key in (name, registered):
        if isinstance(key, str) and key in custom_objects:
            return custom_objects[key]
    # Keras writes its built-in functions with module 'builtins'; look in fkeras's equivalents.
    if module in (None, "builtins") or module in _SAFE_MODULES or str(module).startswith("keras"):
        for safe_module in _SAFE_MODULES:
            found = getattr(importlib.import_module(safe_module), name, None)
            if callable(found):
                return found
    if safe:
        raise ValueError(MSG_UNSAFE_FUNCTION.format(what=what, name=name, module=module))
    try:
        found = getattr(importlib.import_module(module), name, None) if module else None
    except ImportError:
        found = None
    if not callable(found):
        raise TypeError(
            f"Lambda: could not find the {what} {name!r} in module {module!r}. Pass it in "
            f"`custom_objects`, e.g. `custom_objects={{{name!r}: {name}}}`."
        )
    return found


def _deserialize_function(value, custom_objects: dict, safe: bool, what: str):
    if value is None or callable(value):
        return value
    if isinstance(value, dict) and value.get("class_name") == "__lambda__":
        if safe:
            raise ValueError(MSG_UNSAFE_LAMBDA.format(what=what))
        inner = value["config"]
        if "value" in inner:  # Keras's generic `serialize_keras_object` form of a lambda
            inner = dict(zip(("code", "defaults", "closure"), inner["value"]))
        fn = _load_lambda(inner, what)
        fn._fkeras_config = copy.deepcopy(value)  # re-saving writes the same config back
        return fn
    if isinstance(value, dict) and value.get("class_name") == "function":
        return _find_function(
            value["config"],
            value.get("module"),
            value.get("registered_name"),
            custom_objects,
            safe,
            what,
        )
    if isinstance(value, str):
        return _find_function(value, None, None, custom_objects, safe, what)
    raise ValueError(
        f"Lambda: cannot deserialize the {what} from its config. Received: {what}={value!r}"
    )


def _from_keras2(config: dict) -> dict:
    """Keras 2 wrote `function_type` ('lambda': a `(code, defaults, closure)` triple;
    'function': a name) and `module`, and the same for `output_shape`."""
    config = dict(config)
    for key, kind_key, module_key in (
        ("function", "function_type", "module"),
        ("output_shape", "output_shape_type", "output_shape_module"),
    ):
        kind, module, value = (
            config.pop(kind_key, None),
            config.pop(module_key, None),
            config.get(key),
        )
        if kind == "lambda" and isinstance(value, (list, tuple)):
            code = dict(zip(("code", "defaults", "closure"), value))
            config[key] = {"class_name": "__lambda__", "config": code}
        elif kind == "function" and isinstance(value, str):
            config[key] = {"module": module, "class_name": "function", "config": value}
    return config


def _as_shape(value):
    """`output_shape` as a tuple (one output) or a list of tuples; JSON lists become tuples."""
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, (list, tuple)) for v in value)
    ):
        return [tuple(v) for v in value]
    return tuple(value)


# ---- Lambda --------------------------------------------------------------------------------------


def _keywords(fn) -> set:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


class Lambda(Layer):
    """Wraps an expression of JAX (or `fkeras.backend`) operations as a layer.

    Args:
        function: called as `function(inputs, **arguments)`; it also receives `mask=` and
            `training=` if its signature names them.
        output_shape: optional. A tuple (the output shape without the batch axis), a list of
            such tuples (several outputs), or a function `input_shape -> output_shape` (full
            shapes, batch included). By default it is inferred by tracing `function`.
        mask: optional function `(inputs, mask) -> output mask` (Keras's `compute_mask`). Keras
            also takes a constant tensor here; fkeras specs hold no arrays, so pass a function.
        arguments: optional dict of keyword arguments for `function`.

    Input shape: arbitrary. Output shape: `output_shape`, or what `function` returns.

    Example:
        >>> layer = Lambda(lambda x: x ** 2)
        >>> layer.apply({}, jnp.array([[2.0]]))[0]
        Array([[4.]], dtype=float32)

    Saving: see the module docstring; loading a lambda needs `safe_mode=False`.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable. Received: function={function!r}")
        if output_shape is not None and not callable(output_shape):
            try:
                output_shape = _as_shape(output_shape)
            except TypeError:
                raise TypeError(
                    "Lambda: `output_shape` must be a tuple, a list of tuples or a function. "
                    f"Received: output_shape={output_shape!r}"
                ) from None
        if mask is not None and not callable(mask):
            raise TypeError(
                "Lambda: `mask` must be None or a function `(inputs, mask) -> mask` (fkeras "
                f"layers hold no arrays). Received: mask={mask!r}"
            )
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(
                f"Lambda: `arguments` must be a dict. Received: arguments={arguments!r}"
            )
        super().__init__(**kwargs)
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None
        names = _keywords(function)
        self._fn_expects_mask_arg = "mask" in names
        self._fn_expects_training_arg = "training" in names

    def apply(self, variables, inputs, *, training=False, rng=None, mask=None):
        del variables, rng
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs), {}

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else None

    def _traced_spec(self, input_spec, kwargs):
        try:
            return super().compute_output_spec(input_spec, **kwargs)
        except Exception as err:  # the user's function failed on symbolic inputs
            raise ValueError(
                f"Lambda layer {self.name!r} could not infer the shape of its output by tracing "
                f"its function on inputs {input_spec!r}: {type(err).__name__}: {err}. Check the "
                "function, or pass `output_shape`."
            ) from err

    def compute_output_spec(self, input_spec, **kwargs):
        if self._output_shape is None:
            return self._traced_spec(input_spec, kwargs)
        # A given `output_shape` is trusted, as in Keras; the dtype is the (first) input's.
        leaves = jax.tree_util.tree_leaves(input_spec)
        given = self._output_shape
        if callable(given):
            single = isinstance(input_spec, TensorSpec)
            shapes = _as_shape(given(input_spec.shape if single else [s.shape for s in leaves]))
        else:
            batch = leaves[0].shape[0] if leaves[0].ndim else None
            shapes = [(batch,) + s for s in given] if isinstance(given, list) else (batch,) + given
        if isinstance(shapes, list):
            return [TensorSpec(s, leaves[0].dtype) for s in shapes]
        return TensorSpec(shapes, leaves[0].dtype)

    def get_config(self):
        config = {
            **super().get_config(),
            "function": _serialize_function(self.function, "function"),
        }
        if self._output_shape is not None:
            shape = self._output_shape
            config["output_shape"] = (
                _serialize_function(shape, "output_shape") if callable(shape) else shape
            )
        if self.mask is not None:
            config["mask"] = _serialize_function(self.mask, "mask")
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(
        cls, config: dict, custom_objects: dict | None = None, safe_mode: bool | None = None
    ):
        """Rebuild a Lambda; refuses bytecode and imported functions in safe mode (default).

        Args:
            config: the output of `get_config` (Keras 3's layout; Keras 2's is read too).
            custom_objects: dict of name -> function for functions the config names.
            safe_mode: False allows loading code; None (default) uses `in_safe_mode()`.

        Raises:
            ValueError: when the config carries code and safe mode is on.
        """
        safe = in_safe_mode(safe_mode)
        custom_objects = custom_objects or {}
        config = _from_keras2(config)
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if key == "output_shape" and value is not None and not isinstance(value, dict):
                config[key] = _as_shape(value)
            elif value is not None:
                config[key] = _deserialize_function(value, custom_objects, safe, key)
        return cls(**config)


# ---- Masking, Identity, ActivityRegularization ---------------------------------------------------


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`: they are zeroed in the output, and
    the output mask (`compute_mask`, shape `inputs.shape[:-1]`) is False there. Downstream
    layers that consume masks (RNNs, GlobalAveragePooling1D) skip those timesteps.

    Args:
        mask_value: the padding value (default 0.0).

    Input shape: `(batch_size, timesteps, features)` (any rank >= 1). Output shape: the same.
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        if isinstance(mask_value, bool) or not isinstance(mask_value, (numbers.Number, np.number)):
            raise TypeError(
                f"Masking: `mask_value` must be a number. Received: mask_value={mask_value!r}"
            )
        super().__init__(**kwargs)
        self.mask_value = mask_value.item() if isinstance(mask_value, np.generic) else mask_value

    def _keep(self, inputs, keepdims: bool):
        return jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1, keepdims=keepdims)

    def compute_output_spec(self, input_spec, **kwargs):
        _check_rank(self, input_spec, 1)
        return TensorSpec(input_spec.shape, input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        self.compute_output_spec(_as_spec(self, inputs))
        return jnp.where(self._keep(inputs, True), inputs, jnp.zeros((), inputs.dtype)), {}

    def compute_mask(self, inputs, mask=None):
        del mask
        return self._keep(inputs, False)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class Identity(Layer):
    """Returns its inputs unchanged (one tensor or a structure of tensors); passes masks through."""

    supports_masking = True

    def compute_output_spec(self, input_spec, **kwargs):
        return jax.tree_util.tree_map(lambda s: TensorSpec(s.shape, s.dtype), input_spec)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        return inputs, {}


class ActivityRegularization(Layer):
    """The identity, whose Keras counterpart adds `l1 * sum|x| + l2 * sum x^2` (divided by the
    batch size) of its outputs to the training loss.

    fkeras's layer protocol has no activity losses yet (`penalty` sees parameters only), so the
    layer computes nothing in `apply`; call `activity_penalty(outputs)` to get Keras's value and
    add it to your loss.

    Args:
        l1, l2: non-negative factors (default 0).

    Input shape: arbitrary. Output shape: the same.
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        l1 = _check_rate("ActivityRegularization", l1, "l1", upper=None)
        l2 = _check_rate("ActivityRegularization", l2, "l2", upper=None)
        super().__init__(**kwargs)
        self.l1, self.l2 = l1, l2

    def compute_output_spec(self, input_spec, **kwargs):
        return jax.tree_util.tree_map(lambda s: TensorSpec(s.shape, s.dtype), input_spec)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        return inputs, {}

    def activity_penalty(self, outputs):
        """Keras's activity loss of `outputs`: per tensor, `(l1*sum|x| + l2*sum x^2) / batch`."""
        total = 0.0
        for x in jax.tree_util.tree_leaves(outputs):
            x = jnp.asarray(x)
            loss = jnp.zeros((), x.dtype)
            if self.l1:
                loss = loss + jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))
            if self.l2:
                loss = loss + jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))
            if x.ndim > 0:  # Keras divides by the batch size (0 for an empty batch)
                loss = loss / x.shape[0] if x.shape[0] else jnp.zeros_like(loss)
            total = total + loss
        return total

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}


# ---- noise layers --------------------------------------------------------------------------------


def _check_rate(owner: str, rate, name: str = "rate", upper: str | None = "[0, 1]") -> float:
    """A float in `upper` ('[0, 1]' or '[0, 1)'; None: any value >= 0), else a ValueError."""
    ok = not isinstance(rate, bool) and isinstance(rate, (numbers.Real, np.floating))
    ok = ok and 0 <= rate and (upper is None or rate < 1 or (upper == "[0, 1]" and rate == 1))
    if not ok:
        expected = "a non-negative float" if upper is None else f"a float value in {upper}"
        raise ValueError(
            f"{owner}: invalid value received for argument `{name}`. Expected {expected}. "
            f"Received: {name}={rate!r}"
        )
    return float(rate)


class _Noise(Layer):
    """A random layer: the identity at inference; with `training=True`, `_noisy(x, rng)`."""

    supports_masking = True
    _ndim: int | None = None  # required input rank, if any

    def _active(self) -> bool:
        return getattr(self, "rate", getattr(self, "stddev", 0.0)) > 0

    def _noisy(self, x, rng):
        raise NotImplementedError

    def compute_output_spec(self, input_spec, **kwargs):
        if self._ndim is None:
            _check_rank(self, input_spec, 0)
        else:
            _check_ndim(self, input_spec, self._ndim)
        return TensorSpec(input_spec.shape, input_spec.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables
        self.compute_output_spec(_as_spec(self, inputs))
        if not training or not self._active():
            return inputs, {}
        if rng is None:
            raise ValueError(MSG_NEEDS_RNG.format(cls=type(self).__name__, name=self.name))
        x = jnp.asarray(inputs)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(self.dtype)
        return self._noisy(x, rng), {}


class _SpatialDropout(_Noise):
    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        rate = _check_rate(type(self).__name__, rate)
        data_format = _config.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.rate = rate
        self.data_format = data_format
        self.seed = seed

    def _noisy(self, x, rng):
        if self.rate == 1:
            return jnp.zeros_like(x)
        spatial = _spatial_axes(self.data_format, x.ndim - 2)
        noise_shape = tuple(1 if i in spatial else d for i, d in enumerate(x.shape))
        keep = jax.random.bernoulli(rng, 1.0 - self.rate, noise_shape)
        return jnp.where(keep, x / (1.0 - self.rate), jnp.zeros((), x.dtype))

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "data_format": self.data_format,
        }


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole feature maps: drops each (sample, channel) across all timesteps.

    Args:
        rate: float in [0, 1], the fraction of channels to drop; kept ones are scaled by
            1/(1-rate).
        seed: kept for Keras compatibility; randomness comes from `apply`'s `rng`.

    Input shape: 3D `(samples, timesteps, channels)`. Output shape: the same.
    """

    _ndim = 3

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, "channels_last", seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole 2D feature maps (each (sample, channel) over all rows and cols).

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.
        seed: kept for Keras compatibility; randomness comes from `apply`'s `rng`.

    Input shape: 4D. Output shape: the same.
    """

    _ndim = 4

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, data_format, seed, **kwargs)


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole 3D feature maps (each (sample, channel) over the three spatial axes).

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: 'channels_last' or 'channels_first'; default `image_data_format()`.
        seed: kept for Keras compatibility; randomness comes from `apply`'s `rng`.

    Input shape: 5D. Output shape: the same.
    """

    _ndim = 5

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, data_format, seed, **kwargs)


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` while training.

    Args:
        stddev: float >= 0 (Keras 3 also caps it at 1; fkeras accepts larger values, as Keras 2).
        seed: kept for Keras compatibility; randomness comes from `apply`'s `rng`.

    Input shape: arbitrary. Output shape: the same.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        stddev = _check_rate("GaussianNoise", stddev, "stddev", upper=None)
        super().__init__(**kwargs)
        self.stddev = stddev
        self.seed = seed

    def _noisy(self, x, rng):
        return x + jax.random.normal(rng, x.shape, x.dtype) * jnp.asarray(self.stddev, x.dtype)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_Noise):
    """Multiplies by Gaussian noise of mean 1 and variance `rate / (1 - rate)` while training.

    Args:
        rate: float in [0, 1), the drop probability of the equivalent Dropout.
        seed: kept for Keras compatibility; randomness comes from `apply`'s `rng`.

    Input shape: arbitrary. Output shape: the same.
    """

    def __init__(self, rate, seed=None, **kwargs):
        rate = _check_rate("GaussianDropout", rate, upper="[0, 1)")
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed

    def _noisy(self, x, rng):
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return x * (jax.random.normal(rng, x.shape, x.dtype) * jnp.asarray(stddev, x.dtype) + 1)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(_Noise):
    """Dropout that keeps the mean and variance of its inputs (for SELU networks).

    Dropped units are set to SELU's negative saturation `-alpha * scale`, then an affine map
    `a * x + b`, with `a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5` and
    `b = -a * alpha_p * rate`, restores zero mean and unit variance (Klambauer et al., 2017).

    Args:
        rate: float in [0, 1), the drop probability.
        noise_shape: optional shape of the keep mask, broadcast over the input (None entries
            take the input's size).
        seed: kept for Keras compatibility; randomness comes from `apply`'s `rng`.

    Input shape: arbitrary. Output shape: the same.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        rate = _check_rate("AlphaDropout", rate, upper="[0, 1)")
        noise_shape = standardize_noise_shape("AlphaDropout", noise_shape)
        super().__init__(**kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def compute_output_spec(self, input_spec, **kwargs):
        spec = super().compute_output_spec(input_spec, **kwargs)
        check_noise_shape(self, spec)
        return spec

    def _noisy(self, x, rng):
        shape = x.shape
        if self.noise_shape is not None:
            shape = tuple(d if n is None else n for d, n in zip(x.shape, self.noise_shape))
        kept = (jax.random.uniform(rng, shape) >= self.rate).astype(x.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (x * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }
