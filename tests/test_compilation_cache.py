"""`fkeras.config.enable_compilation_cache`: a second run of a script compiles nothing."""

import json
import os
import subprocess
import sys

import pytest

import fkeras

SCRIPT = r"""
import json, sys
import jax.monitoring as monitoring

counts = {}
monitoring.register_event_listener(lambda name, **kw: counts.__setitem__(name, counts.get(name, 0) + 1))

import numpy as np
import fkeras as keras

keras.utils.set_random_seed(0)
x = np.random.RandomState(0).rand(200, 8).astype("float32")
y = (x.sum(axis=1, keepdims=True) > 4).astype("float32")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dropout(0.2), keras.layers.Dense(1, activation="sigmoid")])
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_split=0.25)
model.evaluate(x, y, verbose=0)
model.predict(x[:7], verbose=0)
print(json.dumps({"loss": history.history["loss"], "hits": counts.get("/jax/compilation_cache/cache_hits", 0),
                  "misses": counts.get("/jax/compilation_cache/cache_misses", 0)}))
"""


def _run(tmp_path, cache_dir):
    env = dict(os.environ, FKERAS_COMPILATION_CACHE_DIR=str(cache_dir), JAX_PLATFORMS="cpu")
    root = os.path.dirname(os.path.dirname(os.path.abspath(fkeras.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_run_compiles_nothing(tmp_path):
    cache = tmp_path / "xla"
    first = _run(tmp_path, cache)
    assert first["misses"] > 0 and first["hits"] == 0
    assert any(cache.iterdir())
    second = _run(tmp_path, cache)
    assert second["misses"] == 0, second
    assert second["hits"] == first["misses"]
    assert second["loss"] == first["loss"]


def test_enable_compilation_cache_arguments(tmp_path, monkeypatch):
    import jax

    before = jax.config.jax_compilation_cache_dir
    try:
        path = fkeras.config.enable_compilation_cache(tmp_path / "c")
        assert path == str(tmp_path / "c") and os.path.isdir(path)
        assert jax.config.jax_compilation_cache_dir == path
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
    with pytest.raises(TypeError, match="directory"):
        fkeras.config.enable_compilation_cache(42)


def test_config_module_matches_keras_names():
    assert fkeras.config.backend() == "jax"
    assert fkeras.config.floatx() == "float32"
    assert fkeras.config.image_data_format() == "channels_last"
    assert fkeras.config.dtype_policy().name == "float32"
    for name in ("set_floatx", "set_epsilon", "enable_unsafe_deserialization", "set_dtype_policy",
                 "enable_traceback_filtering", "disable_traceback_filtering", "is_traceback_filtering_enabled"):
        assert callable(getattr(fkeras.config, name))
