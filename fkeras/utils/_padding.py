"""`pad_sequences`: ragged lists of sequences to one NumPy array (Keras 2's
`keras.preprocessing.sequence.pad_sequences`, Keras 3's `keras.utils.pad_sequences`)."""

from __future__ import annotations

import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Pads (or truncates) each sequence to the same length: an array `(len(sequences), maxlen)`.

    Sequences longer than `maxlen` lose elements at the front (`truncating="pre"`) or the end
    (`"post"`); shorter ones are filled with `value` before (`padding="pre"`) or after
    (`"post"`) their elements. The elements may themselves be arrays: all non-empty sequences
    must then share the elements' shape, which becomes the output's trailing axes.

    Args:
        sequences: a list (or other sized iterable) of sequences: lists, tuples or arrays.
        maxlen: the output length; None: the longest sequence's length.
        dtype: the output's dtype; use `object` (or a string dtype) to pad strings.
        padding: "pre" or "post": where the fill goes.
        truncating: "pre" or "post": where long sequences are cut.
        value: the fill value.

    Returns:
        A NumPy array of shape `(len(sequences), maxlen) + element shape`.

    Raises:
        ValueError: `sequences` is not a list of sequences, `padding`/`truncating` are not
            "pre"/"post", `maxlen` is negative, a sequence does not convert to `dtype`, the
            element shapes differ, or a string `value` meets a numeric `dtype`.
        TypeError: `dtype` is not a dtype, or `value` cannot fill an array of it.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(
            "`sequences` must be a list of sequences. "
            f"Received: sequences of type {type(sequences).__name__}"
        )
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in _SIDES:
            raise ValueError(f"`{name}` must be 'pre' or 'post'. Received: {name}={side!r}")
    if maxlen is not None and (
        isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0
    ):
        raise ValueError(
            f"`maxlen` must be None or a non-negative integer. Received: maxlen={maxlen!r}"
        )
    try:
        out_dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"`dtype` must be a NumPy dtype or its name. Received: dtype={dtype!r}"
        ) from None
    lengths, element_shape = [], None
    for i, seq in enumerate(sequences):
        try:
            lengths.append(len(seq))
        except TypeError:
            raise ValueError(
                f"`sequences` must be a list of sequences: the one at position {i} has no length. "
                f"Received: {seq!r}"
            ) from None
        if element_shape is None and len(seq):
            element_shape = _converted(seq, None, i).shape[1:]
    element_shape = element_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if isinstance(value, str) and out_dtype.kind not in "OSU":
        raise ValueError(
            f"A string `value` needs `dtype=object` (or a string dtype) to pad variable-length "
            f"strings. Received: value={value!r}, dtype={dtype!r}"
        )
    try:
        out = np.full((len(lengths), maxlen) + element_shape, value, dtype=out_dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"`value` cannot fill an array of dtype {out_dtype}. Received: value={value!r}"
        ) from None
    if maxlen == 0:
        return out
    for i, seq in enumerate(sequences):
        if not lengths[i]:
            continue
        kept = _converted(seq[-maxlen:] if truncating == "pre" else seq[:maxlen], out_dtype, i)
        if kept.shape[1:] != element_shape:
            raise ValueError(
                f"Every element of every sequence must have the same shape: the sequence at "
                f"position {i} has elements of shape {kept.shape[1:]}, expected {element_shape}."
            )
        if padding == "pre":
            out[i, maxlen - len(kept) :] = kept
        else:
            out[i, : len(kept)] = kept
    return out


def _converted(seq, dtype, position: int) -> np.ndarray:
    try:
        return np.asarray(seq, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"The sequence at position {position} of `sequences` does not convert to an array"
            f"{'' if dtype is None else f' of dtype {dtype}'}: its elements must be numbers "
            f"(or arrays of one shape). NumPy says: {err}"
        ) from None
