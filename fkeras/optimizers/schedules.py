"""Learning rate schedules: Keras 3's formulas as pure functions of the step.

A schedule maps the number of updates already applied (`step`, an int or int32 array, traced or not)
to a float32 learning rate. Each class is a frozen piece of config with `get_config`/`from_config`,
and its `__call__` is jittable (no Python branch on the step), so an optimizer evaluates it inside
the compiled update. Any callable of the step (an optax schedule, say) works as a learning rate
too; these classes add Keras's names and serialization.

Example:
    >>> lr = ExponentialDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(lr(20)), 6)  # 0.1 * 0.5 ** (20 / 10)
    0.025
"""

import math
from typing import Any

import jax
import jax.numpy as jnp

from fkeras import _custom_objects

_DTYPE = jnp.float32  # Keras converts the initial rate with convert_to_tensor: floatx


def _f32(x: Any) -> jax.Array:
    return jnp.asarray(x, _DTYPE)


def _check_positive_steps(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value!r}")


class LearningRateSchedule:
    """Base class: a serializable learning rate that depends on the step.

    Subclasses implement `__call__(step) -> scalar` with `jax.numpy` (no Python branch on `step`)
    and `get_config()`. `from_config(config)` calls the constructor with the config's entries.
    """

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive number of steps per factor of `decay_rate`.
        decay_rate: the factor.
        staircase: if True, `step / decay_steps` is floored (decay in discrete jumps).
        name: Keras's name for the schedule.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ):
        _check_positive_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        p = _f32(step) / _f32(self.decay_steps)
        if self.staircase:
            p = jnp.floor(p)
        return _f32(self.initial_learning_rate) * jnp.power(_f32(self.decay_rate), p)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[i]` while
    `boundaries[i-1] < step <= boundaries[i]`, `values[-1]` after the last boundary.

    Args:
        boundaries: increasing steps where the rate changes (compared as integers, like the step).
        values: one more rate than boundaries.
        name: Keras's name for the schedule.
    """

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        step = jnp.asarray(step)
        # Keras casts the boundaries to the step's dtype (an integer step truncates them).
        bounds = [jnp.asarray(b).astype(step.dtype) for b in self.boundaries]
        values = [_f32(v) for v in self.values]
        result = (step <= bounds[0]).astype(_DTYPE) * values[0]
        result += (step > bounds[-1]).astype(_DTYPE) * values[-1]
        for low, high, value in zip(bounds[:-1], bounds[1:], values[1:-1]):
            result += ((step > low) & (step <= high)).astype(_DTYPE) * value
        return result

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """`(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end`.

    With `cycle`, `decay_steps` is instead multiplied by `ceil(step / decay_steps)` (1 at step 0),
    so the decay restarts from `initial_learning_rate`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive number of steps to reach `end_learning_rate`.
        end_learning_rate: the final rate.
        power: the exponent of the polynomial.
        cycle: whether to restart after `decay_steps`.
        name: Keras's name for the schedule.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        _check_positive_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        initial, end = _f32(self.initial_learning_rate), _f32(self.end_learning_rate)
        step, decay_steps = _f32(step), _f32(self.decay_steps)
        if self.cycle:
            multiplier = jnp.where(step == 0, 1.0, jnp.ceil(step / self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = jnp.minimum(step, decay_steps)
        p = step / decay_steps
        return (initial - end) * jnp.power(1 - p, _f32(self.power)) + end

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    `InverseTimeDecay(lr, 1, decay)` is Keras 2's optimizer argument `decay`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive step scale.
        decay_rate: the decay rate.
        staircase: if True, `step / decay_steps` is floored.
        name: Keras's name for the schedule.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ):
        _check_positive_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        p = _f32(step) / _f32(self.decay_steps)
        if self.staircase:
            p = jnp.floor(p)
        return _f32(self.initial_learning_rate) / (_f32(1) + _f32(self.decay_rate) * p)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay (SGDR without restarts).

    Without `warmup_target`: `lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)`
    with `s = min(step, decay_steps)` and `lr0 = initial_learning_rate`. With `warmup_target`,
    the rate first rises linearly from `initial_learning_rate` to `warmup_target` over
    `warmup_steps` steps, then decays the same way from `warmup_target` over `decay_steps` more.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive number of decay steps.
        alpha: the final rate as a fraction of the rate the decay starts from.
        name: Keras's name for the schedule.
        warmup_target: the rate at the end of the warmup, or None for no warmup.
        warmup_steps: number of warmup steps.

    References:
        Loshchilov & Hutter, 2016, "SGDR: Stochastic Gradient Descent with Warm Restarts".
        Goyal et al., 2017, "Accurate, Large Minibatch SGD" (linear warmup).
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ):
        _check_positive_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: jax.Array, decay_steps: jax.Array, start: jax.Array) -> jax.Array:
        completed = step / decay_steps
        cosine = 0.5 * (1.0 + jnp.cos(_f32(math.pi) * completed))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        initial = _f32(self.initial_learning_rate)
        decay_steps, step = _f32(self.decay_steps), _f32(step)
        if self.warmup_target is None:
            return self._decay(jnp.minimum(step, decay_steps), decay_steps, initial)
        target, warmup_steps = _f32(self.warmup_target), _f32(self.warmup_steps)
        step = jnp.minimum(step, decay_steps + warmup_steps)
        warm = (target - initial) * (step / warmup_steps) + initial
        decayed = self._decay(step - warmup_steps, decay_steps, target)
        return jnp.where(step < warmup_steps, warm, decayed)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR).

    The multiplier decays from 1 to `alpha` over `first_decay_steps`; each restart lasts `t_mul`
    times longer than the previous period and starts from `m_mul` times its initial rate.

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: positive length of the first period.
        t_mul: growth factor of the period lengths.
        m_mul: factor of the rate at each restart.
        alpha: the lowest rate as a fraction of `initial_learning_rate`.
        name: Keras's name for the schedule.

    References:
        Loshchilov & Hutter, 2016, "SGDR: Stochastic Gradient Descent with Warm Restarts".
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ):
        _check_positive_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        alpha, t_mul, m_mul = _f32(self.alpha), _f32(self.t_mul), _f32(self.m_mul)
        completed = _f32(step) / _f32(self.first_decay_steps)
        if self.t_mul == 1.0:  # static: a Python float, so no cond on a traced value
            i_restart = jnp.floor(completed)
            completed = completed - i_restart
        else:
            i_restart = jnp.floor(jnp.log(1.0 - completed * (1.0 - t_mul)) / jnp.log(t_mul))
            sum_r = (1.0 - jnp.power(t_mul, i_restart)) / (1.0 - t_mul)
            completed = (completed - sum_r) / jnp.power(t_mul, i_restart)
        m_fac = jnp.power(m_mul, i_restart)
        cosine = 0.5 * m_fac * (1.0 + jnp.cos(_f32(math.pi) * completed))
        return _f32(self.initial_learning_rate) * ((1 - alpha) * cosine + alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """Returns Keras 3's serialized form: `{'module', 'class_name', 'config', 'registered_name'}`.

    Raises:
        TypeError: if `schedule` is not a `LearningRateSchedule`.
    """
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            "`serialize` expects a `LearningRateSchedule`. "
            f"Received: schedule={schedule!r} of type {type(schedule).__name__}"
        )
    return {
        "module": "keras.optimizers.schedules",
        "class_name": type(schedule).__name__,
        "config": schedule.get_config(),
        "registered_name": None,
    }


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> LearningRateSchedule:
    """Rebuilds a schedule from `serialize`'s output (also Keras 3's and Keras 2's).

    Args:
        config: a dict with `class_name` and `config`.
        custom_objects: extra schedule classes by name, looked up first.

    Raises:
        ValueError: if the class name is unknown.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Expected a dict with 'class_name' and 'config' to deserialize a learning rate "
            f"schedule. Received: config={config!r}"
        )
    name = config["class_name"]
    cls = _custom_objects.merged(custom_objects).get(name) or _SCHEDULES.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown learning rate schedule: '{name}'. Expected one of "
            f"{sorted(_SCHEDULES)} or a class passed in `custom_objects`. "
            f"Received: class_name={name!r}"
        )
    return cls.from_config(dict(config.get("config", {})))
