"""Keras 2's HDF5 formats: whole-model `.h5` files and `.h5` weights files.

Whole model (`model.save("m.h5")`), as Keras 2 and Keras 3's legacy writer lay it out:

- root attributes `model_config` (JSON `{"class_name", "config"}`), `training_config` (JSON:
  loss, metrics, loss_weights, ... and `optimizer_config`), `keras_version`, `backend`;
- group `model_weights`: attribute `layer_names` (every layer of `model.layers`), one group per
  layer with attribute `weight_names` and one dataset per weight under that name;
- group `optimizer_weights`: attribute `weight_names`, one dataset per optimizer variable.

Weights file (`model.save_weights("w.h5")`): the `model_weights` layout at the file's root.

A layer's weights are listed as Keras 2 listed them: trainable weights, then non-trainable ones.
Loading matches layers by position among the layers that have weights (Keras 2's topological
loading), or by name with `by_name=True`; `skip_mismatch=True` skips layers whose weights do
not fit, with a warning.

fkeras writes the optimizer's variables in Keras 3's order and marks its files with an
`fkeras_version` attribute. Optimizer state stored by Keras 2 (another order, other variables)
is not restored: the optimizer starts fresh, with a warning, as Keras 3 does for those files.
"""

import json
import os
import warnings

import numpy as np

from fkeras.saving import _atomic, _compile_state, _weights_h5
from fkeras.saving._keras_zip import KERAS_VERSION, _json_default, model_from_config

_BACKEND = "jax"
_HEADER_LIMIT = 64512  # bytes an HDF5 object header holds; bigger attributes are split


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf8")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _decode(value.item())
    return value


def _string_list(group, name: str) -> list[str]:
    """A list-of-strings attribute, reassembling Keras's chunks (`name0`, `name1`, ...) of
    attributes too large for one HDF5 object header."""
    if name in group.attrs:
        return [_decode(x) for x in group.attrs[name]]
    out, chunk = [], 0
    while f"{name}{chunk}" in group.attrs:
        out.extend(_decode(x) for x in group.attrs[f"{name}{chunk}"])
        chunk += 1
    return out


def _write_string_list(group, name: str, values: list[str]) -> None:
    """Writes a list of strings as Keras does: one bytes array, split into `name0`, `name1`, ...
    when it exceeds HDF5's object header limit."""
    data = np.asarray([v.encode("utf8") for v in values])
    chunks = np.array_split(data, 1)
    while any(c.nbytes > _HEADER_LIMIT for c in chunks):
        chunks = np.array_split(data, len(chunks) + 1)
    if len(chunks) == 1:
        group.attrs[name] = data
        return
    for i, part in enumerate(chunks):
        group.attrs[f"{name}{i}"] = part


def legacy_weights(layer) -> list:
    """A layer's weights in Keras 2's saved order: trainable ones, then non-trainable ones."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


# ---- writing --------------------------------------------------------------------------------


def write_weights_group(group, model) -> None:
    """Writes `model`'s weights in Keras 2's `model_weights` layout into an h5py group."""
    import fkeras

    _write_string_list(group, "layer_names", [layer.name for layer in model.layers])
    group.attrs["backend"] = _BACKEND
    group.attrs["keras_version"] = KERAS_VERSION
    group.attrs["fkeras_version"] = fkeras.__version__
    for layer in sorted(model.layers, key=lambda x: x.name):
        layer_group = group.create_group(layer.name)
        weights = legacy_weights(layer)
        names, used = [], set()
        for weight in weights:
            name = f"{weight.path}:0"
            k = 1
            while name in used:  # the same layer reached twice inside a nested model
                name, k = f"{weight.path}_{k}:0", k + 1
            used.add(name)
            names.append(name)
        _write_string_list(layer_group, "weight_names", names)
        for name, weight in zip(names, weights):
            _weights_h5.write_array(layer_group, name, weight.numpy())


def _training_config(model) -> dict | None:
    config = _compile_state.compile_config(model)
    if config is None:
        return None
    optimizer = config.pop("optimizer")
    config["optimizer_config"] = {
        "class_name": optimizer["class_name"],
        "config": optimizer["config"],
    }
    return config


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Saves `model` as a Keras 2-style HDF5 file (architecture, weights, compile state)."""
    import fkeras

    h5py = _weights_h5.require_h5py()
    if not _atomic.may_write(filepath, overwrite):
        return
    model_config = {"class_name": _model_class_name(model), "config": model.get_config()}
    training_config = _training_config(model) if include_optimizer else None
    with _atomic.atomic_path(filepath) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["fkeras_version"] = fkeras.__version__
        f.attrs["backend"] = _BACKEND
        f.attrs["model_config"] = json.dumps(model_config, default=_json_default).encode("utf8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config, default=_json_default).encode(
                "utf8"
            )
        write_weights_group(f.create_group("model_weights"), model)
        if training_config is not None:
            _write_optimizer(f, model)


def _model_class_name(model) -> str:
    from fkeras.layers import _serialization

    return _serialization._identity(model)[1]


def _write_optimizer(f, model) -> None:
    named = _compile_state.optimizer_weights(model)
    group = f.create_group("optimizer_weights")
    _write_string_list(group, "weight_names", [name for name, _ in named])
    for name, value in named:
        _weights_h5.write_array(group, name, value)
    rng = _compile_state.train_rng(model)
    if rng is not None:
        data, impl = rng
        group.create_dataset("fkeras_train_rng", data=data)
        group["fkeras_train_rng"].attrs["impl"] = impl


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Writes `model`'s weights to a Keras 2-style `.h5` weights file (`layer_names` at the root)."""
    h5py = _weights_h5.require_h5py()
    _weights_h5._require_built(model, "saving weights from")
    if not _atomic.may_write(filepath, overwrite):
        return
    with _atomic.atomic_path(filepath) as tmp, h5py.File(tmp, "w") as f:
        write_weights_group(f, model)


# ---- reading weights --------------------------------------------------------------------------


def _read_layer(group, name: str) -> list[np.ndarray]:
    layer_group = _weights_h5.safe_group(group, name)
    return [
        _weights_h5.safe_read(layer_group, w) for w in _string_list(layer_group, "weight_names")
    ]


def _check(
    layer, label: str, weights: list, values: list, skip_mismatch: bool, problems: list
) -> list:
    """(weight, value) pairs to assign, or [] after recording why the layer does not fit."""
    if len(values) != len(weights):
        problems.append(
            f"{label}: the layer expects {len(weights)} weight(s), the file has {len(values)}"
        )
        return []
    pairs = []
    for weight, value in zip(weights, values):
        if tuple(value.shape) != weight.shape:
            problems.append(
                f"{label}: weight '{weight.path}' expects shape {weight.shape}, the file's has "
                f"shape {tuple(value.shape)}"
            )
            if not skip_mismatch:
                return []
            continue
        pairs.append((weight, value))
    return pairs


def load_weights_group(group, model, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Loads Keras 2's `model_weights` layout from an h5py group into `model`.

    Nothing is assigned unless every layer fits, except with `skip_mismatch=True`, which loads
    what fits and warns about the rest.
    """
    names = _string_list(group, "layer_names")
    saved = [(n, _read_layer(group, n)) for n in names]
    problems, pairs = [], []
    if by_name:
        index = {layer.name: layer for layer in model.layers}
        for k, (name, values) in enumerate(saved):
            layer = index.get(name)
            if layer is not None and (values or legacy_weights(layer)):
                label = f"layer #{k} (named '{name}')"
                pairs += _check(
                    layer, label, legacy_weights(layer), values, skip_mismatch, problems
                )
    else:
        layers = [layer for layer in model.layers if legacy_weights(layer)]
        saved = [(n, v) for n, v in saved if v]
        if len(saved) != len(layers):
            raise ValueError(
                f"Layer count mismatch when loading weights from file. Model '{model.name}' "
                f"expects {len(layers)} layers with weights ({[la.name for la in layers]}), the "
                f"file has {len(saved)} ({[n for n, _ in saved]})."
            )
        for k, (layer, (name, values)) in enumerate(zip(layers, saved)):
            label = f"layer #{k} (named '{layer.name}' in the model, '{name}' in the file)"
            pairs += _check(layer, label, legacy_weights(layer), values, skip_mismatch, problems)
    if problems:
        message = "Weights in the file do not fit the model:\n  " + "\n  ".join(problems)
        if not skip_mismatch:
            raise ValueError(message + "\nPass `skip_mismatch=True` to skip them.")
        warnings.warn("Skipping loading weights that do not fit. " + message, stacklevel=3)
    for weight, value in pairs:
        weight.assign(value)


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Loads an `.h5`/`.hdf5` weights file into `model`: Keras 2's weights file, a whole-model
    file's `model_weights`, or Keras 3's layout saved under a plain `.h5` name."""
    _weights_h5._require_built(model, "loading weights into")
    with _weights_h5.open_h5(filepath, f"{os.fspath(filepath)!r}") as f:
        if "layer_names" in f.attrs or "layer_names0" in f.attrs:
            load_weights_group(f, model, skip_mismatch, by_name)
        elif "model_weights" in f:
            load_weights_group(
                _weights_h5.safe_group(f, "model_weights"), model, skip_mismatch, by_name
            )
        elif _weights_h5.looks_like_keras3(f):
            _weights_h5.load_model_state(f, model, skip_mismatch=skip_mismatch, by_name=by_name)
        else:
            raise ValueError(
                f"{os.fspath(filepath)!r} is an HDF5 file but holds no Keras weights (no "
                "`layer_names` attribute, `model_weights` group or Keras 3 `vars` groups)."
            )


# ---- reading a whole model --------------------------------------------------------------------


def _json_attr(f, name: str, filepath):
    value = f.attrs.get(name)
    if value is None:
        return None
    try:
        return json.loads(_decode(value))
    except (json.JSONDecodeError, TypeError) as err:
        raise ValueError(
            f"{os.fspath(filepath)!r} is corrupt: its {name!r} is not JSON ({err})."
        ) from None


def _mark_keras3_entries(config):
    """Keras 3's legacy writer drops the `module` keys that tell its configs from Keras 2's;
    put them back so the config reader does not apply Keras 2's node-index conventions."""
    if isinstance(config, dict):
        for entry in config.get("layers", []) if isinstance(config.get("layers"), list) else []:
            if isinstance(entry, dict) and "class_name" in entry:
                entry.setdefault("module", "keras.layers")
        for value in config.values():
            _mark_keras3_entries(value)
    elif isinstance(config, list):
        for value in config:
            _mark_keras3_entries(value)
    return config


def _major_version(f) -> int:
    version = _decode(f.attrs.get("keras_version", "1"))
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 1


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Loads a whole-model HDF5 file written by Keras 2, Keras 3 (legacy `.h5`) or fkeras."""
    with _weights_h5.open_h5(filepath, f"{os.fspath(filepath)!r}") as f:
        config = _json_attr(f, "model_config", filepath)
        if not isinstance(config, dict):
            raise ValueError(  # noqa: TRY004  (a file without a model is a bad value)
                f"No model found in {os.fspath(filepath)!r}: it has no `model_config` attribute "
                "(a weights-only file? Build the model and use `model.load_weights`)."
            )
        if _major_version(f) >= 3:
            config = _mark_keras3_entries(config)
        model = model_from_config(config, custom_objects, safe_mode)
        if "model_weights" not in f:
            raise ValueError(
                f"{os.fspath(filepath)!r} has a model config but no `model_weights` group."
            )
        load_weights_group(_weights_h5.safe_group(f, "model_weights"), model)
        training_config = _json_attr(f, "training_config", filepath) if compile else None
        if training_config:
            _compile_state.compile_from_config(model, training_config, custom_objects)
            _load_optimizer(f, model, filepath)
    return model


def _load_optimizer(f, model, filepath) -> None:
    if "optimizer_weights" not in f or not _compile_state.has_saveable_optimizer(model):
        return
    group = _weights_h5.safe_group(f, "optimizer_weights")
    if "fkeras_version" not in f.attrs and _major_version(f) < 3:
        warnings.warn(
            f"{os.fspath(filepath)!r} was written by Keras {_decode(f.attrs.get('keras_version'))}, "
            "whose optimizer variables fkeras cannot map; the optimizer starts with a fresh state.",
            stacklevel=3,
        )
        return
    values = [_weights_h5.safe_read(group, n) for n in _string_list(group, "weight_names")]
    rng = None
    if "fkeras_train_rng" in group:
        impl = _decode(group["fkeras_train_rng"].attrs.get("impl"))
        rng = (_weights_h5.safe_read(group, "fkeras_train_rng"), impl)
    _compile_state.restore_optimizer_state(model, values, rng=rng, strict=False)
