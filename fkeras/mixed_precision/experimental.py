"""Keras 2.3 / TF 2.3's `keras.mixed_precision.experimental` names."""

from typing import Any

from fkeras.mixed_precision._policy import DTypePolicy as Policy
from fkeras.mixed_precision._policy import global_policy as global_policy
from fkeras.mixed_precision._policy import set_global_policy as set_policy
from fkeras.optimizers._base import Optimizer


def LossScaleOptimizer(optimizer: Optimizer, loss_scale: Any = "dynamic"):  # noqa: N802
    """Keras 2.3's `LossScaleOptimizer(optimizer, loss_scale='dynamic')`: dynamic loss scaling.

    Raises:
        ValueError: for a fixed `loss_scale` (Keras 3 dropped fixed scales: set
            `loss_scale_factor` on a Keras 3 optimizer instead, which fkeras lacks).
    """
    from fkeras.optimizers._loss_scale import LossScaleOptimizer as _LossScaleOptimizer

    if loss_scale != "dynamic":
        raise ValueError(
            "Only dynamic loss scaling is supported (Keras 3's `LossScaleOptimizer`). "
            f"Received: loss_scale={loss_scale!r}"
        )
    return _LossScaleOptimizer(optimizer)


__all__ = ["LossScaleOptimizer", "Policy", "global_policy", "set_policy"]
