"""Layer configs in Keras 3's layout: `{'module', 'class_name', 'config', 'registered_name'}`.

`serialize(layer)` writes what Keras 3's `serialize_keras_object` writes for the same layer, so a
config from fkeras reads like one from Keras. `deserialize` reads that layout, and Keras 2's (no
`module` key), resolving the class from `custom_objects` first, then fkeras's built-in layers and
models.

Keras 3 layer configs carry a few keys fkeras layers do not take (`quantization_config`,
`optional`, `ragged`, ...). They are dropped here when they hold their inert default, so a config
written by Keras 3 loads; a non-default value is passed on and the layer rejects it by name.
"""

import inspect
from typing import Any

from fkeras import _custom_objects
from fkeras.layers._base import Layer

# Keras-only config keys and the values that mean "feature not used" (safe to drop).
_INERT_KERAS_KEYS: dict[str, tuple] = {
    "quantization_config": (None,),
    "optional": (False,),
    "ragged": (False,),
    "activity_regularizer": (None,),
    "autocast": (True, False),
    "lora_rank": (None,),
    "lora_alpha": (None,),
}

# Config keys whose values may name a user object given in `custom_objects`.
_OBJECT_KEY_SUFFIXES = ("activation", "_initializer", "_regularizer", "_constraint")

MSG_UNKNOWN_CLASS = (
    "Unknown layer class {name!r}: it is neither a built-in fkeras layer nor a model class. "
    "If it is your own class, pass it in `custom_objects`, e.g. "
    "`model_from_json(json_string, custom_objects={{{name!r}: {name}}})` or "
    "`Model.from_config(config, custom_objects={{{name!r}: {name}}})`. "
    "Received: class_name={name!r}"
)

_FUNCTIONAL_ID = ("keras.src.models.functional", "Functional", "Functional")
_SEQUENTIAL_ID = ("keras", "Sequential", None)


def _model_classes() -> dict[str, type]:
    # Imported lazily: fkeras.models imports the layers package.
    from fkeras.models._functional import Model
    from fkeras.models._sequential import Sequential

    return {"Model": Model, "Functional": Model, "Sequential": Sequential}


def get_builtin_layer(class_name: str) -> type | None:
    """The built-in fkeras class named `class_name` (a layer or a model), or `None`.

    Looks in the `fkeras.layers` namespace, then at `Model`/`Functional`/`Sequential`.
    """
    import fkeras.layers

    found = getattr(fkeras.layers, class_name, None)
    if inspect.isclass(found) and issubclass(found, Layer):
        return found
    return _model_classes().get(class_name)


def _is_builtin(cls: type) -> bool:
    return get_builtin_layer(cls.__name__) is cls


def _identity(layer: Layer) -> tuple[str | None, str, str | None]:
    """(module, class_name, registered_name) as Keras 3 writes them."""
    models = _model_classes()
    cls = type(layer)
    if cls is models["Sequential"]:
        return _SEQUENTIAL_ID
    if cls is models["Model"]:
        return _FUNCTIONAL_ID
    if _is_builtin(cls):
        return "keras.layers", cls.__name__, None
    module = None if cls.__module__ == "__main__" else cls.__module__
    return module, cls.__name__, _custom_objects.get_registered_name(cls)


def _build_config(layer: Layer) -> dict | None:
    from fkeras.layers._cell import cell
    from fkeras.layers._spec import TensorSpec

    if isinstance(layer, tuple(_model_classes().values())):
        return None
    spec = cell(layer).built_spec
    if isinstance(spec, TensorSpec):
        return {"input_shape": tuple(spec.shape)}
    if isinstance(spec, (list, tuple)) and all(isinstance(s, TensorSpec) for s in spec):
        return {"input_shape": [tuple(s.shape) for s in spec]}
    return None


def serialize(layer: Layer) -> dict[str, Any]:
    """Returns Keras 3's serialized form of `layer` (a layer or a model).

    Returns:
        `{'module', 'class_name', 'config', 'registered_name'}`, plus `'build_config'`
        (`{'input_shape': ...}`) for a built layer, as Keras writes it.

    Raises:
        TypeError: if `layer` is not an fkeras `Layer`.
    """
    if not isinstance(layer, Layer):
        raise TypeError(
            f"`serialize` expects an fkeras Layer or Model. Received: layer={layer!r} "
            f"of type {type(layer).__name__}"
        )
    module, class_name, registered_name = _identity(layer)
    out = {
        "module": module,
        "class_name": class_name,
        "config": layer.get_config(),
        "registered_name": registered_name,
    }
    build_config = _build_config(layer)
    if build_config is not None:
        out["build_config"] = build_config
    return out


def resolve_class(config: dict, custom_objects: dict | None = None) -> type:
    """The class a serialized layer names: `custom_objects` first, then the built-ins.

    Raises:
        ValueError: for an unknown class, with a hint about `custom_objects`.
        TypeError: if `class_name` is missing or not a string.
    """
    custom_objects = _custom_objects.merged(custom_objects)
    class_name = config.get("class_name")
    if not isinstance(class_name, str):
        raise TypeError(
            f"A layer config must have a string 'class_name'. Received: config={config!r}"
        )
    for key in (class_name, config.get("registered_name")):
        if key is not None and key in custom_objects:
            return custom_objects[key]
    cls = get_builtin_layer(class_name)
    if cls is None:
        raise ValueError(MSG_UNKNOWN_CLASS.format(name=class_name))
    return cls


def _named_init_params(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            names.update(inspect.signature(init).parameters)
        except (TypeError, ValueError):
            continue
    return names


def _resolve_custom_value(value: Any, custom_objects: dict) -> Any:
    """Swap a name (or a config naming a class) found in `custom_objects` for the object."""
    if isinstance(value, str):
        return custom_objects.get(value, value)
    if not isinstance(value, dict):
        return value
    class_name = value.get("class_name")
    inner = value.get("config")
    if class_name == "function" and isinstance(inner, str):
        return custom_objects.get(inner, value)
    for key in (class_name, value.get("registered_name")):
        if isinstance(key, str) and key in custom_objects:
            obj = custom_objects[key]
            if inspect.isclass(obj):
                inner = inner or {}
                return obj.from_config(inner) if hasattr(obj, "from_config") else obj(**inner)
            return obj
    return value


def clean_layer_config(cls: type, config: dict, custom_objects: dict | None = None) -> dict:
    """A layer's inner config made ready for `cls.from_config`.

    Drops Keras-only keys holding their inert default (unless `cls` takes them) and replaces
    names of user activations/initializers/regularizers/constraints by the objects given in
    `custom_objects` (fkeras's `get` functions take no `custom_objects`).
    """
    config = dict(config)
    accepted = _named_init_params(cls)
    for key, inert in _INERT_KERAS_KEYS.items():
        if (
            key in config
            and key not in accepted
            and any(config[key] is v or config[key] == v for v in inert)
        ):
            del config[key]
    if custom_objects:
        for key, value in config.items():
            if key != "name" and key.endswith(_OBJECT_KEY_SUFFIXES):
                config[key] = _resolve_custom_value(value, custom_objects)
    return config


def _is_model_class(cls: type) -> bool:
    return issubclass(cls, tuple(_model_classes().values()))


def instantiate(config: dict, custom_objects: dict | None = None) -> Layer:
    """Build the layer a serialized config describes, without building its variables."""
    if not isinstance(config, dict):
        raise TypeError(
            "A serialized layer must be a dict with 'class_name' and 'config'. "
            f"Received: config={config!r}"
        )
    cls = resolve_class(config, custom_objects)
    inner = config.get("config")
    if inner is None:
        inner = {}
    if _is_model_class(cls):
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            return cls.from_config(inner, custom_objects=custom_objects)
        return cls.from_config(inner)
    if not isinstance(inner, dict):  # Keras 2 Sequential configs are lists: models only
        raise TypeError(
            f"The config of layer class {cls.__name__!r} must be a dict. Received: config={inner!r}"
        )
    try:
        layer = cls.from_config(clean_layer_config(cls, inner, custom_objects))
    except (TypeError, ValueError) as err:  # TypeError: a config missing or adding arguments
        raise (TypeError if isinstance(err, TypeError) else ValueError)(
            f"Could not rebuild layer {inner.get('name', config['class_name'])!r} "
            f"({config['class_name']}) from its config: {err}\nIf the config names your own "
            "functions or classes (activations, initializers, ...), pass them in `custom_objects`."
        ) from err
    if not isinstance(layer, Layer):
        raise TypeError(
            f"Deserializing {config['class_name']!r} did not give an fkeras Layer. "
            f"Received: {layer!r} of type {type(layer).__name__}"
        )
    return layer


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    """Returns the layer (or model) described by a Keras 3 or Keras 2 serialized config.

    Args:
        config: `{'class_name': ..., 'config': {...}}`, with Keras 3's optional `module`,
            `registered_name` and `build_config` keys.
        custom_objects: optional dict mapping class names to user layer classes (and names to
            user activations, initializers, regularizers and constraints).

    Returns:
        A new layer. If the config holds a `build_config` with an `input_shape`, the layer is
        built for that shape (as Keras does), so its weights exist and can be set.

    Raises:
        ValueError: for an unknown class name (the message explains `custom_objects`).
    """
    layer = instantiate(config, custom_objects)
    build_config = config.get("build_config") or {}
    shape = build_config.get("input_shape")
    if shape is not None and not layer.built and not _is_model_class(type(layer)):
        layer.build(_as_shape(shape))
    return layer


def _as_shape(shape):
    """JSON turns shape tuples into lists; turn them back (a list of shapes stays a list)."""
    if (
        isinstance(shape, (list, tuple))
        and shape
        and all(isinstance(s, (list, tuple)) for s in shape)
    ):
        return [tuple(s) for s in shape]
    return tuple(shape)
