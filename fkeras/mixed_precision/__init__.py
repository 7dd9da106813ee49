"""Mixed precision: float16/bfloat16 computations with float32 variables (Keras's
`keras.mixed_precision`).

    import fkeras as keras
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = keras.Sequential([
        keras.layers.Dense(64, activation="relu", input_shape=(32,)),  # computes in float16
        keras.layers.Dense(10, activation="softmax", dtype="float32"),   # outputs float32
    ])
    model.compile("adam", "categorical_crossentropy")  # the optimizer gets loss scaling

A layer's policy decides the dtype of its variables (`layer.variable_dtype`, also
`layer.dtype`) and of its computations and outputs (`layer.compute_dtype`). Under
`'mixed_float16'`, `compile` wraps the optimizer in a `LossScaleOptimizer`: the loss is
multiplied by a dynamic scale before differentiation so small float16 gradients do not
underflow, and a step whose gradients overflow is skipped.

Keras 2's names work too: `Policy`, `global_policy`, `set_global_policy`, and
`experimental.set_policy` / `experimental.global_policy`.
"""

from fkeras.mixed_precision import experimental as experimental
from fkeras.mixed_precision._policy import DTypePolicy as DTypePolicy
from fkeras.mixed_precision._policy import Policy as Policy
from fkeras.mixed_precision._policy import global_policy as dtype_policy
from fkeras.mixed_precision._policy import global_policy as global_policy
from fkeras.mixed_precision._policy import set_global_policy as set_dtype_policy
from fkeras.mixed_precision._policy import set_global_policy as set_global_policy
from fkeras.optimizers._loss_scale import LossScaleOptimizer as LossScaleOptimizer
