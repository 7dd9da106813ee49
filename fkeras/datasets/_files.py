"""Finding, downloading and safely reading the dataset files.

Where files live
    ``data_dir()`` is ``$FKERAS_DATA`` when set, else ``$KERAS_HOME/datasets`` when ``KERAS_HOME``
    is set, else ``~/.keras/datasets``: the folder Keras caches its downloads in, under the same
    file names, so a machine that ran Keras once already has what fkeras needs.

The network
    Nothing here touches the network unless asked: ``download=True`` (an argument of every
    loader and of ``get_file``) or the environment variable ``FKERAS_DOWNLOAD=1``. Otherwise a
    missing file raises ``DatasetNotFoundError`` (a ``FileNotFoundError``) naming the file, the
    paths looked at and the URL to fetch it from. A download is checked against its sha256 or
    md5 checksum before it is moved into place (``os.replace``), so an interrupted or corrupted
    transfer never leaves a file under the final name. Checksums are checked on download only,
    not each time a file already on disk is read.

No code from data files
    ``.npz`` members with numeric dtypes are read with ``allow_pickle=False``. The IMDB and Reuters
    files store ragged sequences as object arrays, which numpy can only write as a pickle, and
    the CIFAR "python" batches are pickles. Those are read by ``safe_unpickle``: an unpickler
    whose ``find_class`` hands out fkeras's own stand-ins for the handful of names such files
    use: numpy's ``_reconstruct``, ``ndarray``, ``dtype``, ``scalar`` and ``_frombuffer``, and
    the ``_codecs.encode`` and ``bytes`` that Python 3 protocol-2 pickles use for bytes. The
    stand-ins only build plain numeric or object arrays from validated shapes, dtype codes and
    raw bytes; no callable named in the file is ever imported or called, and every other global
    is refused. (Keras's own reader allows numpy's real ``_reconstruct``, ``ndarray`` and
    ``dtype``; fkeras does not even import those by name.)
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import pickle
import re
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from typing import Any

import numpy as np

Split = tuple[np.ndarray, np.ndarray]  # (x, y) of one part of a dataset

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TRUE = ("1", "true", "yes", "on")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is not on disk and downloading was not allowed.

    Attributes:
        fname: the file (or folder) name that was looked for.
        looked_in: the paths that were checked, in order.
        origin: the URL the file can be downloaded from.
    """

    def __init__(self, fname: str, looked_in: list[str], origin: str, folder: str) -> None:
        self.fname = fname
        self.looked_in = list(looked_in)
        self.origin = origin
        looked = ", ".join(self.looked_in)
        super().__init__(
            errno.ENOENT,
            f"Dataset file '{fname}' was not found. Looked for: {looked}. Download it from "
            f"{origin} and put it in {folder} (set FKERAS_DATA to use another folder), or let "
            "fkeras download it: pass `download=True` or set the environment variable "
            "FKERAS_DOWNLOAD=1."
        )


def keras_home() -> str:
    """Keras's cache folder: `$KERAS_HOME`, else `~/.keras` (read at call time)."""
    return os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))


def data_dir() -> str:
    """The folder dataset files are read from (and downloaded to), read at call time."""
    if os.environ.get("FKERAS_DATA"):
        return os.path.expanduser(os.environ["FKERAS_DATA"])
    return os.path.join(keras_home(), "datasets")


def download_enabled(download: bool | None) -> bool:
    """`download` if given, else whether `FKERAS_DOWNLOAD` is set to a true value."""
    if download is None:
        return os.environ.get("FKERAS_DOWNLOAD", "").strip().lower() in _TRUE
    return bool(download)


def split_path(path: str | os.PathLike) -> tuple[str, str]:
    """Splits a loader's `path` argument into `(fname, folder)`.

    A bare file name is looked up in `data_dir()`; a path with a folder part (absolute, relative
    or starting with `~`) is used as it is.
    """
    path = os.path.expanduser(os.fspath(path))
    folder, fname = os.path.split(path)
    if not fname:
        raise ValueError(f"`path` must name a file. Received: path={path!r}")
    if not folder:
        folder = data_dir()
    return fname, folder


def get_file(
    fname: str,
    origin: str,
    file_hash: str | None = None,
    cache_dir: str | None = None,
    extract: bool = False,
    *,
    download: bool | None = None,
) -> str:
    """Returns the local path of a dataset file, downloading it only when allowed.

    Unlike Keras's `get_file`, `cache_dir` is the folder that holds the file itself (Keras joins
    `cache_dir` and `cache_subdir`), and the network is used only when `download` (or
    `FKERAS_DOWNLOAD=1`) says so. The on-disk layout for archives is Keras 3's: with
    `extract=True`, a `fname` without a dot names the extraction folder and the archive is kept as
    `<fname>_archive`; a `fname` with a dot names the archive, extracted into
    `<stem>_extracted`.

    Args:
        fname: the file name in `cache_dir` (no folder part).
        origin: the URL to download from (`https://`, `http://` or `file://`).
        file_hash: the expected sha256 (64 hex digits) or md5 (32 hex digits) of the downloaded
            file; None skips the check.
        cache_dir: the folder; defaults to `data_dir()`.
        extract: whether the file is a tar (optionally gzip/bz2/xz) or zip archive to unpack;
            the extraction folder's path is returned then.
        download: allow the network; None reads `FKERAS_DOWNLOAD`.

    Returns:
        The path of the file, or of the extraction folder when `extract=True`.

    Raises:
        DatasetNotFoundError: the file is absent and downloading is not allowed.
        ValueError: a bad argument, or the download's checksum does not match `file_hash`.
    """
    if not fname or os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(f"`fname` must be a plain file name. Received: fname={fname!r}")
    folder = os.path.expanduser(cache_dir) if cache_dir is not None else data_dir()
    algorithm = _hash_algorithm(file_hash)
    target, archive = local_paths(fname, folder, extract)
    if extract:
        if os.path.isdir(target):
            return target
        looked = [target, archive]
    else:
        if os.path.isfile(target):
            return target
        looked = [target]
    if not os.path.isfile(archive):
        if not download_enabled(download):
            raise DatasetNotFoundError(fname, looked, origin, folder)
        os.makedirs(folder, exist_ok=True)
        _download(origin, archive, file_hash, algorithm)
    if extract:
        extract_archive(archive, target)
    return target


def local_paths(fname: str, folder: str, extract: bool) -> tuple[str, str]:
    """`(returned path, downloaded file)` of `get_file`: the same file unless extracting."""
    if not extract:
        path = os.path.join(folder, fname)
        return path, path
    if "." in fname:
        stem = fname[: fname.index(".")]
        return os.path.join(folder, stem + "_extracted"), os.path.join(folder, fname)
    return os.path.join(folder, fname), os.path.join(folder, fname + "_archive")


def hash_file(path: str, algorithm: str = "sha256", chunk_size: int = 1 << 20) -> str:
    """The hex digest of a file's bytes ('sha256' or 'md5')."""
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _hash_algorithm(file_hash: str | None) -> str | None:
    if file_hash is None:
        return None
    if re.fullmatch(r"[0-9a-fA-F]{64}", file_hash):
        return "sha256"
    if re.fullmatch(r"[0-9a-fA-F]{32}", file_hash):
        return "md5"
    raise ValueError(
        "`file_hash` must be a sha256 (64 hex digits) or md5 (32 hex digits) digest. "
        f"Received: file_hash={file_hash!r}"
    )


def _download(origin: str, target: str, file_hash: str | None, algorithm: str | None) -> None:
    """Streams `origin` to a temporary file beside `target`, checks it, then renames it."""
    scheme = urllib.parse.urlsplit(origin).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(
            "`origin` must be an http(s):// or file:// URL. "
            f"Received: origin={origin!r}"
        )
    print(f"Downloading data from {origin}")
    hasher = hashlib.new(algorithm) if algorithm else None
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".download-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin) as response:  # noqa: S310
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                if hasher is not None:
                    hasher.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        if hasher is not None and hasher.hexdigest() != file_hash.lower():
            raise ValueError(
                f"The file downloaded from {origin} is incomplete or corrupted: its {algorithm} "
                f"checksum is {hasher.hexdigest()}, expected {file_hash.lower()}. Nothing was "
                "saved; try again, or download it by hand."
            )
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def extract_archive(archive: str, target: str) -> None:
    """Unpacks a tar or zip archive into the folder `target`, atomically.

    Members are unpacked into a temporary folder beside `target`, which is renamed to `target`
    once complete. Absolute paths, `..` components, links pointing outside and device files are
    refused (tar's "data" filter; the same checks by hand for zip).
    """
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".extract-")
    try:
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(tmp, filter="data")
                else:  # Python < 3.10.12 / 3.11.4: the same refusals by hand
                    members = tar.getmembers()
                    for member in members:
                        _check_member_name(member.name, archive)
                        if not (member.isfile() or member.isdir()):
                            raise ValueError(f"Refusing to extract the link {member.name!r}.")
                    tar.extractall(tmp, members=members)  # noqa: S202
        elif zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member_name(info.filename, archive)
                zf.extractall(tmp)
        else:
            raise ValueError(f"Not a tar or zip archive: {archive}")
        if os.path.isdir(target):  # extracted meanwhile by another process
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _check_member_name(name: str, archive: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
        raise ValueError(f"Refusing to extract {name!r} from {archive}: it points outside.")


def read_tar_members(archive: str, names: list[str]) -> dict[str, bytes]:
    """Reads the regular-file members `names` of a tar archive into memory, without extracting."""
    wanted = set(names)
    found: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            name = member.name[2:] if member.name.startswith("./") else member.name
            if name in wanted and member.isfile():
                found[name] = tar.extractfile(member).read()
    missing = sorted(wanted - set(found))
    if missing:
        raise ValueError(f"The archive {archive} lacks the members {missing}.")
    return found


# ---------------------------------------------------------------------------------------------
# Reading numpy data without running code from the file.

_RECONSTRUCT = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}
_SCALAR = {("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}
_FROMBUFFER = {("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}
_DTYPE_CODE = re.compile(r"(b1|[iu][1248]|f[248]|c(8|16)|O[48]?)")
_ENDIAN = {"<": "<", ">": ">", "|": "", "=": "="}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin1")
    if isinstance(value, str):
        return value
    raise pickle.UnpicklingError(f"Expected a string in a numpy dtype, got {type(value).__name__}.")


class _NdarrayToken:
    """Stands for `numpy.ndarray` in `_reconstruct(ndarray, ...)`; refused anywhere else."""


class _DtypeStub:
    """Stands for `numpy.dtype(code, align, copy)` plus its `__setstate__`: simple dtypes only."""

    __slots__ = ("code", "endian")

    def __init__(self, code: Any, align: Any = False, copy: Any = True) -> None:
        del align, copy
        code = _text(code)
        if not _DTYPE_CODE.fullmatch(code):
            raise pickle.UnpicklingError(f"Refusing the numpy dtype {code!r} in a dataset file.")
        self.code = code
        self.endian = "="

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 5 or state[2:5] != (None, None, None):
            raise pickle.UnpicklingError("Refusing a structured or sub-array numpy dtype.")
        endian = _text(state[1])
        if endian not in _ENDIAN:
            raise pickle.UnpicklingError(f"Unknown byte order {endian!r} in a numpy dtype.")
        self.endian = endian

    def dtype(self) -> np.dtype:
        if self.code.startswith("O"):
            return np.dtype(object)
        return np.dtype(_ENDIAN[self.endian] + self.code)


def _native(array: np.ndarray) -> np.ndarray:
    """A writable copy in the machine's byte order (as numpy's own unpickling gives)."""
    return array.astype(array.dtype.newbyteorder("="), copy=True)


class _ArrayStub:
    """Result of `_reconstruct`; its `__setstate__` builds the array from validated parts."""

    __slots__ = ("array",)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            raise pickle.UnpicklingError("Malformed numpy array state in a dataset file.")
        shape, dtype_stub, fortran, raw = state
        if not isinstance(shape, tuple) or not all(type(d) is int and d >= 0 for d in shape):
            raise pickle.UnpicklingError(f"Malformed numpy array shape {shape!r}.")
        if not isinstance(dtype_stub, _DtypeStub):
            raise pickle.UnpicklingError("Malformed numpy array dtype in a dataset file.")
        dtype, size = dtype_stub.dtype(), int(np.prod(shape, dtype=np.int64))
        order = "F" if fortran else "C"
        if dtype == object:
            if not isinstance(raw, list) or len(raw) != size:
                raise pickle.UnpicklingError("Malformed numpy object array in a dataset file.")
            flat = np.empty(size, dtype=object)
            for i, item in enumerate(raw):
                flat[i] = _resolve(item, {})
            self.array = flat.reshape(shape, order=order)
            return
        if isinstance(raw, str):
            raw = raw.encode("latin1")
        if not isinstance(raw, bytes) or len(raw) != size * dtype.itemsize:
            raise pickle.UnpicklingError("Numpy array data does not match its shape and dtype.")
        self.array = _native(np.frombuffer(raw, dtype=dtype).reshape(shape, order=order))


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> _ArrayStub:
    del shape, typecode
    if cls is not _NdarrayToken:
        raise pickle.UnpicklingError("`_reconstruct` may only rebuild a plain numpy.ndarray.")
    return _ArrayStub()


def _scalar(dtype_stub: Any, raw: Any = None) -> Any:
    if not isinstance(dtype_stub, _DtypeStub) or dtype_stub.code.startswith("O"):
        raise pickle.UnpicklingError("Refusing a numpy scalar that is not a plain number.")
    raw = raw.encode("latin1") if isinstance(raw, str) else raw
    dtype = dtype_stub.dtype()
    if not isinstance(raw, bytes) or len(raw) != dtype.itemsize:
        raise pickle.UnpicklingError("Malformed numpy scalar in a dataset file.")
    return np.frombuffer(raw, dtype=dtype)[0]


def _frombuffer(buf: Any, dtype_stub: Any, shape: Any, order: Any, axis_order: Any = None) -> Any:
    # Pickle protocol 5 writes contiguous arrays as `_frombuffer(bytes, dtype, shape, order)`.
    if not isinstance(dtype_stub, _DtypeStub) or dtype_stub.code.startswith("O"):
        raise pickle.UnpicklingError("Refusing `_frombuffer` of an object dtype.")
    if not isinstance(buf, (bytes, bytearray)) or order not in ("C", "F", "K"):
        raise pickle.UnpicklingError("Malformed `_frombuffer` arguments in a dataset file.")
    if not isinstance(shape, tuple) or not all(type(d) is int and d >= 0 for d in shape):
        raise pickle.UnpicklingError(f"Malformed numpy array shape {shape!r}.")
    dtype = dtype_stub.dtype()
    if len(buf) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise pickle.UnpicklingError("Numpy array data does not match its shape and dtype.")
    flat = np.frombuffer(bytes(buf), dtype=dtype)
    if order == "K" and axis_order is not None:
        if sorted(axis_order) != list(range(len(shape))):
            raise pickle.UnpicklingError(f"Malformed numpy axis order {axis_order!r}.")
        return _native(flat.reshape(shape).transpose(axis_order))
    return _native(flat.reshape(shape, order="C" if order == "K" else order))


def _empty_bytes(*args: Any) -> bytes:
    # Python 3 writes b"" in protocol-2 pickles as `bytes()`.
    if args:
        raise pickle.UnpicklingError("Refusing `bytes(...)` with arguments in a dataset file.")
    return b""


def _codecs_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # Python 3 writes bytes in protocol-2 pickles as `_codecs.encode(str, "latin1")`.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("Refusing `_codecs.encode` other than str to latin1 bytes.")
    return text.encode("latin1")


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _RECONSTRUCT:
            return _reconstruct
        if key in _SCALAR:
            return _scalar
        if key in _FROMBUFFER:
            return _frombuffer
        if key == ("numpy", "ndarray"):
            return _NdarrayToken
        if key == ("numpy", "dtype"):
            return _DtypeStub
        if key == ("_codecs", "encode"):
            return _codecs_encode
        if key in (("__builtin__", "bytes"), ("builtins", "bytes")):
            return _empty_bytes
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}` from a dataset file: only numpy arrays are "
            "allowed. The file may be corrupted or malicious."
        )

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("Refusing a persistent id in a dataset file.")


_PLAIN = frozenset({int, float, bool, str, bytes, type(None)})


def _resolve(obj: Any, memo: dict[int, Any]) -> Any:
    """Replaces the stand-ins in an unpickled tree by real arrays (and dtypes)."""
    if id(obj) in memo:
        return memo[id(obj)]
    if isinstance(obj, _ArrayStub):
        if not hasattr(obj, "array"):
            raise pickle.UnpicklingError("A numpy array in the dataset file has no data.")
        out = obj.array
    elif isinstance(obj, _DtypeStub):
        out = obj.dtype()
    elif isinstance(obj, (_NdarrayToken, type)) or callable(obj):
        raise pickle.UnpicklingError("A dataset file holds a bare type or function.")
    elif isinstance(obj, list) and set(map(type, obj)) <= _PLAIN:
        out = obj  # the common case (a sequence of word indices): nothing to replace
    elif isinstance(obj, list):
        out = memo[id(obj)] = []
        out.extend(_resolve(item, memo) for item in obj)
    elif isinstance(obj, dict):
        out = memo[id(obj)] = {}
        out.update((_resolve(k, memo), _resolve(v, memo)) for k, v in obj.items())
    elif isinstance(obj, tuple):
        out = tuple(_resolve(item, memo) for item in obj)
    else:
        out = obj
    memo[id(obj)] = out
    return out


def safe_unpickle(data: bytes, encoding: str = "bytes") -> Any:
    """Unpickles `data` that may only hold Python containers, numbers, strings and numpy arrays.

    Args:
        data: the pickle stream.
        encoding: how Python 2 `str` objects are decoded ("bytes" keeps them as bytes, as
            Keras's CIFAR reader does; "latin1" as numpy's `np.load` advises).

    Raises:
        pickle.UnpicklingError: the stream names anything but numpy's array-rebuilding names,
            or an array's parts do not fit together.
    """
    try:
        return _resolve(_SafeUnpickler(io.BytesIO(data), encoding=encoding).load(), {})
    except (AttributeError, TypeError, IndexError, KeyError) as err:
        raise pickle.UnpicklingError(f"Malformed pickle in a dataset file: {err}") from err


def load_npz(path: str) -> dict[str, np.ndarray]:
    """Reads every array of an `.npz` file; object arrays through `safe_unpickle`.

    Numeric members are read by numpy with `allow_pickle=False`; a member whose header declares
    an object dtype is read by `safe_unpickle` instead of numpy's unrestricted pickle.
    """
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                arrays[member[:-4]] = _read_npy(io.BytesIO(archive.read(member)), path)
    return arrays


def _read_npy(fp: io.BytesIO, path: str) -> np.ndarray:
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        _, _, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version in ((2, 0), (3, 0)):
        # 3.0 differs from 2.0 only in the header's text encoding, not its layout.
        _, _, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"Unsupported .npy format version {version} in {path}.")
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    array = safe_unpickle(fp.read(), encoding="latin1")
    if not isinstance(array, np.ndarray):
        raise ValueError(f"An object member of {path} does not hold a numpy array.")
    return array
