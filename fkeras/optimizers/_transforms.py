"""Keras's optimizer extras as optax links: clipping, decoupled weight decay, the learning rate.

Every Keras 3 optimizer runs the same pipeline around its own update rule
(`keras/src/optimizers/base_optimizer.py`, `apply` and `_backend_apply_gradients`):

1. clip the gradients: `clipnorm` (each variable on its own), else `global_clipnorm`, else
   `clipvalue` -- at most one of them is set;
2. decay the variables, decoupled from the gradient: `p <- p - p * weight_decay * lr`;
3. run the algorithm's update on the decayed variables with the current learning rate;
4. count the update (`iterations += 1`).

Here each step is a small `optax.GradientTransformation`, and an optimizer is their composition:

    inject_learning_rate(
        lambda lr: optax.chain(
            keras_gradient_clipping(clipnorm, clipvalue, global_clipnorm),
            with_decoupled_weight_decay(scale_by_keras_adam(lr), lr, weight_decay),
        ),
        learning_rate,
    )

`inject_learning_rate` owns the step counter and the learning rate: the rate is a leaf of its state,
so the host can change it between steps without retracing (the idea of `optax.inject_hyperparams`).
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

Params = optax.Params
OptState = optax.OptState
Updates = optax.Updates
Schedule = Callable[[jax.Array], jax.typing.ArrayLike]
InnerFactory = Callable[[jax.Array], optax.GradientTransformation]

_LR_DTYPE = jnp.float32  # Keras keeps its learning rate in floatx (float32), whatever the weights
_COUNT_DTYPE = jnp.int32  # Keras's `iterations` is an int32 variable on JAX


# -------------------------------------------------------------------------------------------------
# Gradient clipping
# -------------------------------------------------------------------------------------------------


def keras_clip_by_norm(max_norm: float) -> optax.GradientTransformation:
    """Clips each update array to an L2 norm of at most `max_norm` (Keras's `clipnorm`).

    For every leaf `g` on its own: `g <- g * max_norm / max(||g||_2, max_norm)`, with the norm of an
    all-zero leaf taken as 0 without a square root of 0 (so its gradient stays finite). This is
    `optax.clip_by_block_rms` with a norm instead of an RMS; Keras multiplies before it divides, and
    this link keeps that order.

    Args:
        max_norm: the largest L2 norm a leaf keeps.

    Returns:
        A stateless `optax.GradientTransformation`.
    """

    def clip_leaf(g: jax.Array) -> jax.Array:
        l2sum = jnp.sum(jnp.square(g), keepdims=True)
        nonzero = l2sum > 0
        # Two-sided where: no sqrt(0) on the branch that is thrown away.
        l2norm = jnp.where(nonzero, jnp.sqrt(jnp.where(nonzero, l2sum, 1)), l2sum)
        return g * max_norm / jnp.maximum(l2norm, max_norm)

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        del params
        return jax.tree.map(clip_leaf, updates), state

    return optax.GradientTransformation(optax.init_empty_state, update_fn)


def keras_clip_by_global_norm(max_norm: float) -> optax.GradientTransformation:
    """Scales all updates together so that their global L2 norm is at most `max_norm`.

    `scale = max_norm * min(1 / ||g||, 1 / max_norm) + (||g|| - ||g||)`, then `g <- g * scale`. The
    second term is 0 for a finite norm and NaN otherwise, so a non-finite gradient poisons the step
    as it does in Keras. `optax.clip_by_global_norm` computes `g / ||g|| * max_norm` behind a
    `where`, which rounds differently and lets infinities through.

    Args:
        max_norm: the largest global norm the updates keep.

    Returns:
        A stateless `optax.GradientTransformation`.
    """

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        del params
        leaves = jax.tree.leaves(updates)
        norm = jnp.sqrt(jnp.sum(jnp.stack([jnp.sum(jnp.square(g)) for g in leaves])))
        scale = max_norm * jnp.minimum(1.0 / norm, 1.0 / max_norm) + (norm - norm)
        return jax.tree.map(lambda g: g * scale, updates), state

    return optax.GradientTransformation(optax.init_empty_state, update_fn)


def keras_gradient_clipping(
    clipnorm: float | None = None,
    clipvalue: float | None = None,
    global_clipnorm: float | None = None,
) -> optax.GradientTransformation:
    """The clipping link Keras runs first, or `optax.identity()` when none is asked for.

    Keras checks `clipnorm`, then `global_clipnorm`, then `clipvalue`, and skips a value that is
    `None` or not positive. `clipvalue` is `optax.clip` (both are `jnp.clip(g, -v, v)`).

    Args:
        clipnorm: per-array L2 norm limit (see `keras_clip_by_norm`).
        clipvalue: element-wise limit on the absolute value.
        global_clipnorm: limit on the L2 norm of all arrays together.

    Returns:
        A stateless `optax.GradientTransformation`.
    """
    if clipnorm and clipnorm > 0:
        return keras_clip_by_norm(clipnorm)
    if global_clipnorm and global_clipnorm > 0:
        return keras_clip_by_global_norm(global_clipnorm)
    if clipvalue and clipvalue > 0:
        return optax.clip(clipvalue)
    return optax.identity()


# -------------------------------------------------------------------------------------------------
# Decoupled weight decay
# -------------------------------------------------------------------------------------------------

_MSG_DECAY_NEEDS_PARAMS = (
    "Weight decay needs the current parameters: call `update(grads, state, params)`. "
    "Received: params=None"
)


def with_decoupled_weight_decay(
    inner: optax.GradientTransformation,
    learning_rate: jax.typing.ArrayLike,
    weight_decay: float | None,
) -> optax.GradientTransformation:
    """Decays the parameters before `inner` runs, as Keras's `_apply_weight_decay` does.

    With `s = p * weight_decay * lr`, Keras first sets `p <- p - s` and then runs the update rule
    on the decayed variable. This combinator hands `inner` the decayed parameters and returns
    `inner_update - s`. For rules that never read the parameters this equals appending
    `-s` to the chain; for Ftrl, whose step reads the variable, it is what makes the result Keras's.
    Unlike `optax.add_decayed_weights`, the decay is not added to the gradient (it is not seen by
    the moments) and it is scaled by the learning rate.

    Args:
        inner: the update rule; its state is this transformation's state.
        learning_rate: the rate of this step (a scalar, traced or not).
        weight_decay: the decay factor; `None` returns `inner` unchanged.

    Returns:
        An `optax.GradientTransformation` with `inner`'s state.
    """
    if weight_decay is None:
        return inner

    def update_fn(updates: Updates, state: OptState, params: Params | None = None):
        if params is None:
            raise ValueError(_MSG_DECAY_NEEDS_PARAMS)

        def shrink(p: jax.Array) -> jax.Array:
            return p * jnp.asarray(weight_decay, p.dtype) * jnp.asarray(learning_rate, p.dtype)

        shrinkage = jax.tree.map(shrink, params)
        decayed = jax.tree.map(jnp.subtract, params, shrinkage)
        inner_updates, state = inner.update(updates, state, decayed)
        return jax.tree.map(jnp.subtract, inner_updates, shrinkage), state

    return optax.GradientTransformation(inner.init, update_fn)


# -------------------------------------------------------------------------------------------------
# Learning rate and step counter
# -------------------------------------------------------------------------------------------------


class InjectLearningRateState(NamedTuple):
    """State of `inject_learning_rate`.

    Attributes:
        iterations: number of updates applied so far (Keras's `optimizer.iterations`), int32.
        learning_rate: float32 scalar. For a constant rate, the base rate the host may overwrite
            between steps (Keras's `learning_rate` variable; with Keras 2 `decay`, the undecayed
            rate). For a schedule, the rate the latest update used (as `optax.inject_hyperparams`
            records scheduled values); writing it has no effect.
        inner_state: the state of the transformation the rate is injected into.
    """

    iterations: jax.Array
    learning_rate: jax.Array
    inner_state: OptState


def inject_learning_rate(
    make_inner: InnerFactory,
    learning_rate: float | Schedule,
    decay: float = 0.0,
) -> optax.GradientTransformation:
    """Calls `make_inner(lr)` at every step with the rate of that step, read from the state.

    The rate of step `t` (0-based: `t` updates were applied before it) is

    - `schedule(t)` when `learning_rate` is callable (a `LearningRateSchedule` or any optax
      schedule);
    - `lr / (1 + decay * t)` for a float, where `lr` is `state.learning_rate`: Keras 2's time-based
      `decay`, equal to `InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)`. With `decay=0`
      it is `lr` itself.

    Because `lr` is a leaf of the state, not a constant of the traced function, replacing
    `state.learning_rate` between two jitted steps changes the rate without a retrace.
    `make_inner` must build a transformation whose `init` does not depend on the rate.

    Args:
        make_inner: maps a scalar learning rate to the transformation that uses it.
        learning_rate: a float (stored in the state) or a schedule (a callable of the step).
        decay: Keras 2 time-based decay, only with a float `learning_rate`.

    Returns:
        An `optax.GradientTransformation` whose state is an `InjectLearningRateState`.
    """
    is_schedule = callable(learning_rate)

    def rate_at(step: jax.Array) -> jax.Array:
        return jnp.asarray(learning_rate(step), _LR_DTYPE)

    def init_fn(params: Params) -> InjectLearningRateState:
        iterations = jnp.zeros([], _COUNT_DTYPE)
        lr = rate_at(iterations) if is_schedule else jnp.asarray(learning_rate, _LR_DTYPE)
        inner_state = make_inner(lr).init(params)
        return InjectLearningRateState(iterations, lr, inner_state)

    def update_fn(updates: Updates, state: InjectLearningRateState, params: Params | None = None):
        if is_schedule:
            lr = stored = rate_at(state.iterations)
        else:
            stored = lr = jnp.asarray(state.learning_rate, _LR_DTYPE)
            if decay:
                lr = lr / (1.0 + jnp.asarray(decay, _LR_DTYPE) * state.iterations.astype(_LR_DTYPE))
        updates, inner_state = make_inner(lr).update(updates, state.inner_state, params)
        iterations = optax.safe_increment(state.iterations)
        return updates, InjectLearningRateState(iterations, stored, inner_state)

    return optax.GradientTransformation(init_fn, update_fn)


class CountIterationsState(NamedTuple):
    """State of `count_iterations`: `iterations` (int32) and the wrapped transformation's state."""

    iterations: jax.Array
    inner_state: OptState


def count_iterations(inner: optax.GradientTransformation) -> optax.GradientTransformation:
    """Wraps any optax transformation so that its state counts the updates it applied.

    Args:
        inner: the transformation to wrap, unchanged otherwise.

    Returns:
        An `optax.GradientTransformation` whose state is a `CountIterationsState`.
    """

    def init_fn(params: Params) -> CountIterationsState:
        return CountIterationsState(jnp.zeros([], _COUNT_DTYPE), inner.init(params))

    def update_fn(updates: Updates, state: CountIterationsState, params: Params | None = None):
        updates, inner_state = inner.update(updates, state.inner_state, params)
        return updates, CountIterationsState(optax.safe_increment(state.iterations), inner_state)

    return optax.GradientTransformation(init_fn, update_fn)
