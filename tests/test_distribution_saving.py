"""A model trained under ModelParallel (8 fake CPU devices) saves and loads like any other:
its sharded weights are gathered, and the files load without a distribution."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import os, sys
    import numpy as np
    import fkeras as keras
    from fkeras import distribution as dist
    out = sys.argv[1]
    mesh = dist.DeviceMesh((2, 4), ["batch", "model"])
    lm = dist.LayoutMap(mesh)
    lm[".*d1/kernel"] = (None, "model")
    lm[".*d1/bias"] = ("model",)
    dist.set_distribution(dist.ModelParallel(layout_map=lm, batch_dim_name="batch"))
    def build():
        return keras.Sequential([keras.layers.Dense(16, activation="relu", input_dim=8, name="d1"),
                                 keras.layers.Dense(2, name="d2")])
    m = build()
    m.compile("adam", "mse")
    rng = np.random.RandomState(0)
    x, y = rng.rand(64, 8).astype("float32"), rng.rand(64, 2).astype("float32")
    m.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert "model" in str(m.layers[0].weights[0].value.sharding.spec), m.layers[0].weights[0].value.sharding
    p = m.predict(x, verbose=0)
    m.save(os.path.join(out, "m.keras"))
    m.save_weights(os.path.join(out, "m.weights.h5"))
    dist.set_distribution(None)
    m2 = keras.models.load_model(os.path.join(out, "m.keras"))
    np.testing.assert_allclose(m2.predict(x, verbose=0), p, atol=1e-6)
    m3 = build()
    m3.load_weights(os.path.join(out, "m.weights.h5"))
    np.testing.assert_allclose(m3.predict(x, verbose=0), p, atol=1e-6)
    print("OK")
''')


def test_sharded_model_saves_and_loads(tmp_path):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr[-3000:]
