"""Process-wide settings, as Keras 3's `keras.config`.

Besides Keras's own settings this module has one fkeras extension,
`enable_compilation_cache(directory)`: JAX's persistent compilation cache, tuned so that a second
run of the same script compiles nothing (every jitted train/eval/predict function is read back
from disk).
"""

from __future__ import annotations

import os

from fkeras._config import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from fkeras._traceback import (
    disable_traceback_filtering,
    enable_traceback_filtering,
    is_traceback_filtering_enabled,
)
from fkeras.layers._core_extra import enable_unsafe_deserialization
from fkeras.mixed_precision import global_policy as dtype_policy
from fkeras.mixed_precision import set_global_policy as set_dtype_policy

__all__ = [
    "backend",
    "disable_traceback_filtering",
    "dtype_policy",
    "enable_compilation_cache",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_traceback_filtering_enabled",
    "set_dtype_policy",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]


def backend() -> str:
    """The name of the backend: always "jax" for fkeras."""
    return "jax"


def enable_compilation_cache(directory: str | os.PathLike | None = None) -> str:
    """Keep XLA's compiled programs on disk, so the next run of a script skips compilation.

    JAX's own defaults only store programs that took over a second to compile; a Keras model's
    train, eval and predict functions and the small helpers around them often take less, so here
    every program is stored. A second run of the same script (same model, shapes, jax version and
    device) then reads every program back instead of compiling it.

    Args:
        directory: where to keep the cache. Default: `$FKERAS_COMPILATION_CACHE_DIR`, else
            `~/.cache/fkeras/xla`.

    Returns:
        The cache directory in use.
    """
    import jax

    if directory is None:
        directory = os.environ.get("FKERAS_COMPILATION_CACHE_DIR") or os.path.join(
            os.path.expanduser("~"), ".cache", "fkeras", "xla"
        )
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(
            "enable_compilation_cache: `directory` must be a path. "
            f"Received: directory={directory!r}"
        )
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", directory)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return directory


if os.environ.get("FKERAS_COMPILATION_CACHE_DIR"):
    enable_compilation_cache()
