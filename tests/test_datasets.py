"""fkeras.datasets: loaders on small files written in Keras's real formats, against Keras 3's own
loaders reading the same files; the safe (no-code) readers; the missing-file error; downloads."""

import dataclasses
import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import tarfile
import zipfile

import numpy as np
import pytest

import fkeras.compat
from fkeras import _config
from fkeras.datasets import (
    _files,
    boston_housing,
    cifar10,
    cifar100,
    digits,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

# ---------------------------------------------------------------------------------------------
# Writers of small files in the real formats.


def _uint8(rng, shape, high=256):
    return rng.integers(0, high, shape, dtype=np.uint8)


def write_mnist(folder, name="mnist.npz"):
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": _uint8(rng, (6, 28, 28)),
        "y_train": _uint8(rng, (6,), 10),
        "x_test": _uint8(rng, (4, 28, 28)),
        "y_test": _uint8(rng, (4,), 10),
    }
    np.savez(os.path.join(folder, name), **arrays)
    return arrays


def _write_idx_gz(path, array):
    header = struct.pack(">" + "I" * (1 + array.ndim), 2048 + array.ndim, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_fashion(folder):
    arrays = write_mnist(folder, "unused.npz")
    os.makedirs(os.path.join(folder, "fashion-mnist"))
    order = ("y_train", "x_train", "y_test", "x_test")
    for fname, key in zip(fashion_mnist.FILES, order):
        _write_idx_gz(os.path.join(folder, "fashion-mnist", fname), arrays[key])
    return arrays


def _ragged(rng, n, vocab):
    return [[int(w) for w in rng.integers(1, vocab, rng.integers(1, 10))] for _ in range(n)]


def _objects(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out


def write_imdb(folder, name="imdb.npz"):
    rng = np.random.default_rng(2)
    raw = {"x_train": _ragged(rng, 12, 30), "x_test": _ragged(rng, 9, 40)}
    raw["y_train"], raw["y_test"] = rng.integers(0, 2, 12), rng.integers(0, 2, 9)
    np.savez(os.path.join(folder, name), **{k: _objects(v) if k[0] == "x" else v
                                             for k, v in raw.items()})
    return raw


def write_reuters(folder):
    rng = np.random.default_rng(3)
    raw = {"x": _ragged(rng, 20, 50), "y": rng.integers(0, 46, 20)}
    np.savez(os.path.join(folder, "reuters.npz"), x=_objects(raw["x"]), y=raw["y"])
    return raw


def write_boston(folder):
    rng = np.random.default_rng(4)
    raw = {"x": rng.normal(size=(21, 13)), "y": rng.uniform(10, 50, size=21)}
    np.savez(os.path.join(folder, "boston_housing.npz"), **raw)
    return raw


class _Py2Pickler(pickle._Pickler):
    """Writes strings and bytes as Python 2 `str` (BINSTRING), as the CIFAR batches were made."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_str8(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = _save_str8
    dispatch[bytes] = _save_str8


def py2_pickle(obj):
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    # The published batches name numpy 1's module.
    return buf.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


def make_cifar(hundred):
    """Images (n, 3, 32, 32), labels, and each version's members for CIFAR-10 or -100."""
    rng = np.random.default_rng(5)
    sizes = [7, 3] if hundred else [2, 3, 2, 1, 2, 3]
    parts = []
    for n in sizes:
        x = _uint8(rng, (n, 3, 32, 32))
        labels = {"fine_labels": rng.integers(0, 100, n), "coarse_labels": rng.integers(0, 20, n)}
        parts.append((x, labels) if hundred else (x, {"labels": rng.integers(0, 10, n)}))
    spec = cifar100.CIFAR100 if hundred else cifar10.CIFAR10
    py, binary = {}, {}
    for (x, labels), py_name, bin_name in zip(parts, spec.py_members, spec.bin_members):
        batch = {"batch_label": "a batch", "data": x.reshape(len(x), -1),
                 "filenames": [f"img{i}.png" for i in range(len(x))]}
        batch.update({k: [int(v) for v in vals] for k, vals in labels.items()})
        py[f"{spec.py_dir}/{py_name}"] = py2_pickle(batch)
        label_cols = [labels[k][:, None].astype(np.uint8) for k in spec.bin_label_keys]
        rows = np.concatenate(label_cols + [x.reshape(len(x), -1)], axis=1)
        binary[f"{spec.bin_dir}/{bin_name}"] = rows.tobytes()
    return spec, parts, py, binary


def write_tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def write_tree(folder, members):
    for name, blob in members.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(blob)


# ---------------------------------------------------------------------------------------------
# Fixtures: one data folder for fkeras, and the same folder as Keras 3's cache.


@pytest.fixture
def data(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    folder.mkdir()
    monkeypatch.setenv("FKERAS_DATA", str(folder))
    monkeypatch.delenv("FKERAS_DOWNLOAD", raising=False)
    return str(folder)


@pytest.fixture
def keras_cache(keras3, tmp_path, monkeypatch):
    from keras.src.backend import config
    from keras.src.utils import file_utils

    home = tmp_path / "keras_home"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    # The small files do not match Keras's checksums; without this Keras would re-download.
    monkeypatch.setattr(file_utils, "validate_file", lambda *args, **kwargs: True)
    monkeypatch.setenv("FKERAS_DATA", str(home / "datasets"))
    monkeypatch.delenv("FKERAS_DOWNLOAD", raising=False)
    return keras3, str(home / "datasets")


def assert_same_split(got, expected):
    for (gx, gy), (ex, ey) in zip(got, expected):
        assert len(gx) == len(ex)
        if gx.dtype == object:
            assert [list(s) for s in gx] == [list(s) for s in ex]
        else:
            assert gx.dtype == ex.dtype and gx.shape == ex.shape
            np.testing.assert_array_equal(gx, ex)
        assert gy.dtype == ey.dtype and gy.shape == ey.shape
        np.testing.assert_array_equal(gy, ey)


# ---------------------------------------------------------------------------------------------
# Image datasets.


def test_mnist_values_and_keras3_parity(keras_cache):
    keras, folder = keras_cache
    arrays = write_mnist(folder)
    got = mnist.load_data()
    assert_same_split(got, keras.datasets.mnist.load_data())
    np.testing.assert_array_equal(got[0][0], arrays["x_train"])
    assert got[0][0].dtype == np.uint8 and got[1][1].shape == (4,)


def test_mnist_path_with_folder(tmp_path, data):
    arrays = write_mnist(str(tmp_path), "elsewhere.npz")
    (x, _), _ = mnist.load_data(str(tmp_path / "elsewhere.npz"))
    np.testing.assert_array_equal(x, arrays["x_train"])


def test_fashion_mnist_values_and_keras3_parity(keras_cache):
    keras, folder = keras_cache
    arrays = write_fashion(folder)
    got = fashion_mnist.load_data()
    assert_same_split(got, keras.datasets.fashion_mnist.load_data())
    np.testing.assert_array_equal(got[1][0], arrays["x_test"])
    assert got[1][0].shape == (4, 28, 28) and got[1][0].flags.writeable


def test_fashion_mnist_rejects_a_wrong_header(data):
    write_fashion(data)
    path = os.path.join(data, "fashion-mnist", fashion_mnist.FILES[0])
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">II", 2051, 6) + bytes(6))
    with pytest.raises(ValueError, match="not an IDX file"):
        fashion_mnist.load_data()


def _expected_cifar(parts, label_key, dtype):
    x_train = np.concatenate([x for x, _ in parts[:-1]]).transpose(0, 2, 3, 1)
    y_train = np.concatenate([y[label_key] for _, y in parts[:-1]]).astype(dtype)[:, None]
    x_test, y_test = parts[-1][0].transpose(0, 2, 3, 1), parts[-1][1][label_key]
    return (x_train, y_train), (x_test, y_test.astype(dtype)[:, None])


# (where the files are, relative to the data folder; which version)
CIFAR_LAYOUTS = [
    ("{keras_dir}_archive", "py"),  # Keras 3's download
    ("{py_dir}.tar.gz", "py"),  # Keras 2's download
    ("{archive}", "py"),  # as published
    ("{bin_archive}", "bin"),
    ("{keras_dir}/", "py"),  # Keras 3's extraction
    ("", "py"),  # Keras 2's extraction, or unpacked by hand
    ("", "bin"),
]


@pytest.mark.parametrize("hundred", [False, True], ids=["cifar10", "cifar100"])
@pytest.mark.parametrize("where,version", CIFAR_LAYOUTS)
def test_cifar_every_layout_and_version(data, hundred, where, version):
    spec, parts, py, binary = make_cifar(hundred)
    members = py if version == "py" else binary
    where = where.format(**dataclasses.asdict(spec))
    if where and not where.endswith("/"):
        write_tar(os.path.join(data, where), members)
    else:
        write_tree(os.path.join(data, where), members)
    if hundred:
        expected = _expected_cifar(parts, "fine_labels", "int64")
    else:
        expected = _expected_cifar(parts, "labels", "uint8")
    assert_same_split((cifar100 if hundred else cifar10).load_data(), expected)


@pytest.mark.parametrize("version", ["py", "bin"])
def test_cifar100_coarse_labels_and_channels_first(data, version):
    spec, parts, py, binary = make_cifar(True)
    write_tar(os.path.join(data, spec.archive if version == "py" else spec.bin_archive),
              py if version == "py" else binary)
    expected = _expected_cifar(parts, "coarse_labels", "int64")
    assert_same_split(cifar100.load_data("coarse"), expected)
    _config.set_image_data_format("channels_first")
    try:
        (x_train, _), (x_test, _) = cifar100.load_data(label_mode="coarse")
    finally:
        _config.set_image_data_format("channels_last")
    np.testing.assert_array_equal(x_test, parts[-1][0])
    assert x_train.shape == (7, 3, 32, 32)


def test_cifar100_label_mode_is_checked(data):
    with pytest.raises(ValueError, match="label_mode='medium'"):
        cifar100.load_data("medium")


def test_cifar100_keras3_parity(keras_cache):
    keras, folder = keras_cache
    spec, _, py, _ = make_cifar(True)
    write_tar(os.path.join(folder, spec.keras_dir + "_archive"), py)
    from_archive = cifar100.load_data()
    assert_same_split(from_archive, keras.datasets.cifar100.load_data())  # Keras extracts it
    assert os.path.isdir(os.path.join(folder, spec.keras_dir, spec.py_dir))
    assert_same_split(cifar100.load_data(), from_archive)  # now read from Keras's extraction
    assert_same_split(cifar100.load_data("coarse"), keras.datasets.cifar100.load_data("coarse"))


def test_cifar10_batches_parse_like_keras3(keras_cache, tmp_path):
    # Keras's cifar10.load_data insists on 10,000 images per batch; compare batch by batch.
    from keras.src.datasets.cifar import load_batch

    spec, parts, py, _ = make_cifar(False)
    write_tree(str(tmp_path), py)
    for (x, labels), member in zip(parts, spec.py_members):
        data, klabels = load_batch(os.path.join(tmp_path, spec.py_dir, member))
        np.testing.assert_array_equal(data, x)
        np.testing.assert_array_equal(klabels, labels["labels"])
        got_x, got_y = cifar10._parse_py(py[f"{spec.py_dir}/{member}"], member, "labels")
        np.testing.assert_array_equal(got_x, data)
        np.testing.assert_array_equal(got_y, klabels)


# ---------------------------------------------------------------------------------------------
# Sequence datasets.

SEQUENCE_ARGS = [
    {},
    {"num_words": 12},
    {"skip_top": 6},
    {"maxlen": 6},
    {"seed": 7},
    {"start_char": None},
    {"oov_char": None, "num_words": 12},
    {"index_from": 0},
    {"num_words": 15, "skip_top": 4, "maxlen": 8, "index_from": 2, "start_char": 9, "oov_char": 8},
]


@pytest.mark.parametrize("kwargs", SEQUENCE_ARGS, ids=lambda k: ",".join(k) or "defaults")
def test_imdb_matches_keras3(keras_cache, kwargs):
    keras, folder = keras_cache
    write_imdb(folder)
    assert_same_split(imdb.load_data(**kwargs), keras.datasets.imdb.load_data(**kwargs))


@pytest.mark.parametrize(
    "kwargs", SEQUENCE_ARGS + [{"test_split": 0.27}, {"test_split": 0.0, "maxlen": 7}],
    ids=lambda k: ",".join(k) or "defaults",
)
def test_reuters_matches_keras3(keras_cache, kwargs):
    keras, folder = keras_cache
    write_reuters(folder)
    assert_same_split(reuters.load_data(**kwargs), keras.datasets.reuters.load_data(**kwargs))


def _perm(n, seed=113):
    indices = np.arange(n)
    np.random.RandomState(seed).shuffle(indices)
    return indices


def test_imdb_arguments_hand_computed(data):
    raw = write_imdb(data)
    perm = _perm(12)
    (x, y), (x_test, _) = imdb.load_data(num_words=20, index_from=3)
    np.testing.assert_array_equal(y, raw["y_train"][perm])
    for got, src in zip(x, [raw["x_train"][i] for i in perm]):
        assert got == [1] + [w + 3 if w + 3 < 20 else 2 for w in src]
    assert isinstance(x, np.ndarray) and x.dtype == object and x.ndim == 1 and len(x_test) == 9
    # skip_top also covers the start character (Keras does the same).
    (x, _), _ = imdb.load_data(skip_top=5, num_words=100)
    assert x[0] == [2] + [w + 3 if w + 3 >= 5 else 2 for w in raw["x_train"][perm[0]]]
    (x, _), _ = imdb.load_data(start_char=None, index_from=0, num_words=100)
    assert x[0] == raw["x_train"][perm[0]]
    # maxlen keeps the sequences strictly shorter than maxlen, start character included.
    (x, y), _ = imdb.load_data(maxlen=5)
    kept = [i for i in perm if len(raw["x_train"][i]) + 1 < 5]
    assert len(x) == len(kept) and all(len(s) < 5 for s in x)
    np.testing.assert_array_equal(y, raw["y_train"][kept])


def test_imdb_errors_and_keras2_spelling(data):
    write_imdb(data)
    with pytest.raises(ValueError, match="maxlen=2"):
        imdb.load_data(maxlen=2)
    with pytest.raises(TypeError, match="num_wrds"):
        imdb.load_data(num_wrds=10)
    assert_same_split(imdb.load_data(nb_words=12), imdb.load_data(num_words=12))


def test_reuters_test_split_and_labels(data):
    raw = write_reuters(data)
    (x_train, y_train), (x_test, y_test) = reuters.load_data(test_split=0.27)
    assert (len(x_train), len(x_test)) == (14, 6)  # int(20 * 0.73), rounded down
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), raw["y"][_perm(20)])
    with pytest.raises(ValueError, match="test_split=1.5"):
        reuters.load_data(test_split=1.5)
    assert len(reuters.get_label_names()) == 46 and reuters.get_label_names()[3] == "earn"


@pytest.mark.parametrize("module,fname", [(imdb, "imdb_word_index.json"),
                                          (reuters, "reuters_word_index.json")])
def test_get_word_index(data, module, fname):
    with pytest.raises(FileNotFoundError, match=fname):
        module.get_word_index()
    with open(os.path.join(data, fname), "w") as f:
        json.dump({"the": 1, "film": 2}, f)
    assert module.get_word_index() == {"the": 1, "film": 2}


# ---------------------------------------------------------------------------------------------
# Tabular datasets.


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.5}, {"seed": 3}, {"test_split": 0.0}])
def test_boston_housing_matches_keras3(keras_cache, kwargs):
    keras, folder = keras_cache
    raw = write_boston(folder)
    got = boston_housing.load_data(**kwargs)
    assert_same_split(got, keras.datasets.boston_housing.load_data(**kwargs))
    n = int(21 * (1 - kwargs.get("test_split", 0.2)))
    assert got[0][0].shape == (n, 13) and got[1][1].shape == (21 - n,)
    np.testing.assert_array_equal(got[0][1], raw["y"][_perm(21, kwargs.get("seed", 113))][:n])


@pytest.mark.parametrize("module", [boston_housing, digits])
@pytest.mark.parametrize("test_split", [-0.1, 1.0])
def test_test_split_range_is_checked(data, module, test_split):
    with pytest.raises(ValueError, match=f"test_split={test_split}"):
        module.load_data(test_split=test_split)


def test_digits():
    from sklearn.datasets import load_digits

    images, target = load_digits(return_X_y=False).images, load_digits().target
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.max() == 16 and x_train.min() == 0
    perm = _perm(1797)
    np.testing.assert_array_equal(x_train, images[perm[:1437]].astype(np.uint8))
    np.testing.assert_array_equal(y_test, target[perm[1437:]])
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.5, seed=1)
    assert len(x_train) == 898
    np.testing.assert_array_equal(x_train, images[_perm(1797, 1)[:898]].astype(np.uint8))


def test_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        digits.load_data()


# ---------------------------------------------------------------------------------------------
# The missing-file error.

MISSING = [
    (mnist.load_data, "mnist.npz", mnist.ORIGIN),
    (fashion_mnist.load_data, "train-labels-idx1-ubyte.gz", _files.KERAS_ORIGIN),
    (cifar10.load_data, "cifar-10-python.tar.gz", cifar10.CIFAR10.origin),
    (cifar100.load_data, "cifar-100-python.tar.gz", cifar100.CIFAR100.origin),
    (imdb.load_data, "imdb.npz", imdb.ORIGIN),
    (reuters.load_data, "reuters.npz", reuters.ORIGIN),
    (boston_housing.load_data, "boston_housing.npz", boston_housing.ORIGIN),
]


@pytest.mark.parametrize("load,fname,url", MISSING, ids=[m[1] for m in MISSING])
def test_missing_file_says_which_where_and_url(data, load, fname, url):
    with pytest.raises(_files.DatasetNotFoundError) as info:
        load()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert fname in message and url in message and data in message
    assert "download=True" in message and "FKERAS_DOWNLOAD=1" in message
    assert info.value.looked_in and all(p.startswith(data) for p in info.value.looked_in)


def test_data_dir_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("FKERAS_DATA", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    assert _files.data_dir() == os.path.join(os.path.expanduser("~"), ".keras", "datasets")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert _files.data_dir() == os.path.join(str(tmp_path), "datasets")
    monkeypatch.setenv("FKERAS_DATA", str(tmp_path / "x"))
    assert _files.data_dir() == str(tmp_path / "x")


# ---------------------------------------------------------------------------------------------
# Downloads, from file:// URLs.


def _source(tmp_path, name, blob):
    path = tmp_path / "server" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(blob)
    return path.as_uri()


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_get_file_downloads_and_checks(tmp_path, data, algorithm):
    blob = b"some bytes" * 1000
    url = _source(tmp_path, "f.bin", blob)
    digest = hashlib.new(algorithm, blob).hexdigest()
    with pytest.raises(_files.DatasetNotFoundError, match="f.bin"):
        _files.get_file("f.bin", url, digest)
    path = _files.get_file("f.bin", url, digest, download=True)
    assert path == os.path.join(data, "f.bin")
    with open(path, "rb") as f:
        assert f.read() == blob
    assert _files.hash_file(path, algorithm) == digest
    os.remove(url[len("file://"):])  # now served from the folder, without the network
    assert _files.get_file("f.bin", url, digest, download=True) == path


def test_get_file_checksum_mismatch_leaves_nothing(tmp_path, data):
    url = _source(tmp_path, "f.bin", b"tampered")
    with pytest.raises(ValueError, match="checksum"):
        _files.get_file("f.bin", url, "0" * 64, download=True)
    assert os.listdir(data) == []


def test_get_file_argument_checks(data):
    with pytest.raises(ValueError, match="file_hash='abc'"):
        _files.get_file("f", "file:///x", file_hash="abc", download=True)
    with pytest.raises(ValueError, match="origin='ftp://x/f'"):
        _files.get_file("f", "ftp://x/f", download=True)
    with pytest.raises(ValueError, match="fname='a/b'"):
        _files.get_file("a/b", "file:///x")


def test_keras_get_file_downloads_like_keras(tmp_path, data, monkeypatch):
    """`keras.utils.get_file` (Keras's signature) downloads by default, into
    `cache_dir/cache_subdir`; `FKERAS_DOWNLOAD=0` forbids the network."""
    from fkeras.utils import get_file

    blob = b"text " * 100
    url = _source(tmp_path, "corpus.txt", blob)
    path = get_file("corpus.txt", origin=url, md5_hash=hashlib.md5(blob).hexdigest())
    assert path == os.path.join(data, "corpus.txt")  # the default subfolder is the loaders' folder
    custom = get_file(origin=url, cache_dir=tmp_path / "home", cache_subdir="texts")
    assert custom == os.path.join(str(tmp_path / "home"), "texts", "corpus.txt")
    with open(custom, "rb") as f:
        assert f.read() == blob
    (tmp_path / "server" / "corpus.txt").write_bytes(b"new")
    assert open(get_file(origin=url, cache_dir=tmp_path / "home", cache_subdir="texts"), "rb").read() == blob
    forced = get_file(origin=url, cache_dir=tmp_path / "home", cache_subdir="texts", force_download=True)
    assert open(forced, "rb").read() == b"new"
    monkeypatch.setenv("FKERAS_DOWNLOAD", "0")
    with pytest.raises(_files.DatasetNotFoundError, match="other.txt"):
        get_file("other.txt", origin=url)
    monkeypatch.delenv("FKERAS_DOWNLOAD")
    with pytest.raises(ConnectionError, match="Could not download .*by hand"):
        get_file("missing.txt", origin=(tmp_path / "nowhere.txt").as_uri())
    with pytest.raises(ValueError, match="`origin`.*required"):
        get_file("x.txt")
    with pytest.raises(ValueError, match="not a sha256 digest"):
        get_file("x.txt", origin=url, file_hash="ab", hash_algorithm="sha256")
    with fkeras.compat.as_keras():
        from keras.utils.data_utils import get_file as keras2_get_file  # noqa: I001
    assert keras2_get_file is get_file


def test_loader_download_by_environment(tmp_path, data, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    arrays = write_mnist(str(src))
    blob = (src / "mnist.npz").read_bytes()
    monkeypatch.setattr(mnist, "ORIGIN", (src / "mnist.npz").as_uri())
    monkeypatch.setattr(mnist, "SHA256", hashlib.sha256(blob).hexdigest())
    monkeypatch.setenv("FKERAS_DOWNLOAD", "1")
    (x, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x, arrays["x_train"])
    assert os.path.isfile(os.path.join(data, "mnist.npz"))


def test_cifar_download_extracts_in_keras3_layout(tmp_path, data, monkeypatch):
    spec, parts, py, _ = make_cifar(False)
    write_tar(str(tmp_path / "c.tar.gz"), py)
    blob = (tmp_path / "c.tar.gz").read_bytes()
    spec = dataclasses.replace(spec, origin=(tmp_path / "c.tar.gz").as_uri(),
                               sha256=hashlib.sha256(blob).hexdigest())
    monkeypatch.setattr(cifar10, "CIFAR10", spec)
    assert_same_split(cifar10.load_data(download=True), _expected_cifar(parts, "labels", "uint8"))
    assert os.path.isfile(os.path.join(data, spec.keras_dir, spec.py_dir, "test_batch"))
    assert os.path.isfile(os.path.join(data, spec.keras_dir + "_archive"))


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_get_file_extracts_archives(tmp_path, data, kind):
    members = {"top/a.txt": b"a", "top/sub/b.txt": b"b"}
    archive = tmp_path / f"arch.{kind}"
    if kind == "tar":
        write_tar(str(archive), members)
    else:
        with zipfile.ZipFile(archive, "w") as zf:
            for name, blob in members.items():
                zf.writestr(name, blob)
    url = archive.as_uri()
    target = _files.get_file("stuff", url, extract=True, download=True)
    assert target == os.path.join(data, "stuff")
    with open(os.path.join(target, "top", "sub", "b.txt"), "rb") as f:
        assert f.read() == b"b"
    target = _files.get_file(f"arch.{kind}", url, extract=True, download=True)
    assert target == os.path.join(data, "arch_extracted")
    expected = [f"arch.{kind}", "arch_extracted", "stuff", "stuff_archive"]
    assert sorted(os.listdir(data)) == expected


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_extraction_refuses_paths_outside(tmp_path, data, kind):
    archive = tmp_path / f"evil.{kind}"
    members = {"ok.txt": b"fine", "../escaped.txt": b"evil"}
    if kind == "tar":
        write_tar(str(archive), members)
    else:
        with zipfile.ZipFile(archive, "w") as zf:
            for name, blob in members.items():
                zf.writestr(name, blob)
    with pytest.raises((ValueError, tarfile.TarError)):
        _files.get_file("evil", archive.as_uri(), extract=True, download=True)
    # Only the downloaded archive is left: no extraction folder, no escaped or temporary files.
    assert os.listdir(data) == ["evil_archive"]
    assert not (tmp_path / "escaped.txt").exists()


# ---------------------------------------------------------------------------------------------
# The safe unpickler: numpy arrays in, nothing callable out.

SAFE_OBJECTS = {
    "uint8": np.arange(12, dtype=np.uint8).reshape(3, 4),
    "big-endian": np.arange(6, dtype=">i4").reshape(2, 3),
    "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "float16": np.linspace(0, 1, 5).astype(np.float16),
    "bool": np.array([True, False]),
    "empty": np.zeros((0, 3), np.int64),
    "ragged": _objects([[1, 2, 3], [4], []]),
    "nested": _objects([np.arange(3), np.ones((2, 2))]),
    "scalars": [np.int64(3), np.float32(1.5)],
    "dict": {b"data": np.arange(4, dtype=np.uint8), b"labels": [1, 2], "name": "x"},
}


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("name", list(SAFE_OBJECTS))
def test_safe_unpickle_round_trips_numpy_data(name, protocol):
    obj = SAFE_OBJECTS[name]
    got = _files.safe_unpickle(pickle.dumps(obj, protocol=protocol))
    pickle_view = pickle.loads(pickle.dumps(obj, protocol=protocol))
    assert type(got) is type(pickle_view)
    for g, e in zip(got.values() if isinstance(got, dict) else [got],
                    pickle_view.values() if isinstance(got, dict) else [pickle_view]):
        if isinstance(e, np.ndarray) and e.dtype == object:
            assert g.dtype == object and len(g) == len(e)
            for gi, ei in zip(g, e):
                np.testing.assert_array_equal(gi, ei)
        elif isinstance(e, np.ndarray):
            assert g.dtype == e.dtype.newbyteorder("=") and g.dtype.isnative
            assert g.shape == e.shape and g.flags.writeable
            np.testing.assert_array_equal(g, e)
        else:
            assert g == e and [type(v) for v in np.ravel(g)] == [type(v) for v in np.ravel(e)]


class _Gadget:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_cifar_batch_with_code_is_refused(tmp_path, data):
    spec, _, py, _ = make_cifar(False)
    marker = tmp_path / "pwned"
    py[f"{spec.py_dir}/test_batch"] = pickle.dumps({b"data": _Gadget(marker), b"labels": []})
    write_tar(os.path.join(data, spec.archive), py)
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load `(posix|os|nt).system`"):
        cifar10.load_data()
    assert not marker.exists()


def test_npz_object_member_with_code_is_refused(tmp_path, data):
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _Gadget(marker)
    np.savez(os.path.join(data, "imdb.npz"), x_train=payload, y_train=np.zeros(1),
             x_test=payload, y_test=np.zeros(1))
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        imdb.load_data()
    assert not marker.exists()


class _ForgedArray:
    """Pickles as numpy's own `_reconstruct` call, with parts that do not fit together."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    def __reduce__(self):
        return (np._core.multiarray._reconstruct, (self.cls, (0,), b"b"), self.state)


FORGED = {
    "short data": _ForgedArray(np.ndarray, (1, (10,), np.dtype("u1"), False, b"abc")),
    "structured dtype": _ForgedArray(np.ndarray, (1, (1,), np.dtype([("a", "u1")]), False, b"a")),
    "object from bytes": _ForgedArray(np.ndarray, (1, (1,), np.dtype("O"), False, b"\0" * 8)),
    "subclass": _ForgedArray(np.ma.MaskedArray, (1, (1,), np.dtype("u1"), False, b"a")),
    "unicode dtype": _ForgedArray(np.ndarray, (1, (1,), np.dtype("U1"), False, b"a" * 4)),
    "negative shape": _ForgedArray(np.ndarray, (1, (-1,), np.dtype("u1"), False, b"a")),
    "builtins.eval": eval,
}


@pytest.mark.parametrize("name", list(FORGED))
def test_safe_unpickle_refuses_forged_arrays(name):
    with pytest.raises(pickle.UnpicklingError):
        _files.safe_unpickle(pickle.dumps(FORGED[name], protocol=2))


def test_load_npz_numeric_members_without_pickle(tmp_path):
    path = str(tmp_path / "n.npz")
    np.savez(path, a=np.arange(5), b=np.ones((2, 3), np.float32))
    got = _files.load_npz(path)
    np.testing.assert_array_equal(got["a"], np.arange(5))
    assert got["b"].dtype == np.float32 and got["b"].shape == (2, 3)
