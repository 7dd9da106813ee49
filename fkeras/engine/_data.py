"""Data adaptation: user data (arrays, lists, dicts) to flat lists of NumPy arrays in model order.

All checks happen here, on the host, before anything is traced: wrong structure, wrong keys,
non-numeric data and mismatched sample counts raise a ValueError/TypeError naming the argument.
"""

import numpy as np


def _as_array(value, what: str) -> np.ndarray:
    if hasattr(value, "__jax_array__") or type(value).__module__.startswith("jax"):
        value = np.asarray(value)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        # NumPy's own text ("setting an array element with a sequence") does not say which
        # argument was wrong; ours does
        raise ValueError(
            f"`{what}` could not be converted to an array: its rows have different lengths "
            f"(ragged) or it mixes arrays, numbers and other objects. "
            f"Received: {what}={_short(value)}"
        ) from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(
            f"`{what}` must hold numbers. Received an array of dtype {arr.dtype} "
            f"(shape {arr.shape}); convert strings/objects to numbers first."
        )
    if arr.ndim == 0:
        raise ValueError(f"`{what}` must have a batch axis. Received a scalar: {what}={value!r}")
    return arr


def _short(value, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _cast(arr: np.ndarray, dtype: str | None) -> np.ndarray:
    if dtype is None:
        if arr.dtype == np.float64:
            return arr.astype(np.float32)
        if arr.dtype == np.int64 or arr.dtype == np.uint64:
            return arr.astype(np.int32)
        if arr.dtype == np.bool_:
            return arr.astype(np.float32)
        return arr
    return arr if arr.dtype == np.dtype(dtype) else arr.astype(dtype)


def flatten_by_names(data, names: list[str], what: str, dtypes=None, allow_none=False) -> list:
    """`data` (array, list/tuple or dict keyed by `names`) -> list ordered like `names`."""
    n = len(names)
    dtypes = dtypes or [None] * n
    if data is None:
        if allow_none:
            return [None] * n
        raise ValueError(f"`{what}` is required. Received: {what}=None")
    if isinstance(data, dict):
        unknown = [k for k in data if k not in names]
        if unknown:
            raise ValueError(
                f"`{what}` has unknown keys {unknown}. Expected keys: {names}. "
                f"Received: keys={list(data)}"
            )
        missing = [k for k in names if k not in data]
        if missing and not allow_none:
            raise ValueError(
                f"`{what}` is missing keys {missing}. Expected keys: {names}. Received: keys={list(data)}"
            )
        values = [data.get(k) for k in names]
    elif isinstance(data, (list, tuple)) and (n > 1 or (len(data) == 1 and _is_arraylike(data[0]))):
        if len(data) != n:
            raise ValueError(
                f"`{what}` must be a list of {n} arrays (one per {'input' if what.startswith('x') else 'output'}: "
                f"{names}). Received a list of {len(data)} elements."
            )
        values = list(data)
    else:
        if n != 1:
            raise ValueError(
                f"The model has {n} {'inputs' if what.startswith('x') else 'outputs'} {names}, so "
                f"`{what}` must be a list or dict of {n} arrays. Received a single array."
            )
        values = [data]
    out = []
    for name, value, dtype in zip(names, values, dtypes):
        label = what if n == 1 else f"{what}[{name!r}]"
        if value is None:
            if not allow_none:
                raise ValueError(
                    f"`{label}` is None: every input needs data. "
                    f"Received: {label}=None"
                )
            out.append(None)
            continue
        out.append(_cast(_as_array(value, label), dtype))
    return out


def _is_arraylike(value) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def check_cardinality(groups: dict[str, list]) -> int:
    """All arrays must have the same number of samples; return it."""
    sizes = {what: [a.shape[0] for a in arrays if a is not None] for what, arrays in groups.items()}
    flat = [s for v in sizes.values() for s in v]
    if not flat:
        raise ValueError("No data was given: `x` is empty.")
    if 0 in flat:
        empty = [what for what, s in sizes.items() if 0 in s]
        raise ValueError(
            f"The data has no samples: {', '.join(f'`{w}`' for w in empty)} has a first axis of "
            "size 0. Pass at least one sample."
        )
    if len(set(flat)) > 1:
        detail = "\n".join(f"'{what}' sizes: {', '.join(map(str, s))}" for what, s in sizes.items() if s)
        raise ValueError(
            f"Data cardinality is ambiguous. Make sure all arrays contain the same number of "
            f"samples.\n{detail}"
        )
    return flat[0]


def class_weight_to_sample_weight(y: np.ndarray, class_weight: dict) -> np.ndarray:
    """Per-sample weights from `class_weight` ({class index: weight}), as Keras does."""
    if y.ndim > 1 and y.shape[-1] > 1:
        classes = np.argmax(y, axis=-1)
    else:
        classes = np.round(y.reshape(y.shape[0], -1)[:, 0]).astype(np.int64)
    weights = np.ones(classes.shape, np.float32)
    for cls, w in class_weight.items():
        is_int = isinstance(cls, (int, np.integer)) and not isinstance(cls, bool)
        is_number = isinstance(w, (int, float, np.integer, np.floating)) and not isinstance(w, bool)
        if not (is_int and is_number):
            raise ValueError(
                "`class_weight` must map class indices (ints) to weights (numbers). "
                f"Received: class_weight={class_weight!r}"
            )
        weights[classes == int(cls)] = float(w)
    return weights


def split_validation(arrays: list, fraction: float):
    """Keras's `validation_split`: the last `fraction` of the samples (before any shuffling)."""
    real = (int, float, np.integer, np.floating)
    is_number = isinstance(fraction, real) and not isinstance(fraction, bool)
    if not is_number or not 0.0 < fraction < 1.0:
        raise ValueError(
            f"`validation_split` must be a float in (0, 1). Received: validation_split={fraction!r}"
        )
    n = next(a.shape[0] for a in arrays if a is not None)
    split_at = int(n * (1.0 - fraction))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"`validation_split={fraction}` leaves no samples for training or validation "
            f"with {n} samples."
        )
    train = [None if a is None else a[:split_at] for a in arrays]
    val = [None if a is None else a[split_at:] for a in arrays]
    return train, val


def unpack_validation_data(validation_data):
    """(x, y) or (x, y, sample_weight) -> three values."""
    if isinstance(validation_data, (list, tuple)) and len(validation_data) in (2, 3):
        x, y, *rest = validation_data
        return x, y, (rest[0] if rest else None)
    raise ValueError(
        "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight). "
        f"Received: validation_data of type {type(validation_data).__name__}"
    )
