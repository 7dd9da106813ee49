"""CIFAR-10 small images, and the CIFAR reader shared with `cifar100`.

Which files
    Looked for in the data folder (`$FKERAS_DATA`, else `~/.keras/datasets`); the first match
    wins. Folders: Keras 3's extraction `cifar-10-batches-py-target/cifar-10-batches-py/`,
    Keras 2's `cifar-10-batches-py/`, the binary version's `cifar-10-batches-bin/`. Archives,
    read in place without extracting: Keras 3's download `cifar-10-batches-py-target_archive`,
    Keras 2's `cifar-10-batches-py.tar.gz`, and the files as published,
    `cifar-10-python.tar.gz` and `cifar-10-binary.tar.gz`. With `download=True` the python
    version is fetched into Keras 3's layout.

No pickle
    The "python version" batches are pickles, and Keras reads them with pickle. fkeras never
    hands them to numpy's or Python's unrestricted unpickler: they go through
    `fkeras.datasets._files.safe_unpickle`, which allows only the names numpy uses to rebuild an
    array, through fkeras's own stand-ins that check the shape, the dtype code and the byte count
    and build the array with `np.frombuffer`. Every other global (`os.system`, `eval`, ...) is
    refused. The "binary version" needs no pickle at all: fixed-size records of label byte(s)
    followed by 3,072 pixel bytes (1,024 red, then green, then blue, row-major), which this
    module reads with `np.frombuffer`.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from fkeras._config import image_data_format
from fkeras.datasets._files import (
    DatasetNotFoundError,
    Split,
    data_dir,
    download_enabled,
    get_file,
    read_tar_members,
    safe_unpickle,
)

_PIXELS = 3 * 32 * 32


@dataclasses.dataclass(frozen=True)
class CifarFiles:
    """Names and URLs of one CIFAR dataset's files, in its python and binary versions."""

    keras_dir: str  # the folder Keras 3 extracts the python version into
    py_dir: str  # the python version's folder inside its archive
    py_members: tuple[str, ...]  # the training members, then the test member
    bin_dir: str
    bin_members: tuple[str, ...]
    bin_label_keys: tuple[str, ...]  # the label bytes of a binary record, in order
    archive: str  # the python version's archive, as published
    bin_archive: str
    origin: str
    sha256: str
    label_dtype: str

    def sources(self, folder: str) -> list[tuple[str, str, bool]]:
        """The places the data may be, as `(path, format, is_archive)`, in search order."""
        j = os.path.join
        found = [
            (j(folder, self.keras_dir, self.py_dir), "py", False),
            (j(folder, self.py_dir), "py", False),
            (j(folder, self.bin_dir), "bin", False),
            (j(folder, self.keras_dir + "_archive"), "py", True),
            (j(folder, self.py_dir + ".tar.gz"), "py", True),
            (j(folder, self.archive), "py", True),
            (j(folder, self.bin_archive), "bin", True),
        ]
        return list(dict.fromkeys(found))  # CIFAR-100's Keras 2 and published names coincide


CIFAR10 = CifarFiles(
    keras_dir="cifar-10-batches-py-target",
    py_dir="cifar-10-batches-py",
    py_members=tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",),
    bin_dir="cifar-10-batches-bin",
    bin_members=tuple(f"data_batch_{i}.bin" for i in range(1, 6)) + ("test_batch.bin",),
    bin_label_keys=("labels",),
    archive="cifar-10-python.tar.gz",
    bin_archive="cifar-10-binary.tar.gz",
    origin="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    label_dtype="uint8",
)


def _find(files: CifarFiles, download: bool | None) -> tuple[str, dict[str, bytes]]:
    """Returns `(format, {member: bytes})` from the first place that holds the files."""
    folder = data_dir()
    for path, fmt, is_archive in files.sources(folder):
        members = files.py_members if fmt == "py" else files.bin_members
        top = files.py_dir if fmt == "py" else files.bin_dir
        if is_archive and os.path.isfile(path):
            blobs = read_tar_members(path, [f"{top}/{m}" for m in members])
            return fmt, {m: blobs[f"{top}/{m}"] for m in members}
        if not is_archive and all(os.path.isfile(os.path.join(path, m)) for m in members):
            return fmt, {m: _read_bytes(os.path.join(path, m)) for m in members}
    if not download_enabled(download):
        looked = [path for path, _, _ in files.sources(folder)]
        raise DatasetNotFoundError(files.archive, looked, files.origin, folder)
    target = get_file(
        files.keras_dir, files.origin, files.sha256, folder, extract=True, download=True
    )
    path = os.path.join(target, files.py_dir)
    return "py", {m: _read_bytes(os.path.join(path, m)) for m in files.py_members}


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _parse_py(blob: bytes, member: str, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    batch = safe_unpickle(blob, encoding="bytes")
    if not isinstance(batch, dict):
        raise ValueError(f"The CIFAR batch {member!r} does not hold a dict.")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get(label_key)
    if not (isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] == _PIXELS):
        raise ValueError(f"The CIFAR batch {member!r} has no 'data' array of shape (n, 3072).")
    if labels is None or len(labels) != len(data):
        raise ValueError(f"The CIFAR batch {member!r} has no {label_key!r} list of {len(data)}.")
    return data.astype(np.uint8).reshape(-1, 3, 32, 32), np.asarray(labels)


def _parse_bin(
    blob: bytes, member: str, label_keys: tuple[str, ...], label_key: str
) -> tuple[np.ndarray, np.ndarray]:
    record = len(label_keys) + _PIXELS
    if len(blob) % record:
        raise ValueError(f"The CIFAR binary file {member!r} is not a whole number of records.")
    rows = np.frombuffer(blob, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, label_keys.index(label_key)].copy()
    return rows[:, len(label_keys) :].reshape(-1, 3, 32, 32).copy(), labels


def load_cifar(files: CifarFiles, label_key: str, download: bool | None) -> tuple[Split, Split]:
    """Reads a CIFAR dataset in Keras's layout: `x` (n, 32, 32, 3) or (n, 3, 32, 32), `y` (n, 1)."""
    fmt, blobs = _find(files, download)
    members = files.py_members if fmt == "py" else files.bin_members
    parts = []
    for member in members:
        if fmt == "py":
            parts.append(_parse_py(blobs[member], member, label_key))
        else:
            parts.append(_parse_bin(blobs[member], member, files.bin_label_keys, label_key))
    x_train = np.concatenate([x for x, _ in parts[:-1]])
    y_train = np.concatenate([y for _, y in parts[:-1]]).astype(files.label_dtype)
    x_test, y_test = parts[-1][0], parts[-1][1].astype(files.label_dtype)
    if image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train.reshape(-1, 1)), (x_test, y_test.reshape(-1, 1))


def load_data(*, download: bool | None = None) -> tuple[Split, Split]:
    """Loads CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
    9 truck. The python and the binary versions of the files give the same arrays.

    Args:
        download: fetch the python version (checked against its sha256) when no version is on
            disk; None reads the environment variable `FKERAS_DOWNLOAD`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x` uint8 arrays of shape `(n, 32, 32, 3)` (or
        `(n, 3, 32, 32)` when `image_data_format()` is "channels_first") with values 0-255, `y`
        uint8 arrays of shape `(n, 1)` with values 0-9.

    Raises:
        DatasetNotFoundError: no version of the files is on disk and downloading was not allowed.
        pickle.UnpicklingError: a python-version batch names anything but numpy's array names.
    """
    return load_cifar(CIFAR10, "labels", download)
