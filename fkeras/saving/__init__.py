"""Saving and loading models, weights and variables pytrees.

The format follows the file extension, as in Keras:

| extension               | `save_model` / `load_model`           | `save_weights` / `load_weights`       |
|-------------------------|---------------------------------------|---------------------------------------|
| `.keras`                | Keras 3 zip (config, weights, state)  | - / the archive's weights             |
| `.weights.h5`           | -                                     | Keras 3 object-path HDF5              |
| `.h5`, `.hdf5`          | Keras 2 whole-model HDF5              | Keras 2 layout (`layer_names`)        |

Files are data: JSON and arrays, never pickles, and a `Lambda` layer's code loads only with
`safe_mode=False`. Every write is atomic (`_atomic`): a failed save leaves the old file intact.
For the pure path, `save_variables`/`load_variables` store any pytree of arrays as `.npz`.

HDF5 needs `h5py` (pip install h5py); it is imported only by the functions that read or write it.

Custom classes and functions are found by name in `custom_objects=`, inside
`custom_object_scope(...)`, or in the global registry (`get_custom_objects()`, filled in place or
by the `register_keras_serializable` decorator), in that order.
"""

import contextlib
import os
import zipfile
import zlib

from fkeras._custom_objects import CustomObjectScope as CustomObjectScope
from fkeras._custom_objects import custom_object_scope as custom_object_scope
from fkeras._custom_objects import get_custom_objects as get_custom_objects
from fkeras._custom_objects import get_registered_name as get_registered_name
from fkeras._custom_objects import get_registered_object as get_registered_object
from fkeras._custom_objects import register_keras_serializable as register_keras_serializable
from fkeras.saving import _h5_legacy, _keras_zip, _weights_h5
from fkeras.saving._compile_state import restore_optimizer_state as restore_optimizer_state
from fkeras.saving._pytree import load_variables as load_variables
from fkeras.saving._pytree import save_variables as save_variables

_MODEL_EXTENSIONS = "`.keras` (recommended) or `.h5`/`.hdf5`"
_WEIGHTS_EXTENSIONS = "`.weights.h5`, `.h5`/`.hdf5` (Keras 2 layout), or `.keras` (loading only)"


def _path(filepath) -> str:
    try:
        return os.fsdecode(os.fspath(filepath))  # bytes paths too
    except TypeError:
        raise TypeError(
            f"`filepath` must be a string or a path-like object. Received: filepath={filepath!r}"
        ) from None


@contextlib.contextmanager
def _reading(path: str):
    """Turn the low-level errors of a damaged file (h5py's KeyError/RuntimeError/OSError, zip
    and zlib errors) into one ValueError naming the file; a missing file stays FileNotFoundError."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (KeyError, RuntimeError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(
            f"Could not read {path!r}: the file is corrupt or truncated, or was not written by "
            f"Keras/fkeras. ({type(err).__name__}: {err})"
        ) from err


def _is_h5(path: str) -> bool:
    return path.endswith((".h5", ".hdf5"))


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Saves a model: architecture, weights, compile settings and optimizer state.

    Args:
        model: an fkeras `Model` or `Sequential`.
        filepath: path ending in `.keras` (Keras 3's zip format) or `.h5`/`.hdf5` (Keras 2's
            HDF5 format).
        overwrite: if False and the file exists, ask on the terminal before overwriting.
        include_optimizer: also save the optimizer's state (its config is saved either way
            in `.keras` files, so the loaded model is compiled).

    Raises:
        ValueError: for any other extension.
        ImportError: if h5py is not installed.
    """
    path = _path(filepath)
    if path.endswith(".keras"):
        _keras_zip.save_model(model, path, overwrite, include_optimizer)
    elif _is_h5(path):
        _h5_legacy.save_model(model, path, overwrite, include_optimizer)
    else:
        raise ValueError(
            f"Invalid filepath extension for saving. Use {_MODEL_EXTENSIONS}. "
            f"Received: filepath={path}"
        )


def load_model(
    filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True
):
    """Loads a model saved by fkeras, Keras 3 (`.keras`, legacy `.h5`) or Keras 2 (`.h5`).

    Args:
        filepath: path to a `.keras` or `.h5`/`.hdf5` file.
        custom_objects: dict mapping names to your own layers, losses, metrics, optimizers
            and functions that the file refers to.
        compile: compile the model with the saved settings and restore the optimizer state.
        safe_mode: refuse to load code (a `Lambda` layer's bytecode); pass False only for
            files you trust.

    Returns:
        The model, with its weights, compiled if the file holds compile settings.

    Raises:
        ValueError: for an unknown extension, a corrupt or foreign file, an unknown class name
            (the message explains `custom_objects`), or code refused in safe mode.
        FileNotFoundError: if the file does not exist.
    """
    path = _path(filepath)
    if path.endswith(".keras"):
        with _reading(path):
            return _keras_zip.load_model(path, custom_objects, compile, safe_mode)
    if _is_h5(path):
        with _reading(path):
            return _h5_legacy.load_model(path, custom_objects, compile, safe_mode)
    raise ValueError(
        f"File format not supported: filepath={path}. fkeras loads {_MODEL_EXTENSIONS} files."
    )


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Saves the model's weights: `.weights.h5` in Keras 3's layout (with the optimizer state),
    a plain `.h5`/`.hdf5` in Keras 2's layout.

    Raises:
        ValueError: for any other extension, or if the model is not built.
    """
    path = _path(filepath)
    if path.endswith(".weights.h5"):
        _weights_h5.save_weights(model, path, overwrite)
    elif _is_h5(path):
        _h5_legacy.save_weights(model, path, overwrite)
    else:
        raise ValueError(
            f"The filename must end in `.weights.h5` (or `.h5` for Keras 2's layout). "
            f"Received: filepath={path}"
        )


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Loads weights into a built model.

    Args:
        model: the model to load into.
        filepath: a `.weights.h5`, `.h5`/`.hdf5` (Keras 2 weights or whole-model file) or
            `.keras` file.
        skip_mismatch: skip (with a warning) the layers whose weights do not fit, instead of
            raising.
        by_name: match layers by name instead of position (Keras 2); layers without a match
            keep their weights.

    Raises:
        ValueError: for an unknown extension, an unbuilt model, or weights that do not fit.
    """
    path = _path(filepath)
    if path.endswith(".keras"):
        _weights_h5._require_built(model, "loading weights into")
        with _reading(path):
            _keras_zip.load_weights(model, path, skip_mismatch, by_name)
    elif path.endswith(".weights.h5"):
        with _reading(path):
            _weights_h5.load_weights(model, path, skip_mismatch, by_name)
    elif _is_h5(path):
        with _reading(path):
            _h5_legacy.load_weights(model, path, skip_mismatch, by_name)
    else:
        raise ValueError(
            f"File format not supported: filepath={path}. Weights load from {_WEIGHTS_EXTENSIONS}."
        )


__all__ = [
    "load_model",
    "load_variables",
    "load_weights",
    "restore_optimizer_state",
    "save_model",
    "save_variables",
    "save_weights",
]
