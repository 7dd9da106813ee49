"""Keras 3's weights layout in HDF5: `.weights.h5` files and the `model.weights.h5` of a `.keras`.

Keras 3 stores each object's variables under the object's *path* in the model, not under its
name: a group `<path>/vars` whose datasets `0`, `1`, ... are the variables in the object's
order, with the object's name in the group's `name` attribute. Paths are built the way Keras
walks a model:

- the model itself is the root (`vars`);
- its layers (a functional model's InputLayers included, a Sequential's not) are listed under
  `layers/`, each named after its *class* in snake case and numbered in order of appearance:
  `layers/dense`, `layers/dense_1`, `layers/dropout`; a nested model continues the same way
  (`layers/functional/layers/dense`), and a layer met twice is written the first time only;
- layers made of sublayers keep those as children: an RNN's weights are in
  `layers/lstm/cell/vars` (stacked cells in `cell/cells/lstm_cell`, ...), a Bidirectional's in
  `forward_layer/...` and `backward_layer/...`, a TimeDistributed's in `layer/...`, a
  MultiHeadAttention's in `query_dense`, `key_dense`, `value_dense`, `output_dense`;
- the optimizer's variables are in `optimizer/vars`, in Keras 3's order (see
  `_compile_state`).

fkeras adds one group Keras ignores: `fkeras/vars/0`, the dropout PRNG key of the last training
step, so training resumed from a file continues the same random stream.

Reading goes by the same paths, so a file written by Keras 3 loads into the same architecture
built by fkeras, and the other way round. With `by_name=True` the top-level layers are matched
by the `name` attributes instead (an fkeras extension; Keras 3 only matches by position).
"""

import io
import math
import os
import re
import warnings
from typing import Any, NamedTuple

import numpy as np

from fkeras.saving import _atomic, _compile_state

MSG_NO_H5PY = (
    "Reading and writing HDF5 files (.h5, .weights.h5, .keras) needs the `h5py` package: "
    "pip install h5py"
)

# A dataset declaring far more bytes than it stores is a shape/decompression bomb (Keras's
# guard for CVE-2026-0897): refuse it before reading.
_BOMB_FLOOR_BYTES = 1 << 32
_BOMB_MAX_EXPANSION = 1000


def require_h5py():
    """Imports h5py, or raises an ImportError telling how to install it."""
    try:
        import h5py
    except ImportError:
        raise ImportError(MSG_NO_H5PY) from None
    return h5py


# ---- safe access to untrusted files ---------------------------------------------------------


def safe_group(parent, name: str):
    """`parent[name]` as a Group, refusing soft and external links (they can point anywhere)."""
    h5py = require_h5py()
    current = parent
    for part in name.split("/"):
        if not part or part not in current:
            raise KeyError(name)
        link = current.get(part, getclass=True, getlink=True)
        if link in (h5py.SoftLink, h5py.ExternalLink):
            raise ValueError(f"Refusing to read an HDF5 file with a {link.__name__} at {name!r}.")
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise ValueError(f"Invalid HDF5 weights file: expected a group at {name!r}.")  # noqa: TRY004
    return current


def safe_read(group, name: str) -> np.ndarray:
    """Reads dataset `group[name]` into memory, refusing links, external/virtual data and bombs."""
    h5py = require_h5py()
    if "/" in name:
        head, name = name.rsplit("/", 1)
        group = safe_group(group, head)
    if name not in group:
        raise KeyError(name)
    link = group.get(name, getclass=True, getlink=True)
    if link in (h5py.SoftLink, h5py.ExternalLink):
        raise ValueError(f"Refusing to read an HDF5 file with a {link.__name__} at {name!r}.")
    ds = group[name]
    if not isinstance(ds, h5py.Dataset):
        raise ValueError(f"Invalid HDF5 weights file: expected a dataset at {name!r}.")  # noqa: TRY004
    if ds.external or ds.is_virtual:
        raise ValueError(f"Refusing to read the external or virtual HDF5 dataset {name!r}.")
    declared = math.prod(ds.shape or ()) * ds.dtype.itemsize
    if declared > _BOMB_FLOOR_BYTES and declared > _BOMB_MAX_EXPANSION * ds.id.get_storage_size():
        raise ValueError(
            f"Refusing to read HDF5 dataset {name!r}: it declares {declared} bytes but stores almost none."
        )
    if ds.dtype.hasobject:
        raise ValueError(f"HDF5 dataset {name!r} does not hold numbers (dtype {ds.dtype}).")
    value = np.asarray(ds[()])
    if ds.attrs.get("dtype") in ("bfloat16", b"bfloat16"):
        import ml_dtypes

        value = value.astype(ml_dtypes.bfloat16)
    return value


def write_array(group, key: str, value) -> None:
    """Writes one variable as Keras does (bfloat16, which HDF5 lacks, as float32 + a dtype attribute)."""
    value = np.asarray(value)
    if value.dtype.name == "bfloat16":
        ds = group.create_dataset(key, data=value.astype(np.float32))
        ds.attrs["dtype"] = "bfloat16"
    else:
        group.create_dataset(key, data=value)


# ---- Keras 3 object paths -------------------------------------------------------------------


def keras_snake(name: str) -> str:
    """Keras's `to_snake_case` (it keeps a leading underscore, unlike fkeras's naming helper)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _keras_class_name(layer) -> str:
    from fkeras.layers import _serialization

    return _serialization._identity(layer)[1]


def _is_a(obj, class_name: str) -> bool:
    """Whether `obj` is an instance of the fkeras class `class_name` (looked up by name, so a
    layer family that is not installed yet is simply never matched)."""
    return any(
        c.__name__ == class_name and c.__module__.startswith("fkeras.") for c in type(obj).__mro__
    )


def is_model(layer) -> bool:
    from fkeras.models._functional import Model

    return isinstance(layer, Model)


class Group(NamedTuple):
    """One Keras saveable: where its `vars` live, its name, and its weights (views) in order."""

    path: str
    name: str | None
    weights: list


def _join(path: str, child: str) -> str:
    return f"{path}/{child}" if path else child


class _Walker:
    """Lists the groups of a model in Keras 3's walk order, writing each object only once."""

    def __init__(self):
        self.seen: set[int] = set()

    def model(self, model, path: str) -> list[Group]:
        groups = [Group(path, model.name, [])]
        used: dict[str, int] = {}
        for layer in model.layers:
            base = keras_snake(_keras_class_name(layer))
            used[base] = used.get(base, -1) + 1
            child = base if used[base] == 0 else f"{base}_{used[base]}"
            groups.extend(self.layer(layer, _join(path, f"layers/{child}")))
        return groups

    def layer(self, layer, path: str) -> list[Group]:
        if id(layer) in self.seen:
            return []
        self.seen.add(id(layer))
        if is_model(layer):
            return self.model(layer, path)
        own = Group(path, layer.name, [])
        if _is_a(layer, "Bidirectional"):
            return [own, *self.layer(layer.forward_layer, f"{path}/forward_layer"),
                    *self.layer(layer.backward_layer, f"{path}/backward_layer")]  # fmt: skip
        if _is_a(layer, "Wrapper") and hasattr(layer, "layer"):
            return [own, *self.layer(layer.layer, f"{path}/layer")]
        views = layer._weight_views()
        if _is_a(layer, "RNN") and hasattr(layer, "cell"):
            return self._rnn(layer, path, views)
        if _is_a(layer, "MultiHeadAttention"):
            return [own, *_multi_head_groups(layer, path, views)]
        return [Group(path, layer.name, views)]

    @staticmethod
    def _rnn(layer, path: str, views: list) -> list[Group]:
        # The RNN's own variables (stateful states) stay on it; the cell holds the weights.
        own = [v for v in views if v._collection != "params"]
        params = [v for v in views if v._collection == "params"]
        cell = layer.cell
        groups = [Group(path, layer.name, own)]
        if not _is_a(cell, "StackedRNNCells"):
            return groups + [Group(f"{path}/cell", cell.name, params)]
        groups.append(Group(f"{path}/cell", cell.name, []))
        used: dict[str, int] = {}
        for i, sub in enumerate(cell.cells):
            base = keras_snake(type(sub).__name__)
            used[base] = used.get(base, -1) + 1
            child = base if used[base] == 0 else f"{base}_{used[base]}"
            mine = [v for v in params if v.name.startswith(f"cell_{i}/")]
            groups.append(Group(f"{path}/cell/cells/{child}", sub.name, mine))
        return groups


# MultiHeadAttention's variables are named `<projection>/kernel`, `<projection>/bias`; Keras
# keeps each projection in an EinsumDense sublayer stored under these attribute names.
_MHA_SUBLAYERS = {
    "query": "query_dense",
    "key": "key_dense",
    "value": "value_dense",
    "attention_output": "output_dense",
    "gate": "_gate_dense",
}


def _multi_head_groups(layer, path: str, views: list) -> list[Group]:
    by_part: dict[str, list] = {}
    for v in views:
        by_part.setdefault(v.name.split("/", 1)[0], []).append(v)
    return [
        Group(f"{path}/{_MHA_SUBLAYERS.get(part, part)}", part, ws) for part, ws in by_part.items()
    ]


def model_groups(model) -> list[Group]:
    """The model's groups (root, layers, sublayers) in Keras 3's order, with their weights."""
    return _Walker().model(model, "")


# ---- writing --------------------------------------------------------------------------------


def _vars_group(h5file, path: str, name: str | None):
    group = h5file.create_group(_join(path, "vars"))
    if name:
        group.attrs["name"] = name
    return group


def write_model_state(h5file, model, include_optimizer: bool = True) -> None:
    """Writes the model's variables (and its optimizer's) into an open, empty h5py File."""
    for group in model_groups(model):
        vars_group = _vars_group(h5file, group.path, group.name)
        for i, weight in enumerate(group.weights):
            write_array(vars_group, str(i), weight.numpy())
    if include_optimizer and _compile_state.has_saveable_optimizer(model):
        names_and_values = _compile_state.optimizer_weights(model)
        vars_group = _vars_group(h5file, "optimizer", model.optimizer.name)
        for i, (_, value) in enumerate(names_and_values):
            write_array(vars_group, str(i), value)
    rng = _compile_state.train_rng(model)
    if rng is not None:
        data, impl = rng
        vars_group = _vars_group(h5file, "fkeras", "train_rng")
        write_array(vars_group, "0", data)
        vars_group["0"].attrs["impl"] = impl


# ---- reading --------------------------------------------------------------------------------


def _read_vars(h5file, path: str) -> list[np.ndarray] | None:
    """The arrays of `<path>/vars` in index order, or None if the file has no such group."""
    try:
        group = safe_group(h5file, _join(path, "vars"))
    except KeyError:
        return None
    keys = list(group.keys())
    if not all(k.isdigit() for k in keys):
        raise ValueError(
            f"Invalid weights file: {_join(path, 'vars')!r} holds non-numbered entries {keys}."
        )
    return [safe_read(group, k) for k in sorted(keys, key=int)]


def _match(group: Group, arrays: list | None) -> str | None:
    """An error message if `arrays` cannot be loaded into `group`'s weights, else None."""
    if arrays is None:
        if not group.weights:
            return None
        return f"the file has no variables at '{_join(group.path, 'vars')}'"
    if len(arrays) != len(group.weights):
        return (
            f"it expects {len(group.weights)} variables "
            f"({', '.join(w.name for w in group.weights) or 'none'}), the file has {len(arrays)}"
        )
    for weight, value in zip(group.weights, arrays):
        if tuple(value.shape) != weight.shape:
            return f"variable '{weight.name}' has shape {weight.shape}, the file's has shape {tuple(value.shape)}"
    return None


def _groups_by_name(h5file, model) -> list[tuple[Group, str]]:
    """(group, path in the file) pairs, matching the model's top-level layers by name."""
    try:
        layers_group = safe_group(h5file, "layers")
    except KeyError:
        return []
    found: dict[str, str] = {}
    for child in layers_group:
        try:
            name = safe_group(layers_group, f"{child}/vars").attrs.get("name")
        except KeyError:
            continue
        if isinstance(name, bytes):
            name = name.decode("utf8")
        if isinstance(name, str):
            found.setdefault(name, f"layers/{child}")
    pairs = []
    walker = _Walker()
    for layer in model.layers:
        if layer.name in found:
            for group in walker.layer(layer, "@"):
                pairs.append((group, found[layer.name] + group.path[1:]))
    return pairs


def load_model_state(h5file, model, *, skip_mismatch: bool = False, by_name: bool = False,
                     load_optimizer: bool = True) -> None:  # fmt: skip
    """Loads the variables stored in an open h5py File into `model` (and its optimizer).

    Every layer is checked before anything is assigned: on a mismatch nothing changes and a
    ValueError lists each layer that does not fit, unless `skip_mismatch=True`, which loads the
    layers that fit and warns about the others.
    """
    if by_name:
        pairs = _groups_by_name(h5file, model)
    else:
        pairs = [(g, g.path) for g in model_groups(model)]
    loads, errors = [], []
    for group, path in pairs:
        arrays = _read_vars(h5file, path)
        problem = _match(group, arrays)
        if problem is None:
            loads.extend(zip(group.weights, arrays or []))
        else:
            errors.append(f"layer '{group.name}' (at '{path or '/'}'): {problem}")
    if errors:
        message = (
            f"Could not load {len(errors)} layer(s) of model '{model.name}' from the weights "
            "file:\n  " + "\n  ".join(errors)
        )
        if not skip_mismatch:
            raise ValueError(message + "\nPass `skip_mismatch=True` to load the other layers.")
        warnings.warn(message + "\nThese layers keep their current weights.", stacklevel=3)
    for weight, value in loads:
        weight.assign(value)
    if load_optimizer:
        _load_optimizer(h5file, model)


def _load_optimizer(h5file, model) -> None:
    if not (getattr(model, "compiled", False) and _compile_state.has_saveable_optimizer(model)):
        return
    arrays = _read_vars(h5file, "optimizer")
    if not arrays:
        return
    rng = None
    stored = _read_vars(h5file, "fkeras")
    if stored:
        impl = safe_group(h5file, "fkeras/vars")["0"].attrs.get("impl")
        rng = (stored[0], impl.decode() if isinstance(impl, bytes) else impl)
    _compile_state.restore_optimizer_state(model, arrays, rng=rng, strict=False)


# ---- .weights.h5 files ----------------------------------------------------------------------


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Writes `model`'s weights (and optimizer state) to a Keras 3 `.weights.h5` file, atomically."""
    h5py = require_h5py()
    _require_built(model, "saving weights from")
    if not _atomic.may_write(filepath, overwrite):
        return
    with _atomic.atomic_path(filepath) as tmp, h5py.File(tmp, "w") as h5file:
        write_model_state(h5file, model)


def open_h5(filepath_or_bytes, what: str):
    """Opens an HDF5 file for reading; a file that is not HDF5 gives a clear ValueError."""
    h5py = require_h5py()
    source = (
        io.BytesIO(filepath_or_bytes) if isinstance(filepath_or_bytes, bytes) else filepath_or_bytes
    )
    if isinstance(source, (str, os.PathLike)) and not os.path.exists(source):
        raise FileNotFoundError(f"No such file: {os.fspath(source)!r}")
    try:
        return h5py.File(source, "r")
    except OSError as err:
        raise ValueError(
            f"{what} is not a valid HDF5 file (it may be truncated or corrupt): {err}"
        ) from None


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Loads a Keras 3 `.weights.h5` file into `model` (optimizer state too, if compiled)."""
    _require_built(model, "loading weights into")
    with open_h5(filepath, f"{os.fspath(filepath)!r}") as h5file:
        load_model_state(h5file, model, skip_mismatch=skip_mismatch, by_name=by_name)


def _require_built(model, what: str) -> None:
    if not model.built:
        raise ValueError(
            f"You are {what} a model that has not yet been built: model '{model.name}' has no "
            "weights yet. Build it first by calling it on some data, fitting it, or with "
            "`model.build(input_shape)`."
        )


def looks_like_keras3(h5file: Any) -> bool:
    """Whether an open HDF5 file uses Keras 3's object-path layout (`vars`, `layers/...`)."""
    return "vars" in h5file or "layers" in h5file or "optimizer" in h5file
