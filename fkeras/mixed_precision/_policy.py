"""Dtype policies: the dtype a layer keeps its variables in, and the dtype it computes in.

A policy is a name. `'float32'` (or any dtype name) means variables and computations in that
dtype; `'mixed_float16'` and `'mixed_bfloat16'` mean float32 variables and float16/bfloat16
computations (Keras 3's `DTypePolicy`). The global policy is what a layer built without a
`dtype` argument gets; until `set_global_policy` is called it follows `floatx()`.
"""

from typing import Any

import jax.numpy as jnp
import numpy as np

from fkeras import _config

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_VALID = (
    "'mixed_float16', 'mixed_bfloat16', or a dtype name such as 'float32', 'float16', "
    "'bfloat16', 'float64'"
)

_GLOBAL: "DTypePolicy | None" = None  # None: follow floatx()


def _dtype_name(value: Any, arg: str) -> str:
    """The canonical name of a numeric or boolean dtype (`'float32'`, `'bfloat16'`, `'int32'`)."""
    if isinstance(value, str) and value == "bfloat16":
        return "bfloat16"
    if not isinstance(value, (str, np.dtype, type)):
        raise TypeError(
            f"`{arg}` must be a dtype policy name ({_VALID}) or a `DTypePolicy`. "
            f"Received: {arg}={value!r}"
        )
    try:
        resolved = np.dtype(value)
    except (TypeError, ValueError):
        resolved = None
    if resolved is None or not (resolved.kind in "biufc" or jnp.issubdtype(resolved, jnp.number)):
        error = ValueError if isinstance(value, str) else TypeError
        raise error(
            f"Cannot convert {value!r} to a dtype policy. Valid policies are {_VALID}. "
            f"Received: {arg}={value!r}"
        )
    return resolved.name


class DTypePolicy:
    """A layer's dtype policy: its variable dtype and its compute dtype.

    Args:
        name: `'mixed_float16'` or `'mixed_bfloat16'` (float16/bfloat16 compute, float32
            variables), or a dtype name such as `'float32'` (both dtypes that one). `None`
            takes the global policy's name.

    Raises:
        ValueError: for a string that names no policy.
        TypeError: for a name that is not a string.

    Example:
        >>> policy = DTypePolicy("mixed_float16")
        >>> policy.compute_dtype, policy.variable_dtype
        ('float16', 'float32')
    """

    __slots__ = ("_name", "_compute_dtype", "_variable_dtype")

    def __init__(self, name: str | None = None):
        if name is None:
            name = global_policy().name
        if not isinstance(name, str):
            raise TypeError(
                f"'name' must be a string, such as 'mixed_float16'. Received: name={name!r} "
                f"(of type {type(name).__name__})"
            )
        if name in _MIXED:
            compute, variable = _MIXED[name], "float32"
        else:
            compute = variable = _dtype_name(name, "name")
        self._name = name
        self._compute_dtype = compute
        self._variable_dtype = variable

    @property
    def name(self) -> str:
        """The policy's name, e.g. `'mixed_float16'`."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype layers compute in (and output) under this policy."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype layers create their variables in under this policy."""
        return self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """Keras 3's quantization mode: fkeras policies are never quantized."""
        return None

    @property
    def is_mixed(self) -> bool:
        """Whether the compute dtype differs from the variable dtype."""
        return self._compute_dtype != self._variable_dtype

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(("DTypePolicy", self._name))


FloatDTypePolicy = DTypePolicy  # Keras 3's alias
Policy = DTypePolicy  # Keras 2's name


def global_policy() -> DTypePolicy:
    """The policy of layers built without a `dtype` (default: `DTypePolicy(floatx())`)."""
    if _GLOBAL is not None:
        return _GLOBAL
    return DTypePolicy(_config.floatx())


def set_global_policy(policy: "DTypePolicy | str | None") -> None:
    """Sets the policy of layers built from now on without a `dtype` argument.

    Args:
        policy: a `DTypePolicy`, or a policy name such as `'mixed_float16'`; `None` restores the
            default (the policy named by `floatx()`).

    Raises:
        ValueError: for a name that names no policy, or another kind of value.
    """
    global _GLOBAL
    if policy is None or isinstance(policy, DTypePolicy):
        _GLOBAL = policy
        return
    if not isinstance(policy, str):
        raise ValueError(
            "Invalid `policy` argument. Expected the string name of a policy (such as "
            f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy!r} "
            f"(of type {type(policy).__name__})"
        )
    try:
        _GLOBAL = DTypePolicy(policy)
    except (TypeError, ValueError):
        raise ValueError(
            f"Cannot convert {policy!r} to a dtype policy. Valid policies are {_VALID}. "
            f"Received: policy={policy!r}"
        ) from None


def get(identifier: Any, arg: str = "dtype") -> DTypePolicy:
    """A `DTypePolicy` from a layer's `dtype` argument.

    Args:
        identifier: `None` (the global policy), a `DTypePolicy`, a policy or dtype name, a
            NumPy/JAX dtype, or a serialized policy (Keras 3's `{'class_name': 'DTypePolicy',
            'config': {'name': ...}}`, or Keras 2's `{'class_name': 'Policy', ...}`).
        arg: the argument's name, for error messages.

    Raises:
        ValueError: for a name that names no policy.
        TypeError: for a value of another kind.
    """
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, arg)
    if isinstance(identifier, str):
        if identifier in _MIXED:
            return DTypePolicy(identifier)
        return DTypePolicy(_dtype_name(identifier, arg))
    name = getattr(identifier, "name", None)
    if isinstance(name, str) and hasattr(identifier, "compute_dtype"):  # another library's policy
        return get(name, arg)
    return DTypePolicy(_dtype_name(identifier, arg))


def serialize(policy: DTypePolicy) -> dict:
    """Keras 3's serialized form of `policy`."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, arg: str = "config") -> DTypePolicy:
    """A policy from `serialize`'s output (also Keras 2's `{'class_name': 'Policy', ...}`)."""
    inner = config.get("config") if "config" in config else config
    name = inner.get("name") if isinstance(inner, dict) else None
    if not isinstance(name, str):
        raise ValueError(
            "A serialized dtype policy must be a dict like {'class_name': 'DTypePolicy', "
            f"'config': {{'name': 'mixed_float16'}}}}. Received: {arg}={config!r}"
        )
    return get(name, arg)


def config_value(policy: DTypePolicy) -> str:
    """The `dtype` entry of a layer config: the policy's name (Keras 3 reads a name too)."""
    return policy.name
