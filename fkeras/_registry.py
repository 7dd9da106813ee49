"""Name lookup and Keras 3 config dicts for the small object families (constraints, regularizers).

Each family keeps its classes in a `Registry`, which serializes an object to Keras 3's layout
(`module`, `class_name`, `config`, `registered_name`), rebuilds one from a name or a Keras 2/3
config dict, and resolves the identifiers Keras accepts (`None`, a name, a config, a class or a
callable).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from fkeras import _custom_objects
from fkeras._naming import to_snake_case


class Registry:
    """The classes of one family, by their class name and snake-case name.

    Args:
        kind: the family's name in messages ("constraint", "regularizer").
        base: the family's base class (its instances serialize by class name).
        module: the Keras module named in configs ("keras.constraints").
        classes: the family's classes.
        aliases: extra names (Keras 2 spellings) for classes or factories.
    """

    def __init__(
        self,
        kind: str,
        base: type,
        module: str,
        classes: Iterable[type],
        aliases: dict[str, Any] | None = None,
    ):
        self.kind, self.base, self.module = kind, base, module
        classes = tuple(classes)
        self.by_name: dict[str, Any] = {cls.__name__: cls for cls in classes}
        self.by_name.update({to_snake_case(cls.__name__): cls for cls in classes})
        self.by_name.update(aliases or {})

    def serialize(self, obj: Any) -> dict[str, Any]:
        """Keras 3's config dict for `obj`; a named function serializes by its name."""
        if isinstance(obj, self.base):
            return {
                "module": self.module,
                "class_name": type(obj).__name__,
                "config": obj.get_config(),
                "registered_name": None,
            }
        name = getattr(obj, "__name__", None)
        if not callable(obj) or not name or name == "<lambda>":
            raise ValueError(
                f"Cannot serialize this {self.kind}: it is neither a {self.base.__name__} nor a "
                f"named function. Received: {self.kind}={obj!r}"
            )
        return {
            "module": "builtins",
            "class_name": "function",
            "config": name,
            "registered_name": "function",
        }

    def deserialize(
        self, config: dict[str, Any] | str, custom_objects: dict[str, Any] | None = None
    ) -> Any:
        """An object from a name or a Keras 2/3 config dict (`class_name`, `config`)."""
        custom_objects = _custom_objects.merged(custom_objects)
        if isinstance(config, str):
            config = {"class_name": config, "config": {}}
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(
                f"A {self.kind} config must be a name or a dict with a 'class_name' key. "
                f"Received: config={config!r}"
            )
        name = config["class_name"]
        if name == "function" and isinstance(config.get("config"), str):
            fn = custom_objects.get(config["config"])
            if fn is None:
                raise ValueError(
                    f"Unknown {self.kind} function: pass it in `custom_objects`. "
                    f"Received: identifier={config['config']!r}"
                )
            return fn
        factory = custom_objects.get(name) or self.by_name.get(name)
        if factory is None:
            raise ValueError(
                f"Unknown {self.kind}. Expected one of {sorted(self.by_name)}. "
                f"Received: identifier={name!r}"
            )
        kwargs = config.get("config") or {}
        return factory.from_config(kwargs) if hasattr(factory, "from_config") else factory(**kwargs)

    def get(self, identifier: Any) -> Any:
        """`None` stays None; a name or config is deserialized; a class is instantiated with its
        defaults; any other callable is returned unchanged."""
        if identifier is None:
            return None
        if isinstance(identifier, (str, dict)):
            return self.deserialize(identifier)
        if inspect.isclass(identifier):
            return identifier()
        if callable(identifier):
            return identifier
        raise ValueError(
            f"Could not interpret {self.kind} identifier: expected a name, a config dict or a "
            f"callable. Received: identifier={identifier!r}"
        )
