"""Dynamic loss scaling for float16 training: Keras 3's `LossScaleOptimizer` on optax.

The training step multiplies the loss by the current scale `s` before differentiating, so the
gradients it hands to the optimizer are `s * g`. The transformation then does what Keras's
`LossScaleOptimizer.stateless_apply` does:

- if every gradient is finite: the inner optimizer updates with `g = (s * g) / s`; then, if
  `dynamic_growth_steps` finite steps have passed in a row, `s <- 2 s` and the counter restarts,
  else the counter counts the step;
- otherwise the step is skipped (zero updates, the inner state untouched), `s <- s / 2` and the
  counter restarts.

The scale lives in the optimizer state (`LossScaleState`), so it is threaded through the jitted
step and a whole-epoch `lax.scan` like any other state.
"""

import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fkeras.optimizers._base import LearningRateVariable, Optimizer

# Keras 3 accepts these base-optimizer arguments only at their default ("off") values.
_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleState(NamedTuple):
    """State of `dynamic_loss_scale`: Keras's `step_counter` and `dynamic_scale` variables."""

    step_counter: jax.Array  # int32: finite steps since the scale last changed
    dynamic_scale: jax.Array  # float32: the current loss scale
    inner_state: Any


def all_finite(grads: Any) -> jax.Array:
    """Whether every element of every gradient is finite (a boolean scalar)."""
    leaves = jax.tree_util.tree_leaves(grads)
    if not leaves:
        return jnp.asarray(True)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in leaves]))


def current_scale(opt_state: Any) -> jax.Array | None:
    """The loss scale held in `opt_state`, or None when the state has no loss scaling.

    The engine calls this while tracing: the answer (None or not) depends only on the state's
    type, so an optimizer without loss scaling traces exactly as before.
    """
    return opt_state.dynamic_scale if isinstance(opt_state, LossScaleState) else None


def dynamic_loss_scale(
    inner: optax.GradientTransformation, initial_scale: float, dynamic_growth_steps: int
) -> optax.GradientTransformation:
    """Wraps `inner` in dynamic loss scaling; its gradients must be `dynamic_scale` times the
    true ones (the loss was multiplied by `current_scale(state)` before differentiation).

    Args:
        inner: the transformation that gets the unscaled gradients.
        initial_scale: the scale before the first step.
        dynamic_growth_steps: the scale doubles after this many finite steps in a row.

    Returns:
        An optax transformation whose state is a `LossScaleState`.
    """

    def init_fn(params: optax.Params) -> LossScaleState:
        return LossScaleState(
            jnp.zeros((), jnp.int32), jnp.asarray(initial_scale, jnp.float32), inner.init(params)
        )

    def update_fn(grads, state: LossScaleState, params=None):
        scale = state.dynamic_scale

        def finite_step(_):
            unscaled = jax.tree_util.tree_map(lambda g: g / scale.astype(g.dtype), grads)
            updates, inner_state = inner.update(unscaled, state.inner_state, params)
            grow = state.step_counter == dynamic_growth_steps - 1
            counter = jnp.where(grow, 0, state.step_counter + 1).astype(jnp.int32)
            new_scale = jnp.where(grow, scale * 2.0, scale)
            return updates, LossScaleState(counter, new_scale, inner_state)

        def skipped_step(_):
            shapes = jax.eval_shape(finite_step, None)[0]
            zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
            return zeros, LossScaleState(jnp.zeros((), jnp.int32), scale * 0.5, state.inner_state)

        return jax.lax.cond(all_finite(grads), finite_step, skipped_step, None)

    return optax.GradientTransformation(init_fn, update_fn)


class LossScaleOptimizer(Optimizer):
    """An optimizer that scales the loss dynamically, so float16 gradients do not underflow.

    `compile` wraps the optimizer in one when the model's dtype policy is `'mixed_float16'`.
    The loss is multiplied by the loss scale before the gradients are computed and the
    gradients are divided by it before `inner_optimizer` uses them. A step with a non-finite
    gradient is skipped and halves the scale; `dynamic_growth_steps` finite steps in a row
    double it.

    `learning_rate`, `lr` and `iterations` are the inner optimizer's (a skipped step does not
    count), so callbacks such as `ReduceLROnPlateau` work through the wrapper.

    Args:
        inner_optimizer: the optimizer to wrap (an `Optimizer`, or a name such as 'adam').
        initial_scale: the loss scale to start from (default `2**15`).
        dynamic_growth_steps: how many finite steps in a row double the scale (default 2000).
        name: the optimizer's name; default `loss_scale_optimizer`, made unique.
        **kwargs: Keras 3's `dynamic=True`, and base optimizer arguments at their defaults only
            (as saved by older Keras versions).

    Raises:
        ValueError: for `dynamic=False`, a base optimizer argument that is set, an unknown
            argument, a non-positive `initial_scale` or `dynamic_growth_steps`.
        TypeError: if `inner_optimizer` is not an optimizer.

    References:
        Micikevicius et al., 2018, "Mixed Precision Training" (https://arxiv.org/abs/1710.03740)
    """

    def __init__(
        self,
        inner_optimizer: Any,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs: Any,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`. Received: dynamic=False"
            )
        for key, default in _BASE_DEFAULTS.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{key}`. Instead, set `{key}` on the "
                    "`inner_optimizer`."
                )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`. "
                f"Received: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}"
            )
        from fkeras import optimizers

        if isinstance(inner_optimizer, str):
            inner_optimizer = optimizers.get(inner_optimizer)
        if not isinstance(inner_optimizer, Optimizer) or isinstance(
            inner_optimizer, LossScaleOptimizer
        ):
            raise TypeError(
                "`inner_optimizer` must be an fkeras optimizer (not a LossScaleOptimizer). "
                f"Received: inner_optimizer={inner_optimizer!r}"
            )
        if (
            isinstance(initial_scale, bool)
            or not isinstance(initial_scale, numbers.Real)
            or not initial_scale > 0
        ):
            raise ValueError(
                "`initial_scale` must be a positive number. "
                f"Received: initial_scale={initial_scale!r}"
            )
        if (
            isinstance(dynamic_growth_steps, bool)
            or not isinstance(dynamic_growth_steps, (int, np.integer))
            or dynamic_growth_steps < 1
        ):
            raise ValueError(
                "`dynamic_growth_steps` must be a positive integer. "
                f"Received: dynamic_growth_steps={dynamic_growth_steps!r}"
            )
        self._setup(name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)

    # -- the engine's interface ----------------------------------------------------------------

    def transform(self) -> optax.GradientTransformation:
        """The inner optimizer's transformation inside `dynamic_loss_scale` (built once)."""
        if self._tx is None:
            self._tx = dynamic_loss_scale(
                self.inner_optimizer.transform(), self.initial_scale, self.dynamic_growth_steps
            )
        return self._tx

    def sync(self, state: LossScaleState) -> LossScaleState:
        """Pushes the inner optimizer's host learning rate into `state` (the same object if
        nothing changed)."""
        inner = self.inner_optimizer.sync(state.inner_state)
        return state if inner is state.inner_state else state._replace(inner_state=inner)

    def attach_state(self, state: LossScaleState | None, synced: bool = False) -> None:
        """Hands this optimizer and the inner one the latest state (see `Optimizer.attach_state`)."""
        self._state = state
        inner = None if state is None else state.inner_state
        self.inner_optimizer.attach_state(inner, synced=synced)

    def scale_loss(self, loss: Any) -> Any:
        """`loss` times the current scale (the initial one before any state exists)."""
        return loss * self._own_weights()[1]

    @property
    def dynamic_scale(self) -> np.float32:
        """The current loss scale."""
        return self._own_weights()[1]

    @property
    def step_counter(self) -> np.int32:
        """Finite steps since the scale last changed."""
        return self._own_weights()[0]

    def _own_weights(self) -> list:
        if self._state is None:
            return [np.int32(0), np.float32(self.initial_scale)]
        return [np.int32(self._state.step_counter), np.float32(self._state.dynamic_scale)]

    # -- what Keras users touch: the inner optimizer's -----------------------------------------

    @property
    def iterations(self) -> int:
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self) -> LearningRateVariable:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def _learning_rate(self) -> Any:
        return self.inner_optimizer._learning_rate

    @property
    def decay(self) -> float:
        return self.inner_optimizer.decay

    # -- optimizer state as a flat list: the inner optimizer's, then the scale's ---------------

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        return self.inner_optimizer._slot_layout()

    @property
    def _scalar_slots(self) -> tuple[str, ...]:
        return (*self.inner_optimizer._scalar_slots, "step_counter", "dynamic_scale")

    def _core_state(self, state: LossScaleState) -> Any:
        return self.inner_optimizer._core_state(state.inner_state)

    def get_weights(self) -> list[np.ndarray]:
        """The inner optimizer's weights, then `step_counter` and `dynamic_scale`.

        (Keras 3 lists its own two variables, and its unused `iteration` and `learning_rate`,
        before the inner optimizer's.)
        """
        own = [np.asarray(w) for w in self._own_weights()]
        return self.inner_optimizer.get_weights() + own

    def set_weights(self, weights: Any) -> None:
        """Loads a list in `get_weights()`'s order into the attached state."""
        weights = list(weights)
        if self._state is None or len(weights) < 2:
            self.inner_optimizer.set_weights(weights)  # raises the inner optimizer's error
        self.inner_optimizer.set_weights(weights[:-2])
        counter, scale = (np.asarray(w) for w in weights[-2:])
        if counter.shape or scale.shape:
            raise ValueError(
                f"Optimizer '{self.name}': `step_counter` and `dynamic_scale` must be scalars. "
                f"Received: shapes={counter.shape}, {scale.shape}"
            )
        self._state = LossScaleState(
            jnp.asarray(counter, jnp.int32),
            jnp.asarray(scale, jnp.float32),
            self.inner_optimizer.state,
        )

    # -- config --------------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Keras 3's config: name, the serialized inner optimizer and the scaling settings."""
        from fkeras import optimizers

        return {
            "name": self.name,
            "inner_optimizer": optimizers.serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> "LossScaleOptimizer":
        """Rebuilds the optimizer from `get_config()`'s output (also Keras 3's)."""
        from fkeras import optimizers

        config = dict(config)
        inner = config.pop("inner_optimizer", None)
        if isinstance(inner, dict):
            inner = optimizers.deserialize(inner, custom_objects)
        return cls(inner, **config)

    def __repr__(self) -> str:
        return (
            f"<LossScaleOptimizer name={self.name!r} inner_optimizer={self.inner_optimizer!r} "
            f"dynamic_scale={float(self.dynamic_scale):g}>"
        )


def wrap_for_policy(optimizer: Any, dtype_policy: Any, auto_scale_loss: bool = True) -> Any:
    """What Keras 3's `compile` does: wrap `optimizer` in a `LossScaleOptimizer` when
    `auto_scale_loss` is set, the model's policy is `'mixed_float16'` and it is not one already.
    """
    if (
        auto_scale_loss
        and getattr(dtype_policy, "name", None) == "mixed_float16"
        and optimizer is not None
        and not isinstance(optimizer, LossScaleOptimizer)
    ):
        return LossScaleOptimizer(optimizer, name="loss_scale_optimizer")
    return optimizer
