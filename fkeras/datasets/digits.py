"""scikit-learn's 8x8 handwritten digits, in the layout of `mnist.load_data()`.

The 1,797 images ship inside scikit-learn (no download); `pip install scikit-learn` provides
them. Not a Keras dataset: an fkeras extra for quick, offline examples.
"""

from __future__ import annotations

import numpy as np

from fkeras.datasets._files import Split
from fkeras.datasets.boston_housing import check_test_split, shuffle_split

_MISSING_SKLEARN = (
    "fkeras.datasets.digits needs scikit-learn, which bundles the digits images. "
    "Install it with `pip install scikit-learn`."
)


def load_data(test_split: float = 0.2, seed: int = 113) -> tuple[Split, Split]:
    """Loads scikit-learn's 1,797 8x8 grayscale digit images, shuffled and split.

    Args:
        test_split: the fraction of the images kept for testing, in [0, 1).
        seed: the seed of the shuffle done before splitting (`np.random.RandomState`), as in
            `boston_housing.load_data`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x` uint8 arrays of shape `(n, 8, 8)` with values
        0-16 (the images' 17 gray levels, not MNIST's 0-255: divide by 16 to scale to [0, 1]),
        `y` uint8 arrays of shape `(n,)` with the digits 0-9. The training part has
        `int(1797 * (1 - test_split))` images.

    Raises:
        ImportError: scikit-learn is not installed.
        ValueError: `test_split` is outside [0, 1).
    """
    check_test_split(test_split)
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(_MISSING_SKLEARN) from err
    bunch = load_digits()
    x = np.asarray(bunch.images).astype(np.uint8)
    y = np.asarray(bunch.target).astype(np.uint8)
    return shuffle_split(x, y, test_split, seed)
