"""Fashion-MNIST: 28x28 grayscale images of 10 kinds of clothing, in the MNIST layout.

The four files are Keras's (the original IDX files, gzipped), looked for in the folder
`fashion-mnist` of the data folder (`$FKERAS_DATA`, else `~/.keras/datasets`), where Keras
caches them.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from fkeras.datasets._files import KERAS_ORIGIN, Split, data_dir, get_file

SUBDIR = "fashion-mnist"
FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
_LABELS_MAGIC, _IMAGES_MAGIC = 2049, 2051  # IDX magic numbers: ubyte data with 1 or 3 dims


def _read_idx(path: str, magic: int) -> np.ndarray:
    """Reads a gzipped IDX file of unsigned bytes (a big-endian header, then the data)."""
    with gzip.open(path, "rb") as f:
        buf = f.read()
    ndim = magic - 2048
    header = np.frombuffer(buf, dtype=">u4", count=1 + ndim) if len(buf) >= 4 + 4 * ndim else None
    if header is None or header[0] != magic:
        raise ValueError(f"{path} is not an IDX file of {ndim}-d unsigned bytes.")
    shape = tuple(int(d) for d in header[1:])
    data = np.frombuffer(buf, dtype=np.uint8, offset=4 * (1 + ndim))
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {data.size} bytes of data; its header says {shape}.")
    return data.reshape(shape).copy()  # writable, like np.load's arrays


def load_data(*, download: bool | None = None) -> tuple[Split, Split]:
    """Loads Fashion-MNIST: 60,000 training and 10,000 test images of 10 clothing classes.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Args:
        download: fetch missing files from Keras's storage; None reads `FKERAS_DOWNLOAD`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x` uint8 arrays of shape `(n, 28, 28)` with
        values 0-255, `y` uint8 arrays of shape `(n,)` with values 0-9.

    Raises:
        DatasetNotFoundError: a file is missing and downloading was not allowed.
        ValueError: a file is not a well-formed IDX file, or images and labels disagree in number.
    """
    folder = os.path.join(data_dir(), SUBDIR)
    paths = [
        get_file(fname, KERAS_ORIGIN + fname, cache_dir=folder, download=download)
        for fname in FILES
    ]
    y_train, x_train = _read_idx(paths[0], _LABELS_MAGIC), _read_idx(paths[1], _IMAGES_MAGIC)
    y_test, x_test = _read_idx(paths[2], _LABELS_MAGIC), _read_idx(paths[3], _IMAGES_MAGIC)
    for x, y, part in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if len(x) != len(y):
            raise ValueError(f"The {part} files hold {len(x)} images but {len(y)} labels.")
    return (x_train, y_train), (x_test, y_test)
