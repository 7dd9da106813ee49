"""Run unchanged Keras scripts on fkeras: `import keras` resolves to fkeras inside `as_keras()`.

    with fkeras.compat.as_keras():
        exec(open("keras_script.py").read())

or from the shell: `python -m fkeras.run keras_script.py [args...]`.
"""

import contextlib
import importlib
import sys

# keras module name -> fkeras module name
ALIASES = {
    "keras": "fkeras",
    "keras.activations": "fkeras.activations",
    "keras.backend": "fkeras.backend",
    "keras.callbacks": "fkeras.callbacks",
    "keras.constraints": "fkeras.constraints",
    "keras.datasets": "fkeras.datasets",
    "keras.initializers": "fkeras.initializers",
    "keras.layers": "fkeras.layers",
    "keras.losses": "fkeras.losses",
    "keras.metrics": "fkeras.metrics",
    "keras.models": "fkeras.models",
    "keras.ops": "fkeras.ops",
    "keras.optimizers": "fkeras.optimizers",
    "keras.preprocessing": "fkeras.preprocessing",
    "keras.preprocessing.image": "fkeras.preprocessing.image",
    "keras.preprocessing.sequence": "fkeras.preprocessing.sequence",
    "keras.preprocessing.text": "fkeras.preprocessing.text",
    "keras.regularizers": "fkeras.regularizers",
    "keras.saving": "fkeras.saving",
    "keras.utils": "fkeras.utils",
    "keras.utils.np_utils": "fkeras.utils",
    "keras.utils.generic_utils": "fkeras.utils",
    "keras.utils.data_utils": "fkeras.utils",
    "keras.utils.vis_utils": "fkeras.utils",
}


@contextlib.contextmanager
def as_keras():
    """Make `import keras` (and its public submodules) give fkeras until the block ends."""
    saved = {name: sys.modules.get(name) for name in ALIASES}
    try:
        for name, target in ALIASES.items():
            sys.modules[name] = importlib.import_module(target)
        yield sys.modules["keras"]
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
