"""Custom objects known by name everywhere: Keras's global registry and `custom_object_scope`.

Every name lookup that takes a `custom_objects` mapping (layer classes in configs, activations,
losses, metrics, initializers, regularizers, constraints, optimizers) looks in `merged(...)`:
the mapping passed to the call, then the scopes open in this thread (innermost first), then the
global registry (`get_custom_objects()`, filled by users and by `register_keras_serializable`).
"""

from __future__ import annotations

import collections
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any

# name -> object; Keras 2 scripts update it in place: `get_custom_objects()["swish"] = swish`
GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
# object -> the name `register_keras_serializable` gave it ("package>name")
GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_local = threading.local()


def _scopes() -> list[dict]:
    stack = getattr(_local, "scopes", None)
    if stack is None:
        stack = _local.scopes = []
    return stack


def merged(custom_objects: Mapping | None = None) -> Mapping:
    """`custom_objects`, then this thread's open scopes (innermost first), then the registry."""
    return collections.ChainMap(custom_objects or {}, *reversed(_scopes()), GLOBAL_CUSTOM_OBJECTS)


def get_custom_objects() -> dict[str, Any]:
    """The global registry of custom objects (a dict to update in place)."""
    return GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """`with CustomObjectScope({"MyLayer": MyLayer}):` makes the names known inside the block.

    Args:
        *custom_objects: dicts from names to classes or functions (later ones win).
    """

    def __init__(self, *custom_objects: Mapping | None):
        objects: dict[str, Any] = {}
        for i, mapping in enumerate(custom_objects):
            if mapping is None:
                continue
            if not isinstance(mapping, Mapping):
                raise TypeError(
                    f"CustomObjectScope takes dicts from names to objects; argument {i} is a "
                    f"{type(mapping).__name__}. Received: {mapping!r}"
                )
            objects.update(mapping)
        self.custom_objects = objects

    def __enter__(self) -> CustomObjectScope:
        _scopes().append(self.custom_objects)
        return self

    def __exit__(self, *exc) -> None:
        stack = _scopes()
        if stack and stack[-1] is self.custom_objects:
            stack.pop()
        elif self.custom_objects in stack:  # exited out of order: still remove this scope only
            del stack[len(stack) - 1 - stack[::-1].index(self.custom_objects)]


def custom_object_scope(*custom_objects: Mapping | None) -> CustomObjectScope:
    """`with custom_object_scope({"MyLayer": MyLayer}): ...` (Keras's function spelling)."""
    return CustomObjectScope(*custom_objects)


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Class or function decorator: registers it globally as `"package>name"`.

    A registered custom layer, loss or activation is saved under that name and found again by
    `load_model`/`model_from_json` without `custom_objects`.

    Args:
        package: a namespace for the name.
        name: the name within the package; by default the class's or function's `__name__`.
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"`package` must be a string without '>'. Received: package={package!r}")

    def decorator(obj):
        if not (inspect.isclass(obj) or callable(obj)):
            raise TypeError(
                f"register_keras_serializable decorates classes and functions. Received: {obj!r}"
            )
        key = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise TypeError(
                f"Cannot register class {obj.__name__!r}: a serializable class needs a "
                "`get_config` method."
            )
        GLOBAL_CUSTOM_OBJECTS[key] = obj
        GLOBAL_CUSTOM_NAMES[obj] = key
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name `obj` was registered under, or its `__name__`."""
    try:
        return GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):
        return obj.__name__


def get_registered_object(
    name: str, custom_objects: Mapping | None = None, module_objects: Mapping | None = None
):
    """The object known as `name` to `custom_objects`, the open scopes or the registry, else in
    `module_objects`; None if none has it."""
    found = merged(custom_objects).get(name)
    if found is None and module_objects:
        found = module_objects.get(name)
    return found
