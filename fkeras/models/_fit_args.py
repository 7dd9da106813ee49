"""Checks of the loop arguments of `fit`, `evaluate` and `predict`, made before any work starts.

Each check names the argument and shows the value received, so a typo such as `epochs="10"` or
`validation_freq=0` fails at the user's call with a message, not later inside the engine. Wrong
types raise `TypeError`, values out of range `ValueError`. Python bools are rejected where an
integer is expected (`epochs=True` is a mistake, not one epoch); NumPy integers are accepted.
"""

from collections.abc import Collection
from typing import Any

import numpy as np

__all__ = [
    "check_batch_size",
    "check_epochs",
    "check_non_negative_int",
    "check_optional_positive_int",
    "check_validation_freq",
    "check_verbose",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_non_negative_int(name: str, value: Any) -> int:
    """`value` as a Python int, if it is an integer >= 0.

    Raises:
        TypeError: If `value` is not an integer (bools included).
        ValueError: If it is negative.
    """
    if not _is_int(value):
        raise TypeError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    if value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return int(value)


def check_optional_positive_int(name: str, value: Any) -> int | None:
    """`value` as a Python int if it is an integer >= 1; None stays None.

    Raises:
        TypeError: If `value` is neither None nor an integer (bools included).
        ValueError: If it is zero or negative.
    """
    if value is None:
        return None
    if not _is_int(value):
        raise TypeError(f"`{name}` must be a positive integer or None. Received: {name}={value!r}")
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {name}={value!r}")
    return int(value)


def check_batch_size(batch_size: Any, name: str = "batch_size") -> int:
    """The batch size to use: `batch_size`, or Keras's default of 32 when it is None."""
    checked = check_optional_positive_int(name, batch_size)
    return 32 if checked is None else checked


def check_epochs(epochs: Any, initial_epoch: Any) -> tuple[int, int]:
    """`(epochs, initial_epoch)` as Python ints, both checked to be non-negative integers.

    `initial_epoch >= epochs` is allowed (no epoch runs), as in Keras.
    """
    return check_non_negative_int("epochs", epochs), check_non_negative_int("initial_epoch", initial_epoch)


def check_validation_freq(validation_freq: Any) -> int | tuple[int, ...]:
    """A positive int (validate every that many epochs), or a collection of positive epoch
    numbers (1-based) after which to validate.

    Raises:
        TypeError: If it is neither an integer nor a collection of integers.
        ValueError: If an integer in it is not positive.
    """
    if _is_int(validation_freq):
        if validation_freq < 1:
            raise ValueError(
                "`validation_freq` must be a positive integer or a collection of positive epoch "
                f"numbers. Received: validation_freq={validation_freq!r}"
            )
        return int(validation_freq)
    if isinstance(validation_freq, Collection) and not isinstance(validation_freq, (str, bytes, dict)):
        items = list(validation_freq)
        if not all(_is_int(e) for e in items):
            raise TypeError(
                "`validation_freq` must be a positive integer or a collection of positive epoch "
                f"numbers. Received: validation_freq={validation_freq!r}"
            )
        if any(e < 1 for e in items):
            raise ValueError(
                "`validation_freq` epochs are 1-based and must be positive. "
                f"Received: validation_freq={validation_freq!r}"
            )
        return tuple(int(e) for e in items)
    raise TypeError(
        "`validation_freq` must be a positive integer or a collection of positive epoch numbers. "
        f"Received: validation_freq={validation_freq!r}"
    )


def check_verbose(verbose: Any) -> int:
    """Keras's verbosity: 0 (silent), 1 (progress bar), 2 (one line per epoch); 'auto' is 1."""
    if verbose == "auto" or verbose is None:
        return 1
    if isinstance(verbose, str) or verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)
