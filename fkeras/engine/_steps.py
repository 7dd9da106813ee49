"""Pure step functions and their jitted, fused forms.

Everything here is a function of its arguments: the model's pure `apply`, the resolved
`CompileSpec`, an optax transformation. The facade pulls variables out of the layer cells into a
`TrainState`, hands it to these functions (donated), and writes the result back.

- `train_step(ts, batch) -> (ts, logs)`: one optimizer update, metrics accumulated on device.
- `make_train_functions`: many steps in one dispatch, a `lax.scan` over rows of batch indices
  gathered from data already on the device, framed by `epoch_control` (an epoch's start and
  end); per-step logs come back stacked and packed into one buffer.
- `make_eval_step`, `make_predict_step`: padded batches with a mask, so any number of samples
  reuses the same compiled shapes; `make_eval_steps`, `make_predict_steps`: the same scanned over
  a chunk of full batches.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fkeras import _config, _tree
from fkeras.engine import _sharding
from fkeras.engine._logs import LogPacker
from fkeras.optimizers import _loss_scale


class TrainState(NamedTuple):
    """Everything a training step reads and writes; donated to each jitted call."""

    params: Any  # trainable parameters
    frozen: Any  # parameters of non-trainable layers
    state: Any  # non-trainable layer state (e.g. BatchNormalization statistics)
    opt_state: Any
    metrics: Any  # (loss trackers, metric states)
    rng: jax.Array


def unalias(tree):
    """Copy any array that appears twice in `tree`: a donated argument may not alias itself."""
    seen: set = set()

    def fresh(x):
        if isinstance(x, jax.Array):
            if id(x) in seen:
                return jnp.array(x, copy=True)
            seen.add(id(x))
        return x

    return jax.tree_util.tree_map(fresh, tree)


class Batch(NamedTuple):
    xs: tuple
    ys: tuple
    sws: tuple


def _flat_preds(model, preds) -> list:
    if isinstance(preds, dict):
        return [preds[name] for name in model.output_names]
    if isinstance(preds, (list, tuple)):
        return list(preds)
    return [preds]


def _model_inputs(model, xs):
    return list(xs) if len(xs) > 1 else xs[0]


def _loss_dtype(preds: list) -> list:
    """Half-precision outputs of a mixed-precision model, upcast for the losses and metrics
    (Keras's losses and metrics convert `y_pred` to their own dtype, floatx); a no-op otherwise."""
    floatx = jnp.dtype(_config.floatx())
    return [
        p.astype(floatx)
        if p.dtype in (jnp.float16, jnp.bfloat16) and p.dtype != floatx and floatx.itemsize > 2
        else p
        for p in preds
    ]


def _value_and_grad(loss_fn, scale, *args):
    """`((total, aux), grads)` of `loss_fn`; with a loss scale (a LossScaleOptimizer's state),
    the gradients are those of `total * scale` (Keras's `optimizer.scale_loss`), and `total`
    stays the unscaled loss for the metrics."""
    if scale is None:
        return jax.value_and_grad(loss_fn, has_aux=True)(*args)

    def scaled(*a):
        total, aux = loss_fn(*a)
        return total * scale, (total, aux)

    (_, (total, aux)), grads = jax.value_and_grad(scaled, has_aux=True)(*args)
    return (total, aux), grads


def make_train_step(model, spec, tx):
    """The pure one-batch training step for `model` compiled with `spec` and optimizer `tx`."""

    def loss_fn(params, ts: TrainState, batch: Batch, rng):
        variables = {"params": _tree.merge(params, ts.frozen), "state": ts.state}
        preds, _, new_state, activity = model.apply_with_losses(
            variables, _model_inputs(model, batch.xs), training=True, rng=rng
        )
        preds = _loss_dtype(_flat_preds(model, preds))
        total, per_output = spec.total_loss(batch.ys, preds, batch.sws)
        total = total + model.penalty(variables["params"]) + activity
        return total, (preds, new_state, per_output)

    constrained = _has_constraints(model)

    def train_step(ts: TrainState, batch: Batch):
        rng, step_rng = jax.random.split(ts.rng)
        scale = _loss_scale.current_scale(ts.opt_state)
        (total, (preds, new_state, per_output)), grads = _value_and_grad(
            loss_fn, scale, ts.params, ts, batch, step_rng
        )
        updates, opt_state = tx.update(grads, ts.opt_state, ts.params)
        params = optax.apply_updates(ts.params, updates)
        if constrained:
            params = _constrain(model, params, ts.params, None if scale is None else grads)
        metrics = spec.update_metrics(
            ts.metrics, total, per_output, batch.ys, preds, batch.sws, batch_size=batch.xs[0].shape[0]
        )
        state = _tree.merge(ts.state, new_state) if new_state else ts.state
        ts = TrainState(params, ts.frozen, state, opt_state, metrics, rng)
        return ts, spec.results(metrics)

    return train_step


def _constrain(model, params, old_params, scaled_grads):
    """`model.constrain(params)`, except after a step a LossScaleOptimizer skipped (non-finite
    gradients): then the weights stay exactly as they were, as in Keras (no constraint runs)."""
    constrained = model.constrain(params)
    if scaled_grads is None:
        return constrained
    finite = _loss_scale.all_finite(scaled_grads)
    return jax.tree_util.tree_map(lambda c, p: jnp.where(finite, c, p), constrained, old_params)


def _has_constraints(model) -> bool:
    return any(layer._has_constraints() for layer in _all_layers(model))


def _all_layers(model):
    for layer in getattr(model, "_weight_layers", lambda: [])():
        yield layer
        if hasattr(layer, "_weight_layers"):
            yield from _all_layers(layer)


def gather(data, idx):
    return jax.tree_util.tree_map(lambda a: jnp.take(a, idx, axis=0), data)


class TrainFunctions(NamedTuple):
    """The jitted train functions of one model, compile spec and optimizer."""

    one: Any  # one(ts, data, idx, ctl) -> (ts, packed logs)
    many: Any  # many(ts, data, idx2d, tail, ctl) -> (ts, packed logs)
    step: Any  # step(ts, batch) -> (ts, {name: scalar})
    packer: LogPacker  # unpacks the logs `one` and `many` return


def epoch_control(start: bool, end: bool, key_words: np.ndarray, next_words: np.ndarray) -> np.ndarray:
    """The small host array that frames a dispatch within an epoch (one transfer):
    `[start, end, *key words, *next key words]`.

    `start`: the dispatch opens the epoch (metrics reset, the training key set to `key_words`);
    `end`: it closes the epoch (the training key left for the next one is `next_words`).
    """
    return np.concatenate([np.array([start, end], np.uint32), key_words.ravel(), next_words.ravel()])


def _open(spec, ts: TrainState, ctl) -> TrainState:
    """Traced: at an epoch's start, zero the metric accumulators and set the epoch's key. The
    flags are traced, not static: the first dispatch of an epoch and the others share one
    compiled program."""
    start = ctl[0] != 0
    metrics = jax.tree_util.tree_map(
        lambda init, current: jnp.where(start, init, current), spec.init_metrics(), ts.metrics
    )
    return ts._replace(metrics=metrics, rng=_select_key(start, ctl, 0, ts.rng))


def _close(ts: TrainState, ctl) -> TrainState:
    """Traced: at an epoch's end, leave the next epoch's key in the training state."""
    return ts._replace(rng=_select_key(ctl[1] != 0, ctl, 1, ts.rng))


def _select_key(flag, ctl, which: int, rng):
    """`rng`, or where `flag` holds, the key whose words are the `which`-th of `ctl`."""
    words = jax.random.key_data(rng)
    given = jax.lax.dynamic_slice_in_dim(ctl, 2 + which * words.size, words.size).reshape(words.shape)
    return jax.random.wrap_key_data(jnp.where(flag, given, words), impl=jax.random.key_impl(rng))


def make_train_functions(model, spec, tx, dist=None, state_shardings=None) -> TrainFunctions:
    """Jitted train functions over device-resident `data`.

    - `one(ts, data, idx, ctl)`: one batch (the rows `idx`).
    - `many(ts, data, idx2d, tail, ctl)`: a `lax.scan` over the rows of `idx2d` (one batch
      each), then, when `tail` is not None, the epoch's partial last batch, all in one dispatch;
      the per-step logs come back stacked (one entry per batch, the tail's last).
    - `step(ts, batch)`: one batch given as arrays (generators, train_on_batch).

    `ctl` (from `epoch_control`) says whether a dispatch opens or closes its epoch. `one` and
    `many` return their logs packed (`packer`): reading them is one device-to-host copy.
    """
    step = make_train_step(model, spec, tx)
    packer = LogPacker()

    def batch_of(data, idx):
        # under a distribution, each device gathers and computes only its rows of the batch
        return _sharding.constrain_batch(dist, gather(data, idx))

    def one(ts, data, idx, ctl):
        ts, logs = step(_open(spec, ts, ctl), batch_of(data, idx))
        return _close(ts, ctl), packer.pack(logs)

    def many(ts, data, idx2d, tail, ctl):
        ts = _open(spec, ts, ctl)
        ts, logs = jax.lax.scan(lambda carry, row: step(carry, batch_of(data, row)), ts, idx2d)
        if tail is not None:
            ts, last = step(ts, batch_of(data, tail))
            logs = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b[None]]), logs, last)
        return _close(ts, ctl), packer.pack(logs)

    return TrainFunctions(
        _sharding.jit_train(one, state_shardings),
        _sharding.jit_train(many, state_shardings),
        _sharding.jit_train(step, state_shardings),
        packer,
    )


def make_eval_steps(model, spec):
    """Jitted `many(variables, metrics, chunk, mask) -> (metrics, stacked results)`: a `lax.scan`
    of the eval step over a chunk of full batches (every leaf of `chunk`, and `mask`, has a
    leading axis of steps), so evaluating many batches is one dispatch; the results after each
    step come back stacked for the batch callbacks."""
    step = _eval_step_fn(model, spec)

    def many(variables, metrics, chunk: Batch, mask):
        def body(current, xs):
            batch, batch_mask = xs
            current = step(variables, current, batch, batch_mask)
            return current, spec.results(current)

        return jax.lax.scan(body, metrics, (chunk, mask))

    return jax.jit(many, donate_argnums=1)


def make_eval_step(model, spec):
    """Jitted `eval(variables, metrics, batch, mask) -> metrics` on a padded batch."""
    return jax.jit(_eval_step_fn(model, spec), donate_argnums=1)


def _eval_step_fn(model, spec):
    """The pure eval step: metrics updated with one (padded, masked) batch."""

    def eval_step(variables, metrics, batch: Batch, mask):
        preds, _, _, activity = model.apply_with_losses(variables, _model_inputs(model, batch.xs), training=False)
        preds = _loss_dtype(_flat_preds(model, preds))
        total, per_output = spec.total_loss(batch.ys, preds, batch.sws, mask=mask)
        total = total + model.penalty(variables["params"]) + activity
        return spec.update_metrics(
            metrics, total, per_output, batch.ys, preds, batch.sws, mask=mask,
            batch_size=batch.xs[0].shape[0],
        )

    return eval_step


def make_predict_step(model):
    """Jitted `predict(variables, xs) -> (flat list of outputs, new_state)`; the state changes
    only for stateful layers (RNN states carried from batch to batch)."""

    def predict_step(variables, xs):
        preds, new_state = model.apply(variables, _model_inputs(model, xs), training=False)
        return _flat_preds(model, preds), new_state

    return jax.jit(predict_step)


def make_predict_steps(model):
    """Jitted `many(variables, chunk) -> (flat list of outputs, new_state)`: a `lax.scan` of the
    predict step over a chunk of full batches (each input with a leading axis of steps); the
    outputs come back with the steps joined into the batch axis. Layer state changed by a batch
    (stateful RNNs) is carried to the next one; `new_state` is `{}` when nothing changes."""

    def many(variables, chunk):
        changed = []

        def body(state, xs):
            preds, new_state = model.apply(
                {"params": variables["params"], "state": state}, _model_inputs(model, xs), training=False
            )
            changed.append(bool(new_state))
            return (_tree.merge(state, new_state) if new_state else state), _flat_preds(model, preds)

        state, outs = jax.lax.scan(body, variables["state"], chunk)
        flat = [o.reshape((-1, *o.shape[2:])) for o in outs]
        return flat, (state if any(changed) else {})

    return jax.jit(many)
