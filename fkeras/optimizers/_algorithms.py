"""Keras 3's update rules, each a pure optax `GradientTransformation`.

Each `scale_by_keras_<name>(learning_rate, ...)` turns gradients into the final parameter update of
one Keras optimizer (`keras/src/optimizers/<name>.py`, `update_step`), so that
`optax.apply_updates(params, updates)` gives the variables Keras assigns. They differ from optax's
`scale_by_*` links in one deliberate way: the learning rate and the descent sign are inside. Keras
multiplies the rate into its formulas at specific places (Adam folds it into the bias-corrected step
size; SGD and RMSprop accumulate rate-scaled steps in their momentum, which matters as soon as the
rate changes between steps; Ftrl divides by it), so an optax-style `scale_by_learning_rate` at the
end of the chain would not be Keras's algorithm. Within each rule the operations follow Keras's
order and dtypes (Python-float hyperparameters, arithmetic in the variable's dtype), which makes the
results equal to Keras's up to floating-point rounding of fused operations.

State fields carry Keras's slot names (`momentum`, `velocity`, ...), each a tree shaped like the
parameters; a slot Keras does not create for the given arguments is `None`.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

Params = optax.Params
Updates = optax.Updates


def _per_leaf(fn: Callable[..., tuple], updates: Updates, *trees: Any) -> tuple:
    """Applies `fn(g, *leaves)` leaf by leaf and returns one tree per output of `fn`.

    A tree given as `None` (a slot Keras does not create) reaches `fn` as `None` at every leaf.
    """
    leaves, treedef = jax.tree.flatten(updates)
    columns = [
        [None] * len(leaves) if tree is None else treedef.flatten_up_to(tree) for tree in trees
    ]
    outputs = [fn(g, *args) for g, *args in zip(leaves, *columns, strict=True)]
    return tuple(treedef.unflatten(list(out)) for out in zip(*outputs, strict=True))


def _zeros(params: Params) -> Params:
    return jax.tree.map(jnp.zeros_like, params)


def _full(params: Params, value: float) -> Params:
    return jax.tree.map(lambda p: jnp.full_like(p, value), params)


def _step(count: jax.Array, dtype: Any) -> jax.Array:
    """Keras's `local_step`: the 1-based number of this update, in the variable's dtype."""
    return (count + 1).astype(dtype)


def _cast(value: jax.typing.ArrayLike, like: jax.Array) -> jax.Array:
    return jnp.asarray(value, like.dtype)


# -------------------------------------------------------------------------------------------------
# SGD
# -------------------------------------------------------------------------------------------------


class ScaleByKerasSgdState(NamedTuple):
    """State of `scale_by_keras_sgd`: `momentum` slots (`None` when `momentum == 0`)."""

    momentum: Updates | None


def scale_by_keras_sgd(
    learning_rate: jax.typing.ArrayLike, momentum: float = 0.0, nesterov: bool = False
) -> optax.GradientTransformation:
    """Keras's SGD: plain, with momentum, or Nesterov.

    With gradient `g` and rate `lr`: `m <- momentum * m - lr * g`; the update is `m`, or
    `momentum * m - lr * g` with `nesterov`. Without momentum it is `-lr * g`. The velocity holds
    rate-scaled steps, so a rate that changes between steps acts differently from
    `optax.sgd(lr, momentum)`, which scales an undamped trace of gradients by the current rate.

    Args:
        learning_rate: the rate of this step.
        momentum: float in [0, 1].
        nesterov: whether to look ahead along the velocity.

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasSgdState`.
    """

    def init_fn(params: Params) -> ScaleByKerasSgdState:
        return ScaleByKerasSgdState(_zeros(params) if momentum != 0 else None)

    def leaf(g, p, m):
        lr = _cast(learning_rate, p)
        g = g.astype(p.dtype)
        if m is None:
            return (-(g * lr), None)
        mom = _cast(momentum, p)
        m = m * mom - g * lr
        return ((m * mom - g * lr) if nesterov else m, m)

    def update_fn(updates, state, params=None):
        dtypes = params if params is not None else updates
        updates, m = _per_leaf(leaf, updates, dtypes, state.momentum)
        return updates, ScaleByKerasSgdState(m if momentum != 0 else None)

    return optax.GradientTransformation(init_fn, update_fn)


# -------------------------------------------------------------------------------------------------
# RMSprop, Adagrad, Adadelta
# -------------------------------------------------------------------------------------------------


class ScaleByKerasRmspropState(NamedTuple):
    """State of `scale_by_keras_rmsprop`: Keras's `velocity`, `momentum`, `average_gradient`."""

    velocity: Updates
    momentum: Updates | None
    average_gradient: Updates | None


def scale_by_keras_rmsprop(
    learning_rate: jax.typing.ArrayLike,
    rho: float = 0.9,
    momentum: float = 0.0,
    epsilon: float = 1e-7,
    centered: bool = False,
) -> optax.GradientTransformation:
    """Keras's RMSprop.

    `v <- rho * v + (1 - rho) * g**2`; centered: `a <- rho * a + (1 - rho) * g` and
    `den = v - a**2 + epsilon`, else `den = v + epsilon`; `step = lr * g / sqrt(den)`. With
    momentum, `m <- momentum * m + step` and the update is `-m`, else `-step`. Epsilon sits inside
    the root (`optax.scale_by_rms` has it there too, but accumulates from `initial_scale`, and its
    momentum variant scales by the rate after the trace).

    Args:
        learning_rate: the rate of this step.
        rho: discount of the moving averages.
        momentum: momentum factor; 0 creates no momentum slot.
        epsilon: added to the denominator inside the square root.
        centered: whether to divide by an estimate of the variance instead of the second moment.

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasRmspropState`.
    """

    def init_fn(params):
        return ScaleByKerasRmspropState(
            _zeros(params),
            _zeros(params) if momentum > 0 else None,
            _zeros(params) if centered else None,
        )

    def leaf(g, v, m, a):
        lr = _cast(learning_rate, v)
        g = g.astype(v.dtype)
        v = rho * v + (1 - rho) * jnp.square(g)
        if centered:
            a = rho * a + (1 - rho) * g
            den = v - jnp.square(a) + epsilon
        else:
            den = v + epsilon
        step = lr * g / jnp.sqrt(den)
        if momentum > 0:
            m = momentum * m + step
            return -m, v, m, a
        return -step, v, m, a

    def update_fn(updates, state, params=None):
        del params
        updates, v, m, a = _per_leaf(
            leaf, updates, state.velocity, state.momentum, state.average_gradient
        )
        return updates, ScaleByKerasRmspropState(
            v, m if momentum > 0 else None, a if centered else None
        )

    return optax.GradientTransformation(init_fn, update_fn)


class ScaleByKerasAdagradState(NamedTuple):
    """State of `scale_by_keras_adagrad`: Keras's `accumulator` of squared gradients."""

    accumulator: Updates


def scale_by_keras_adagrad(
    learning_rate: jax.typing.ArrayLike,
    initial_accumulator_value: float = 0.1,
    epsilon: float = 1e-7,
) -> optax.GradientTransformation:
    """Keras's Adagrad: `acc <- acc + g**2`, update `-lr * g / sqrt(acc + epsilon)`.

    `optax.scale_by_rss` adds epsilon differently (`where(acc > 0, 1 / sqrt(acc), 0)`) and
    defaults `initial_accumulator_value` to 0.1 as well.

    Args:
        learning_rate: the rate of this step.
        initial_accumulator_value: starting value of the accumulators.
        epsilon: added to the accumulator inside the square root.

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasAdagradState`.
    """

    def init_fn(params):
        return ScaleByKerasAdagradState(_full(params, initial_accumulator_value))

    def leaf(g, acc):
        g = g.astype(acc.dtype)
        acc = acc + jnp.square(g)
        return -(_cast(learning_rate, acc) * g / jnp.sqrt(acc + epsilon)), acc

    def update_fn(updates, state, params=None):
        del params
        updates, acc = _per_leaf(leaf, updates, state.accumulator)
        return updates, ScaleByKerasAdagradState(acc)

    return optax.GradientTransformation(init_fn, update_fn)


class ScaleByKerasAdadeltaState(NamedTuple):
    """State of `scale_by_keras_adadelta`: Keras's `accumulated_grad`, `accumulated_delta_var`."""

    accumulated_grad: Updates
    accumulated_delta_var: Updates


def scale_by_keras_adadelta(
    learning_rate: jax.typing.ArrayLike, rho: float = 0.95, epsilon: float = 1e-7
) -> optax.GradientTransformation:
    """Keras's Adadelta.

    `E[g2] <- rho * E[g2] + (1 - rho) * g**2`;
    `delta = -sqrt(E[dx2] + epsilon) * g / sqrt(E[g2] + epsilon)`;
    `E[dx2] <- rho * E[dx2] + (1 - rho) * delta**2`; update `lr * delta`. Keras scales by a
    learning rate (default 0.001) where the paper uses 1; `optax.adadelta` follows Keras here.

    Args:
        learning_rate: the rate of this step.
        rho: decay of both moving averages.
        epsilon: added inside both square roots.

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasAdadeltaState`.
    """

    def init_fn(params):
        return ScaleByKerasAdadeltaState(_zeros(params), _zeros(params))

    def leaf(g, acc_g, acc_dx):
        g = g.astype(acc_g.dtype)
        acc_g = rho * acc_g + (1 - rho) * jnp.square(g)
        delta = -(jnp.sqrt(acc_dx + epsilon) * g / jnp.sqrt(acc_g + epsilon))
        acc_dx = rho * acc_dx + (1 - rho) * jnp.square(delta)
        return _cast(learning_rate, acc_g) * delta, acc_g, acc_dx

    def update_fn(updates, state, params=None):
        del params
        updates, acc_g, acc_dx = _per_leaf(
            leaf, updates, state.accumulated_grad, state.accumulated_delta_var
        )
        return updates, ScaleByKerasAdadeltaState(acc_g, acc_dx)

    return optax.GradientTransformation(init_fn, update_fn)


# -------------------------------------------------------------------------------------------------
# Adam family and Lion
# -------------------------------------------------------------------------------------------------


class ScaleByKerasAdamState(NamedTuple):
    """State of `scale_by_keras_adam`: step `count` and Keras's `momentum`, `velocity`,
    `velocity_hat` (the AMSGrad maximum; `None` without `amsgrad`)."""

    count: jax.Array
    momentum: Updates
    velocity: Updates
    velocity_hat: Updates | None


def scale_by_keras_adam(
    learning_rate: jax.typing.ArrayLike,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    amsgrad: bool = False,
) -> optax.GradientTransformation:
    """Keras's Adam (and AdamW, whose decay is `with_decoupled_weight_decay`).

    At step `t` (1-based): `m <- m + (g - m) * (1 - beta_1)`, `v <- v + (g**2 - v) * (1 - beta_2)`,
    AMSGrad `v_hat <- max(v_hat, v)` used in place of `v`; the update is

        -alpha * m / (sqrt(v) + epsilon),   alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t).

    WARNING: this is not `optax.scale_by_adam` times the rate. Keras (like TensorFlow) folds both
    bias corrections into the step size `alpha` and adds `epsilon` (default 1e-7) to the root of the
    *uncorrected* second moment; optax corrects both moments and adds `eps` (default 1e-8) to
    `sqrt(v_hat)`. The two agree only when `epsilon` is rescaled by `sqrt(1 - beta_2**t)`.

    Args:
        learning_rate: the rate of this step.
        beta_1: decay of the first moment.
        beta_2: decay of the second moment.
        epsilon: added to `sqrt(v)`.
        amsgrad: whether to use the running maximum of the second moment (Reddi et al., 2018).

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasAdamState`.

    References:
        Kingma & Ba, 2014, "Adam: A Method for Stochastic Optimization", arXiv:1412.6980.
    """

    def init_fn(params):
        return ScaleByKerasAdamState(
            jnp.zeros([], jnp.int32), _zeros(params), _zeros(params),
            _zeros(params) if amsgrad else None,
        )

    def update_fn(updates, state, params=None):
        del params

        def leaf(g, m, v, v_hat):
            lr = _cast(learning_rate, m)
            g = g.astype(m.dtype)
            t = _step(state.count, m.dtype)
            alpha = lr * jnp.sqrt(1 - _cast(beta_2, m) ** t) / (1 - _cast(beta_1, m) ** t)
            m = m + (g - m) * (1 - beta_1)
            v = v + (jnp.square(g) - v) * (1 - beta_2)
            if amsgrad:
                v_hat = jnp.maximum(v_hat, v)
            denom = jnp.sqrt(v_hat if amsgrad else v) + epsilon
            return -(m * alpha / denom), m, v, v_hat

        updates, m, v, v_hat = _per_leaf(
            leaf, updates, state.momentum, state.velocity, state.velocity_hat
        )
        count = optax.safe_increment(state.count)
        return updates, ScaleByKerasAdamState(count, m, v, v_hat if amsgrad else None)

    return optax.GradientTransformation(init_fn, update_fn)


class ScaleByKerasAdamaxState(NamedTuple):
    """State of `scale_by_keras_adamax`: step `count`, Keras's `momentum` and `norm`."""

    count: jax.Array
    momentum: Updates
    norm: Updates


def scale_by_keras_adamax(
    learning_rate: jax.typing.ArrayLike,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> optax.GradientTransformation:
    """Keras's Adamax: Adam with the infinity norm.

    `m <- m + (g - m) * (1 - beta_1)`, `u <- max(beta_2 * u, |g|)`, update
    `-lr * m / ((1 - beta_1**t) * (u + epsilon))`. optax's `scale_by_adamax` adds `eps` to `u`
    before the bias correction divides, in another order.

    Args:
        learning_rate: the rate of this step.
        beta_1: decay of the first moment.
        beta_2: decay of the infinity norm.
        epsilon: added to the norm.

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasAdamaxState`.
    """

    def init_fn(params):
        return ScaleByKerasAdamaxState(jnp.zeros([], jnp.int32), _zeros(params), _zeros(params))

    def update_fn(updates, state, params=None):
        del params

        def leaf(g, m, u):
            lr = _cast(learning_rate, m)
            g = g.astype(m.dtype)
            beta_1_power = _cast(beta_1, m) ** _step(state.count, m.dtype)
            m = m + (g - m) * (1 - beta_1)
            u = jnp.maximum(beta_2 * u, jnp.abs(g))
            return -(lr * m / ((1 - beta_1_power) * (u + epsilon))), m, u

        updates, m, u = _per_leaf(leaf, updates, state.momentum, state.norm)
        return updates, ScaleByKerasAdamaxState(optax.safe_increment(state.count), m, u)

    return optax.GradientTransformation(init_fn, update_fn)


class ScaleByKerasNadamState(NamedTuple):
    """State of `scale_by_keras_nadam`: step `count`, Keras's `momentum`, `velocity`, and the
    running product `u_product` of the momentum schedule (a float32 scalar)."""

    count: jax.Array
    momentum: Updates
    velocity: Updates
    u_product: jax.Array


def scale_by_keras_nadam(
    learning_rate: jax.typing.ArrayLike,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
) -> optax.GradientTransformation:
    """Keras's Nadam, with Dozat's momentum schedule.

    `u_t = beta_1 * (1 - 0.5 * 0.96**t)`, `U_t = u_1 * ... * u_t` (kept in the state),
    `m <- m + (g - m) * (1 - beta_1)`, `v <- v + (g**2 - v) * (1 - beta_2)`,
    `m_hat = u_{t+1} * m / (1 - U_t * u_{t+1}) + (1 - u_t) * g / (1 - U_t)`,
    `v_hat = v / (1 - beta_2**t)`, update `-lr * m_hat / (sqrt(v_hat) + epsilon)`.
    `optax.nadam` is the simpler Nesterov-Adam of its `scale_by_adam(nesterov=True)`, without
    the 0.96 schedule.

    Args:
        learning_rate: the rate of this step.
        beta_1: decay of the first moment (before the schedule).
        beta_2: decay of the second moment.
        epsilon: added to `sqrt(v_hat)`.

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasNadamState`.

    References:
        Dozat, 2016, "Incorporating Nesterov Momentum into Adam", ICLR workshop.
    """

    def init_fn(params):
        leaves = jax.tree.leaves(params)
        dtype = leaves[0].dtype if leaves else jnp.float32
        return ScaleByKerasNadamState(
            jnp.zeros([], jnp.int32), _zeros(params), _zeros(params), jnp.ones([], dtype)
        )

    def update_fn(updates, state, params=None):
        del params
        u_dtype = state.u_product.dtype
        # Keras updates the shared product once per step, before the per-variable updates.
        u_product = state.u_product * beta_1 * (
            1.0 - 0.5 * jnp.power(jnp.asarray(0.96, u_dtype), _step(state.count, u_dtype))
        )

        def leaf(g, m, v):
            dtype = m.dtype
            lr = _cast(learning_rate, m)
            g = g.astype(dtype)
            t, t_next = _step(state.count, dtype), _step(state.count + 1, dtype)
            decay, b1, b2 = _cast(0.96, m), _cast(beta_1, m), _cast(beta_2, m)
            u_t = b1 * (1.0 - 0.5 * decay**t)
            u_t_1 = b1 * (1.0 - 0.5 * decay**t_next)
            u_prod_t = u_product.astype(dtype)
            u_prod_t_1 = u_prod_t * u_t_1
            m = m + (g - m) * (1 - b1)
            v = v + (jnp.square(g) - v) * (1 - b2)
            m_hat = u_t_1 * m / (1 - u_prod_t_1) + (1 - u_t) * g / (1 - u_prod_t)
            v_hat = v / (1 - b2**t)
            return -(m_hat * lr / (jnp.sqrt(v_hat) + epsilon)), m, v

        updates, m, v = _per_leaf(leaf, updates, state.momentum, state.velocity)
        count = optax.safe_increment(state.count)
        return updates, ScaleByKerasNadamState(count, m, v, u_product)

    return optax.GradientTransformation(init_fn, update_fn)


class ScaleByKerasLionState(NamedTuple):
    """State of `scale_by_keras_lion`: Keras's `momentum`."""

    momentum: Updates


def scale_by_keras_lion(
    learning_rate: jax.typing.ArrayLike, beta_1: float = 0.9, beta_2: float = 0.99
) -> optax.GradientTransformation:
    """Keras's Lion: update `-lr * sign(beta_1 * m + (1 - beta_1) * g)`, then
    `m <- beta_2 * m + (1 - beta_2) * g`.

    Same maths as `optax.scale_by_lion` followed by the rate; kept here so that the slot carries
    Keras's name and dtype handling.

    Args:
        learning_rate: the rate of this step.
        beta_1: interpolation between momentum and gradient for the sign.
        beta_2: decay of the momentum.

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasLionState`.

    References:
        Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675.
    """

    def init_fn(params):
        return ScaleByKerasLionState(_zeros(params))

    def leaf(g, m):
        lr = _cast(learning_rate, m)
        g = g.astype(m.dtype)
        b1, b2 = _cast(beta_1, m), _cast(beta_2, m)
        update = -(lr * jnp.sign(m * b1 + g * (1.0 - b1)))
        return update, m * b2 + g * (1.0 - b2)

    def update_fn(updates, state, params=None):
        del params
        updates, m = _per_leaf(leaf, updates, state.momentum)
        return updates, ScaleByKerasLionState(m)

    return optax.GradientTransformation(init_fn, update_fn)


# -------------------------------------------------------------------------------------------------
# Ftrl
# -------------------------------------------------------------------------------------------------


class ScaleByKerasFtrlState(NamedTuple):
    """State of `scale_by_keras_ftrl`: Keras's `accumulator` and `linear`."""

    accumulator: Updates
    linear: Updates


_MSG_FTRL_NEEDS_PARAMS = (
    "Ftrl computes the new parameters from the current ones: call "
    "`update(grads, state, params)`. Received: params=None"
)


def scale_by_keras_ftrl(
    learning_rate: jax.typing.ArrayLike,
    learning_rate_power: float = -0.5,
    initial_accumulator_value: float = 0.1,
    l1_regularization_strength: float = 0.0,
    l2_regularization_strength: float = 0.0,
    l2_shrinkage_regularization_strength: float = 0.0,
    beta: float = 0.0,
) -> optax.GradientTransformation:
    """Keras's Ftrl (follow the regularized leader), which sets the parameters in closed form.

    With `c = -learning_rate_power`, `l2 = l2_regularization_strength + beta / (2 * lr)`:
    `n' = n + g**2`; `z <- z + (g + 2 * l2_shrinkage * p) - (n'**c - n**c) / lr * p`;
    `p_new = (clip(z, -l1, l1) - z) / (n'**c / lr + 2 * l2)`; `n <- n'`. The update is
    `p_new - p`, so this link needs `params`. optax has no Ftrl.

    Args:
        learning_rate: the rate of this step.
        learning_rate_power: power of the accumulator in the per-coordinate rate (<= 0).
        initial_accumulator_value: starting value of the accumulators (>= 0).
        l1_regularization_strength: L1 penalty (>= 0).
        l2_regularization_strength: L2 penalty (>= 0).
        l2_shrinkage_regularization_strength: L2 penalty on the gradient, magnitude (>= 0).
        beta: the `beta` of the per-coordinate rate, folded into the L2 term.

    Returns:
        An `optax.GradientTransformation` with a `ScaleByKerasFtrlState`.

    References:
        McMahan et al., 2013, "Ad Click Prediction: a View from the Trenches", KDD.
    """
    power = -learning_rate_power
    l1 = l1_regularization_strength

    def init_fn(params):
        return ScaleByKerasFtrlState(_full(params, initial_accumulator_value), _zeros(params))

    def leaf(g, p, n, z):
        lr = _cast(learning_rate, p)
        g = g.astype(p.dtype)
        l2 = l2_regularization_strength + beta / (2.0 * lr)
        g_shrunk = g + 2 * l2_shrinkage_regularization_strength * p
        new_n = n + jnp.square(g)
        z = z + (g_shrunk - (jnp.power(new_n, power) - jnp.power(n, power)) / lr * p)
        quadratic = jnp.power(new_n, power) / lr + 2 * l2
        new_p = (jnp.clip(z, -l1, l1) - z) / quadratic
        return new_p - p, new_n, z

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(_MSG_FTRL_NEEDS_PARAMS)
        updates, n, z = _per_leaf(leaf, updates, params, state.accumulator, state.linear)
        return updates, ScaleByKerasFtrlState(n, z)

    return optax.GradientTransformation(init_fn, update_fn)
