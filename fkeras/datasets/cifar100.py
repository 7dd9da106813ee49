"""CIFAR-100 small images, with 100 fine and 20 coarse classes.

Files are looked for as `cifar10` describes (`cifar-100-python-target/cifar-100-python/`,
`cifar-100-python/`, `cifar-100-binary/`, then the archives `cifar-100-python-target_archive`,
`cifar-100-python.tar.gz` and `cifar-100-binary.tar.gz`, read in place), and read without
unpickling anything but plain numpy arrays (see `fkeras.datasets.cifar10`).
"""

from __future__ import annotations

from fkeras.datasets._files import Split
from fkeras.datasets.cifar10 import CifarFiles, load_cifar

CIFAR100 = CifarFiles(
    keras_dir="cifar-100-python-target",
    py_dir="cifar-100-python",
    py_members=("train", "test"),
    bin_dir="cifar-100-binary",
    bin_members=("train.bin", "test.bin"),
    bin_label_keys=("coarse_labels", "fine_labels"),
    archive="cifar-100-python.tar.gz",
    bin_archive="cifar-100-binary.tar.gz",
    origin="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    # Keras builds these labels from the batches' Python lists, so they come out int64.
    label_dtype="int64",
)


def load_data(label_mode: str = "fine", *, download: bool | None = None) -> tuple[Split, Split]:
    """Loads CIFAR-100: 50,000 training and 10,000 test 32x32 colour images in 100 classes.

    Args:
        label_mode: "fine" for the 100 classes, "coarse" for their 20 superclasses.
        download: fetch the python version (checked against its sha256) when no version is on
            disk; None reads the environment variable `FKERAS_DOWNLOAD`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x` uint8 arrays of shape `(n, 32, 32, 3)` (or
        `(n, 3, 32, 32)` when `image_data_format()` is "channels_first") with values 0-255, `y`
        int64 arrays of shape `(n, 1)` with values 0-99 (fine) or 0-19 (coarse). Keras documents
        uint8 labels but returns int64; fkeras returns what Keras returns.

    Raises:
        ValueError: `label_mode` is neither "fine" nor "coarse".
        DatasetNotFoundError: no version of the files is on disk and downloading was not allowed.
        pickle.UnpicklingError: a python-version batch names anything but numpy's array names.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be "fine" or "coarse". Received: label_mode={label_mode!r}'
        )
    return load_cifar(CIFAR100, f"{label_mode}_labels", download)
