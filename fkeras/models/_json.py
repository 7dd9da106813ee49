"""Model architecture as JSON: `to_json`, `model_from_json`, `model_from_config`.

The JSON is Keras 3's: `{"module", "class_name", "config", "registered_name"}` around the model's
config, so Keras 3 reads what fkeras writes and the other way round. Keras 2's JSON
(`{"class_name": "Model" | "Sequential", "config": ..., "keras_version": ...}`) loads too. JSON
has no tuples; shapes come back as lists and are turned back into tuples where they are used.
Only the architecture is written, never weights or code.
"""

import json
from typing import Any

import numpy as np

from fkeras.layers import _serialization


def _json_default(obj: Any):
    """Plain JSON values for the numpy scalars and arrays a config may hold."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.dtype):
        return obj.name
    raise TypeError(
        f"Cannot write an object of type {type(obj).__name__} into a model's JSON config. "
        f"Received: {obj!r}"
    )


def to_json(model, **kwargs) -> str:
    """Returns the model's architecture as a JSON string (Keras 3's layout).

    Args:
        model: an fkeras `Model` or `Sequential` (or any layer).
        **kwargs: passed on to `json.dumps` (e.g. `indent=2`).

    Example:
        >>> json_string = to_json(model)
        >>> same_architecture = model_from_json(json_string)
    """
    kwargs.setdefault("default", _json_default)
    return json.dumps(_serialization.serialize(model), **kwargs)


def model_from_config(config: dict, custom_objects: dict | None = None):
    """Instantiates a model (or layer) from a serialized config `{'class_name', 'config', ...}`.

    Args:
        config: Keras 3's `serialize_keras_object` output, or Keras 2's `{'class_name', 'config'}`.
        custom_objects: optional dict mapping names to user layer classes and functions.

    Raises:
        TypeError: if `config` is a list (a bare Sequential config).
        ValueError: for an unknown class name (the message explains `custom_objects`).
    """
    if isinstance(config, list):
        raise TypeError(
            "`model_from_config` expects a dict with 'class_name' and 'config'. Received a list; "
            "for a bare list of layer configs use `Sequential.from_config(config)`."
        )
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "`model_from_config` expects a dict with 'class_name' and 'config'. "
            f"Received: config={config!r}"
        )
    return _serialization.deserialize(config, custom_objects=custom_objects)


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """Rebuilds a model from its JSON architecture (fkeras's, Keras 3's or Keras 2's).

    The new model has fresh weights; copy trained ones with `set_weights` or `load_weights`.

    Args:
        json_string: the JSON text written by `model.to_json()`.
        custom_objects: optional dict mapping names to user layer classes and functions.

    Raises:
        ValueError: if the text is not JSON, or names an unknown class.
    """
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError(
            f"`model_from_json` expects a JSON string. Received: json_string={json_string!r:.200}"
        ) from err
    return model_from_config(config, custom_objects=custom_objects)
