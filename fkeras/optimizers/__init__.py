"""Keras optimizers with Keras 3's numerics, each a pure optax `GradientTransformation` inside.

Example:
    >>> import jax.numpy as jnp, optax
    >>> opt = get("adam")                      # or Adam(learning_rate=1e-3)
    >>> tx = opt.transform()
    >>> params = {"w": jnp.ones(3)}
    >>> state = tx.init(params)
    >>> updates, state = tx.update({"w": jnp.ones(3)}, state, params)
    >>> params = optax.apply_updates(params, updates)
    >>> opt.learning_rate = 1e-4               # between steps: no retrace
    >>> state = opt.sync(state)
"""

from typing import Any

import optax

from fkeras import _custom_objects
from fkeras.optimizers import schedules as schedules
from fkeras.optimizers._algorithms import (
    ScaleByKerasAdadeltaState as ScaleByKerasAdadeltaState,
    ScaleByKerasAdagradState as ScaleByKerasAdagradState,
    ScaleByKerasAdamaxState as ScaleByKerasAdamaxState,
    ScaleByKerasAdamState as ScaleByKerasAdamState,
    ScaleByKerasFtrlState as ScaleByKerasFtrlState,
    ScaleByKerasLionState as ScaleByKerasLionState,
    ScaleByKerasNadamState as ScaleByKerasNadamState,
    ScaleByKerasRmspropState as ScaleByKerasRmspropState,
    ScaleByKerasSgdState as ScaleByKerasSgdState,
    scale_by_keras_adadelta as scale_by_keras_adadelta,
    scale_by_keras_adagrad as scale_by_keras_adagrad,
    scale_by_keras_adam as scale_by_keras_adam,
    scale_by_keras_adamax as scale_by_keras_adamax,
    scale_by_keras_ftrl as scale_by_keras_ftrl,
    scale_by_keras_lion as scale_by_keras_lion,
    scale_by_keras_nadam as scale_by_keras_nadam,
    scale_by_keras_rmsprop as scale_by_keras_rmsprop,
    scale_by_keras_sgd as scale_by_keras_sgd,
)
from fkeras.optimizers._base import (
    LearningRateVariable as LearningRateVariable,
    OptaxOptimizer as OptaxOptimizer,
    Optimizer as Optimizer,
)
from fkeras.optimizers._optimizers import (
    SGD as SGD,
    Adadelta as Adadelta,
    Adagrad as Adagrad,
    Adam as Adam,
    Adamax as Adamax,
    AdamW as AdamW,
    Ftrl as Ftrl,
    Lion as Lion,
    Nadam as Nadam,
    RMSprop as RMSprop,
)
from fkeras.optimizers._loss_scale import LossScaleOptimizer as LossScaleOptimizer
from fkeras.optimizers._transforms import (
    CountIterationsState as CountIterationsState,
    InjectLearningRateState as InjectLearningRateState,
    count_iterations as count_iterations,
    inject_learning_rate as inject_learning_rate,
    keras_clip_by_global_norm as keras_clip_by_global_norm,
    keras_clip_by_norm as keras_clip_by_norm,
    keras_gradient_clipping as keras_gradient_clipping,
    with_decoupled_weight_decay as with_decoupled_weight_decay,
)

# Keras 2's lowercase aliases (`from keras.optimizers import sgd`).
sgd = SGD
rmsprop = RMSprop
adagrad = Adagrad
adadelta = Adadelta
adam = Adam
adamw = AdamW
adamax = Adamax
nadam = Nadam
ftrl = Ftrl
lion = Lion

_BUILTINS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls
    for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Adamax, Nadam, Ftrl, Lion)
}
_BUILTINS["lossscaleoptimizer"] = LossScaleOptimizer  # deserialize only: it needs an inner optimizer


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Returns Keras 3's serialized form: `{'module', 'class_name', 'config', 'registered_name'}`.

    Raises:
        TypeError: if `optimizer` is not an `Optimizer` (or has no config, like `OptaxOptimizer`).
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"`serialize` expects an fkeras Optimizer. Received: optimizer={optimizer!r}"
        )
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    """Rebuilds an optimizer from `{'class_name': ..., 'config': ...}` (fkeras, Keras 3 or 2).

    Built-in class names match case-insensitively ('adam', 'Adam', 'rmsprop').

    Args:
        config: the serialized optimizer.
        custom_objects: extra optimizer classes (or schedules) by name, looked up first.

    Raises:
        ValueError: for a malformed config or an unknown class name.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Expected a dict with 'class_name' and 'config' to deserialize an optimizer. "
            f"Received: config={config!r}"
        )
    name = config["class_name"]
    custom = _custom_objects.merged(custom_objects)
    cls = custom.get(name) or _BUILTINS.get(str(name).lower())
    if cls is None:
        raise ValueError(
            f"Unknown optimizer: '{name}'. Expected one of {sorted(_BUILTINS)} or a class "
            f"passed in `custom_objects`. Received: class_name={name!r}"
        )
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """Retrieves an optimizer.

    Args:
        identifier: `None`; a name ('sgd', 'rmsprop', 'adam', 'adagrad', 'adadelta', 'adamax',
            'nadam', 'adamw', 'ftrl', 'lion'; any case), giving a new optimizer with Keras 3's
            defaults; a serialized dict; an `Optimizer` (returned as is); or an
            `optax.GradientTransformation` (wrapped in an `OptaxOptimizer`).

    Raises:
        ValueError: for an unknown name or an identifier of another kind.
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, optax.GradientTransformation):
        return OptaxOptimizer(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BUILTINS.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Unknown optimizer: '{identifier}'. Expected one of {sorted(_BUILTINS)}. "
                f"Received: identifier={identifier!r}"
            )
        return cls()
    raise ValueError(
        "Could not interpret optimizer identifier: expected a name, a config dict, an "
        f"Optimizer or an optax.GradientTransformation. Received: identifier={identifier!r}"
    )
