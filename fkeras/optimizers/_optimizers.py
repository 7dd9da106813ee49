"""The Keras optimizers: Keras 3's names, defaults and numerics, each over one `_algorithms` link.

Common arguments (see `Optimizer`): `learning_rate` (float, `LearningRateSchedule`, or a callable of
the step), `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `name`, and Keras 2's `lr`
and `decay`. A Keras 2 `epsilon=None` means Keras's fuzz factor, 1e-7.
"""

from typing import Any

import jax
import optax

from fkeras.optimizers import _algorithms as alg
from fkeras.optimizers._base import LearningRate, Optimizer, _is_number

_EPSILON = 1e-7


def _number(owner: Any, name: str, value: Any) -> float:
    """A hyperparameter that must be a real number (checked here, not at the first update)."""
    if not _is_number(value):
        raise TypeError(
            f"{type(owner).__name__}: argument `{name}` must be a float. Received: {name}={value!r}"
        )
    return float(value)


def _flag(owner: Any, name: str, value: Any) -> bool:
    scalar = hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0
    if not isinstance(value, (bool, int)) and not scalar:
        raise TypeError(
            f"{type(owner).__name__}: argument `{name}` must be a bool. Received: {name}={value!r}"
        )
    return bool(value)


def _epsilon(value: float | None, owner: Any = None) -> float:
    if value is None:
        return _EPSILON
    return _number(owner, "epsilon", value)


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    With gradient `g`, rate `lr` and velocity `m` (initially 0):
    `m <- momentum * m - lr * g`, then `p <- p + m`, or with `nesterov`
    `p <- p + momentum * m - lr * g`; without momentum `p <- p - lr * g`.

    Args:
        learning_rate: defaults to 0.01.
        momentum: float in [0, 1] that accelerates descent along consistent directions.
        nesterov: whether to apply Nesterov momentum.

    Example:
        >>> opt = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)  # Keras 2 spelling
    """

    _default_learning_rate = 0.01

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not (
            0 <= momentum <= 1
        ):
            raise ValueError(
                f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}"
            )
        self.momentum = float(momentum)
        self.nesterov = _flag(self, "nesterov", nesterov)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_sgd(learning_rate, self.momentum, self.nesterov)

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        return (("momentum",),) if self.momentum != 0 else ()

    def _hyper_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a moving root mean square of recent gradients.

    `v <- rho * v + (1 - rho) * g**2`; centered: `a <- rho * a + (1 - rho) * g` and
    `den = v - a**2 + epsilon`, else `den = v + epsilon`; `step = lr * g / sqrt(den)`;
    with momentum `m <- momentum * m + step` and `p <- p - m`, else `p <- p - step`.

    Args:
        learning_rate: defaults to 0.001.
        rho: discount factor of the moving averages.
        momentum: momentum factor (0: none).
        epsilon: small constant inside the square root (None: 1e-7).
        centered: normalize by an estimate of the variance instead of the second moment.

    References:
        Hinton, 2012, Neural Networks for Machine Learning, lecture 6e.
    """

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float | None = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        self.rho = _number(self, "rho", rho)
        self.momentum = _number(self, "momentum", momentum)
        self.epsilon = _epsilon(epsilon, self)
        self.centered = _flag(self, "centered", centered)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_rmsprop(
            learning_rate, self.rho, self.momentum, self.epsilon, self.centered
        )

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        layout = [("velocity",)]
        if self.momentum > 0:
            layout.append(("momentum",))
        if self.centered:
            layout.append(("average_gradient",))
        return tuple(layout)

    def _hyper_config(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates scaled by the accumulated squared gradients.

    `acc <- acc + g**2`, `p <- p - lr * g / sqrt(acc + epsilon)`, with `acc` starting at
    `initial_accumulator_value`.

    Args:
        learning_rate: defaults to 0.001.
        initial_accumulator_value: starting value of the accumulators (>= 0).
        epsilon: small constant inside the square root (None: 1e-7).

    References:
        Duchi et al., 2011, "Adaptive Subgradient Methods for Online Learning and Stochastic
        Optimization", JMLR.
    """

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        initial_accumulator_value: float = 0.1,
        epsilon: float | None = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        self.initial_accumulator_value = _number(
            self, "initial_accumulator_value", initial_accumulator_value
        )
        self.epsilon = _epsilon(epsilon, self)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_adagrad(
            learning_rate, self.initial_accumulator_value, self.epsilon
        )

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        return (("accumulator",),)

    def _hyper_config(self) -> dict[str, Any]:
        return {
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adadelta(Optimizer):
    """Adadelta: step sizes from moving averages of squared gradients and squared updates.

    `E[g2] <- rho * E[g2] + (1 - rho) * g**2`,
    `delta = -sqrt(E[dx2] + epsilon) / sqrt(E[g2] + epsilon) * g`,
    `E[dx2] <- rho * E[dx2] + (1 - rho) * delta**2`, `p <- p + lr * delta`.

    Args:
        learning_rate: defaults to 0.001 (the paper has no rate; use 1.0 to match it).
        rho: decay of the moving averages.
        epsilon: small constant inside the square roots (None: 1e-7).

    References:
        Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701.
    """

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        rho: float = 0.95,
        epsilon: float | None = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        self.rho = _number(self, "rho", rho)
        self.epsilon = _epsilon(epsilon, self)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_adadelta(learning_rate, self.rho, self.epsilon)

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        return (("accumulated_grad", "accumulated_delta_var"),)

    def _hyper_config(self) -> dict[str, Any]:
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam: adaptive moment estimation, in Keras's (TensorFlow's) formulation.

    At step `t` (1-based): `m <- m + (1 - beta_1) * (g - m)`, `v <- v + (1 - beta_2) * (g**2 - v)`,
    `p <- p - lr_t * m / (sqrt(v) + epsilon)` with
    `lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`; `amsgrad` uses `max` of all past `v`.
    This is not `optax.adam`: see `scale_by_keras_adam`.

    Args:
        learning_rate: defaults to 0.001.
        beta_1: decay of the first moment estimates.
        beta_2: decay of the second moment estimates.
        epsilon: added to `sqrt(v)` (None: 1e-7); the paper's "epsilon hat".
        amsgrad: whether to apply AMSGrad.

    References:
        Kingma & Ba, 2014, "Adam: A Method for Stochastic Optimization", arXiv:1412.6980.
        Reddi et al., 2018, "On the Convergence of Adam and Beyond", ICLR (AMSGrad).
    """

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        self.beta_1 = _number(self, "beta_1", beta_1)
        self.beta_2 = _number(self, "beta_2", beta_2)
        self.epsilon = _epsilon(epsilon, self)
        self.amsgrad = _flag(self, "amsgrad", amsgrad)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_adam(
            learning_rate, self.beta_1, self.beta_2, self.epsilon, self.amsgrad
        )

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        layout = (("momentum", "velocity"),)
        return layout + ((("velocity_hat",),) if self.amsgrad else ())

    def _hyper_config(self) -> dict[str, Any]:
        return {
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (`weight_decay`, default 0.004, must be set).

    Before each Adam step: `p <- p - p * weight_decay * lr`.

    Args:
        learning_rate: defaults to 0.001.
        weight_decay: the decay factor (a float; None is an error).
        beta_1, beta_2, epsilon, amsgrad: as in `Adam`.

    References:
        Loshchilov & Hutter, 2019, "Decoupled Weight Decay Regularization", ICLR.
    """

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        weight_decay: float | None = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
            global_clipnorm, name, **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    `m <- m + (1 - beta_1) * (g - m)`, `u <- max(beta_2 * u, |g|)`,
    `p <- p - lr * m / ((1 - beta_1**t) * (u + epsilon))`.

    Args:
        learning_rate: defaults to 0.001.
        beta_1: decay of the first moment.
        beta_2: decay of the infinity norm.
        epsilon: added to the norm (None: 1e-7).

    References:
        Kingma & Ba, 2014, "Adam: A Method for Stochastic Optimization", section 7.1.
    """

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        self.beta_1 = _number(self, "beta_1", beta_1)
        self.beta_2 = _number(self, "beta_2", beta_2)
        self.epsilon = _epsilon(epsilon, self)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_adamax(learning_rate, self.beta_1, self.beta_2, self.epsilon)

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        return (("momentum", "norm"),)

    def _hyper_config(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum and Dozat's momentum schedule (see
    `scale_by_keras_nadam` for the formulas).

    Args:
        learning_rate: defaults to 0.001.
        beta_1: decay of the first moment (scheduled by `1 - 0.5 * 0.96**t`).
        beta_2: decay of the second moment.
        epsilon: added to the root of the corrected second moment (None: 1e-7).

    References:
        Dozat, 2016, "Incorporating Nesterov Momentum into Adam", ICLR workshop.
    """

    _scalar_slots = ("u_product",)

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        self.beta_1 = _number(self, "beta_1", beta_1)
        self.beta_2 = _number(self, "beta_2", beta_2)
        self.epsilon = _epsilon(epsilon, self)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_nadam(learning_rate, self.beta_1, self.beta_2, self.epsilon)

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        return (("momentum", "velocity"),)

    def _hyper_config(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Ftrl(Optimizer):
    """FTRL-Proximal, with L1, L2 and L2-shrinkage regularization (see `scale_by_keras_ftrl`).

    Args:
        learning_rate: defaults to 0.001.
        learning_rate_power: <= 0; how the per-coordinate rate falls with the accumulator
            (-0.5: as Adagrad; 0: constant).
        initial_accumulator_value: >= 0, starting value of the accumulators.
        l1_regularization_strength: >= 0.
        l2_regularization_strength: >= 0 (stabilization penalty).
        l2_shrinkage_regularization_strength: >= 0 (magnitude penalty, applied to the gradient).
        beta: the `beta` of the per-coordinate rate.

    References:
        McMahan et al., 2013, "Ad Click Prediction: a View from the Trenches", KDD.
    """

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        learning_rate_power = _number(self, "learning_rate_power", learning_rate_power)
        for arg, value in [
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ]:
            if _number(self, arg, value) < 0.0:
                raise ValueError(
                    f"`{arg}` needs to be positive or zero. Received: {arg}={value}."
                )
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. "
                f"Received: learning_rate_power={learning_rate_power}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = _number(self, "beta", beta)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_ftrl(learning_rate, **self._hyper_config())

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        return (("accumulator", "linear"),)

    def _hyper_config(self) -> dict[str, Any]:
        return {
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }


class Lion(Optimizer):
    """Lion (EvoLved Sign Momentum): updates of equal magnitude, from the sign of an interpolation.

    `p <- p - lr * sign(beta_1 * m + (1 - beta_1) * g)`, then `m <- beta_2 * m + (1 - beta_2) * g`.
    Use a rate 3-10x smaller than Adam's.

    Args:
        learning_rate: defaults to 0.001.
        beta_1: interpolation factor for the update direction, in (0, 1].
        beta_2: decay of the momentum.

    References:
        Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675.
    """

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs
        )
        beta_1 = _number(self, "beta_1", beta_1)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        self.beta_1 = _number(self, "beta_1", beta_1)
        self.beta_2 = _number(self, "beta_2", beta_2)

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return alg.scale_by_keras_lion(learning_rate, self.beta_1, self.beta_2)

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        return (("momentum",),)

    def _hyper_config(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}
