"""Atomic file writes: a save either completes or leaves the previous file untouched.

Every writer in `fkeras.saving` writes into a temporary file in the destination's directory
(same filesystem, so the final rename is atomic), flushes it to disk with `fsync`, and only then
renames it over the destination with `os.replace`. If anything raises before the rename, the
temporary file is removed and an existing file at the destination is exactly as it was.
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator

_MODE_CACHE: list[int] = []


def _default_file_mode() -> int:
    """The mode a plain `open(path, 'w')` would give a new file (0o666 minus the umask).

    `mkstemp` creates files readable by the owner only; a saved model should get the usual
    permissions instead. The umask can only be read by setting it, so read it once.
    """
    if not _MODE_CACHE:
        umask = os.umask(0o022)
        os.umask(umask)
        _MODE_CACHE.append(0o666 & ~umask)
    return _MODE_CACHE[0]


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(dirpath: str) -> None:
    # Makes the rename itself durable. Not every platform can open a directory (Windows).
    try:
        fd = os.open(dirpath, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(filepath: str | os.PathLike) -> Iterator[str]:
    """Yields a temporary path beside `filepath`; on a clean exit it becomes `filepath`.

    The caller writes the whole file to the yielded path (and closes it). On success the file
    is fsynced and renamed over `filepath` with `os.replace`; on an exception it is deleted
    and `filepath` is left as it was.

    Example:
        >>> with atomic_path("model.keras") as tmp:
        ...     write_everything_to(tmp)
    """
    filepath = os.fspath(filepath)
    dirpath = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(dirpath, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dirpath, prefix=f".{os.path.basename(filepath)}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        mode = (
            os.stat(filepath).st_mode & 0o777 if os.path.exists(filepath) else _default_file_mode()
        )
        os.chmod(tmp, mode)
        _fsync_path(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(dirpath)


def ask_to_proceed_with_overwrite(filepath: str | os.PathLike) -> bool:
    """Asks on the terminal whether to overwrite `filepath` (Keras's prompt); True for yes."""
    answer = (
        input(f"[WARNING] {os.fspath(filepath)} already exists - overwrite? [y/n]").strip().lower()
    )
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


def may_write(filepath: str | os.PathLike, overwrite: bool) -> bool:
    """Whether a save to `filepath` should go ahead: always with `overwrite=True`, else only
    if the file does not exist or the user confirms at the prompt (as Keras does)."""
    if overwrite or not os.path.exists(filepath):
        return True
    return ask_to_proceed_with_overwrite(filepath)
