"""The Keras 3 `.keras` format: a zip archive of three members, written exactly as Keras 3 does.

- `metadata.json`: `{"keras_version", "date_saved"}` (fkeras adds `"fkeras"`: its version
  and the compile settings Keras has no slot for, e.g. `steps_per_execution="auto"`);
- `config.json`: the serialized model, `{"module", "class_name", "config", "registered_name",
  "build_config", "compile_config"}`;
- `model.weights.h5`: the variables in Keras 3's object-path layout (`_weights_h5`).

Members are stored uncompressed, as Keras stores them. Loading reads JSON and HDF5 only: no
pickle, and no code unless `safe_mode=False` lets a `Lambda` layer's bytecode load.
"""

import datetime
import io
import json
import os
import zipfile

from fkeras.saving import _atomic, _compile_state, _weights_h5

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
# The Keras release whose layout this writer follows; Keras reads the field as information only.
KERAS_VERSION = "3.15.1"

# A member declaring far more bytes than it stores is a zip bomb (Keras's CWE-409 guard).
_BOMB_FLOOR_BYTES = 1 << 32
_BOMB_MAX_EXPANSION = 100


def _json_default(obj):
    from fkeras.models._json import _json_default as default

    return default(obj)


def model_config(model, include_compile: bool = True) -> dict:
    """The model's `config.json` content, as Keras 3's `serialize_keras_object` writes it."""
    from fkeras.layers import _serialization
    from fkeras.models._sequential import Sequential

    config = _serialization.serialize(model)
    if isinstance(model, Sequential):
        if model.built:
            config["build_config"] = {"input_shape": tuple(model.input_shape)}
    else:
        config["build_config"] = {"input_shape": None}
    compile_config = _compile_state.compile_config(model) if include_compile else None
    config["compile_config"] = compile_config or {}
    return config


def _metadata(model) -> dict:
    import fkeras

    extra = {"version": fkeras.__version__}
    steps = getattr(model, "_steps_per_execution", None)
    if getattr(model, "compiled", False) and steps is not None:
        extra["steps_per_execution"] = steps
    return {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "fkeras": extra,
    }


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Saves `model` to a `.keras` archive, atomically (see `_atomic`).

    Args:
        include_optimizer: write the optimizer's state (Keras 3 always does); the compile
            config is written either way, so the loaded model is compiled.
    """
    h5py = _weights_h5.require_h5py()
    if not _atomic.may_write(filepath, overwrite):
        return
    config = json.dumps(model_config(model), default=_json_default)
    metadata = json.dumps(_metadata(model), default=_json_default)
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5file:
        _weights_h5.write_model_state(h5file, model, include_optimizer=include_optimizer)
    with (
        _atomic.atomic_path(filepath) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive,
    ):
        archive.writestr(METADATA, metadata)
        archive.writestr(CONFIG, config)
        archive.writestr(WEIGHTS, weights.getvalue())


# ---- loading --------------------------------------------------------------------------------


def _open(filepath) -> zipfile.ZipFile:
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: {os.fspath(filepath)!r}")
    try:
        return zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, OSError) as err:
        raise ValueError(
            f"{os.fspath(filepath)!r} is not a valid .keras file: a .keras file is a zip archive "
            f"written by `model.save('...keras')` ({err})."
        ) from None


def _read_member(archive: zipfile.ZipFile, name: str, filepath) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(
            f"{os.fspath(filepath)!r} is not a valid .keras file: it has no {name!r} "
            f"(members: {archive.namelist()})."
        ) from None
    if (
        info.file_size > _BOMB_FLOOR_BYTES
        and info.file_size > _BOMB_MAX_EXPANSION * info.compress_size
    ):
        raise ValueError(
            f"Refusing to read {name!r} of {os.fspath(filepath)!r}: a potential zip bomb."
        )
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ValueError(
            f"{os.fspath(filepath)!r} is corrupt: cannot read {name!r} ({err})."
        ) from None


def _read_json(archive, name: str, filepath) -> dict:
    try:
        value = json.loads(_read_member(archive, name, filepath))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{os.fspath(filepath)!r} is corrupt: {name!r} is not valid JSON ({err})."
        ) from None
    if not isinstance(value, dict):
        raise ValueError(  # noqa: TRY004  (a corrupt file is a bad value, not a bad type)
            f"{os.fspath(filepath)!r} is corrupt: {name!r} is not a JSON object."
        )
    return value


def model_from_config(config: dict, custom_objects=None, safe_mode: bool = True):
    """Builds the (uncompiled) model a `config.json` describes, refusing code in safe mode."""
    from fkeras.layers import _serialization
    from fkeras.layers._core_extra import safe_mode_scope

    if "class_name" not in config:
        raise ValueError(f"The model config has no 'class_name'. Received keys: {sorted(config)}")
    config = {k: v for k, v in config.items() if k != "compile_config"}
    with safe_mode_scope(safe_mode):
        model = _serialization.deserialize(config, custom_objects=custom_objects)
    if not _weights_h5.is_model(model):
        raise ValueError(
            f"The file holds a {config['class_name']!r}, not a model; `load_model` loads models."
        )
    shape = (config.get("build_config") or {}).get("input_shape")
    if shape is not None and not model.built and hasattr(model, "build"):
        model.build(tuple(shape))
    return model


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Loads a `.keras` archive written by Keras 3 or fkeras."""
    with _open(filepath) as archive:
        config = _read_json(archive, CONFIG, filepath)
        names = archive.namelist()
        metadata = _read_json(archive, METADATA, filepath) if METADATA in names else {}
        if WEIGHTS not in names and "model.weights.npz" in names:
            raise ValueError(
                f"{os.fspath(filepath)!r} stores its weights as model.weights.npz, which Keras "
                "writes with pickled objects; fkeras never unpickles. Re-save it with the "
                "default weights format (HDF5)."
            )
        weights = _read_member(archive, WEIGHTS, filepath)
    model = model_from_config(config, custom_objects, safe_mode)
    compile_config = config.get("compile_config") or {}
    if compile and compile_config:
        extra = metadata.get("fkeras") if isinstance(metadata.get("fkeras"), dict) else {}
        _compile_state.compile_from_config(
            model,
            compile_config,
            custom_objects,
            steps_per_execution=extra.get("steps_per_execution"),
        )
    with _weights_h5.open_h5(weights, f"The weights of {os.fspath(filepath)!r}") as h5file:
        _weights_h5.load_model_state(h5file, model, load_optimizer=compile)
    return model


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Loads the weights (and optimizer state, if compiled) of a `.keras` archive into `model`."""
    with _open(filepath) as archive:
        weights = _read_member(archive, WEIGHTS, filepath)
    with _weights_h5.open_h5(weights, f"The weights of {os.fspath(filepath)!r}") as h5file:
        _weights_h5.load_model_state(h5file, model, skip_mismatch=skip_mismatch, by_name=by_name)
