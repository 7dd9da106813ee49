"""`keras.utils.get_file` with Keras's signature (Keras 2's `keras.utils.data_utils.get_file`)."""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.parse

from fkeras.datasets import _files

_FALSE = ("0", "false", "no", "off")


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Returns the path of `fname` in `cache_dir/cache_subdir`, downloading it from `origin`
    when it is not there yet (as Keras does; set `FKERAS_DOWNLOAD=0` to forbid the network, and
    a missing file raises an error naming where it was looked for).

    Args:
        fname: the file's name; None: the last part of `origin`'s path.
        origin: the URL (`https://`, `http://` or `file://`).
        untar: Keras 2's spelling of `extract=True` for tar archives.
        md5_hash: Keras 2's spelling of `file_hash` for an md5 digest.
        file_hash: the expected sha256 or md5 hex digest of the download; None: no check.
        cache_subdir: the folder under `cache_dir` (an absolute path is used as it is).
        hash_algorithm: "auto", "sha256" or "md5" (the digest's length tells them apart).
        extract: unpack a tar (gzip/bz2/xz) or zip archive; the extraction folder's path is
            returned, laid out as Keras 3 does.
        archive_format: "auto", "tar", "zip" or None; the archive's own format is used.
        cache_dir: default `$KERAS_HOME` or `~/.keras` (`$FKERAS_DATA` for the default
            "datasets" subfolder, as fkeras's dataset loaders read it).
        force_download: download again even if the file is there.

    Returns:
        The local path of the file (or of the extraction folder).
    """
    if not origin or not isinstance(origin, str):
        raise ValueError(
            f"`origin` (the URL to download from) is required. Received: origin={origin!r}"
        )
    if fname is None:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"`fname` cannot be derived from `origin`: pass it. Received: origin={origin!r}"
            )
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(
            "`hash_algorithm` must be 'auto', 'sha256' or 'md5'. "
            f"Received: hash_algorithm={hash_algorithm!r}"
        )
    if archive_format not in ("auto", "tar", "zip", None):
        raise ValueError(
            "`archive_format` must be 'auto', 'tar', 'zip' or None. "
            f"Received: archive_format={archive_format!r}"
        )
    digest = file_hash if file_hash is not None else md5_hash
    wanted = {"sha256": 64, "md5": 32}.get(hash_algorithm)
    if digest is not None and wanted is not None and len(str(digest)) != wanted:
        raise ValueError(
            f"`file_hash` is not a {hash_algorithm} digest ({wanted} hex digits). "
            f"Received: file_hash={digest!r}"
        )
    folder = _folder(cache_dir, cache_subdir)
    extract = bool(extract or untar)
    if force_download:
        for stale in _files.local_paths(fname, folder, extract):
            if os.path.isdir(stale):
                shutil.rmtree(stale)
            elif os.path.exists(stale):
                os.remove(stale)
    allowed = os.environ.get("FKERAS_DOWNLOAD", "").strip().lower() not in _FALSE
    try:
        return _files.get_file(
            fname, origin, digest, cache_dir=folder, extract=extract, download=allowed
        )
    except urllib.error.URLError as err:
        raise ConnectionError(
            f"Could not download {origin}: {err.reason}. Without a network, put the file at "
            f"{os.path.join(folder, fname)} by hand."
        ) from err


def _folder(cache_dir, cache_subdir) -> str:
    if cache_dir is None and cache_subdir == "datasets":
        return _files.data_dir()
    base = _files.keras_home() if cache_dir is None else os.path.expanduser(os.fspath(cache_dir))
    return os.path.join(base, cache_subdir)
