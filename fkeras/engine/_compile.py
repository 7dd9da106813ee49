"""What `compile` asked for, resolved against the model's outputs: losses, weights and metrics.

`CompileSpec` is built once the output shapes and the targets' shapes are known (the first
`fit`/`evaluate` call), and from then on offers pure functions on device values:

- `total_loss(ys, preds, sws, mask)` -> (scalar training loss, per-output unweighted losses);
- `init_metrics()`, `update_metrics(state, ...)`, `results(state)` for the logged values.

Names follow Keras: `loss`, `<output>_loss` for several outputs, metric names as the user wrote
them (`acc` stays `acc`), prefixed by the output name when the model has several outputs.
"""

import numbers

import jax.numpy as jnp

from fkeras import losses as losses_module
from fkeras import metrics as metrics_module


def _per_output(value, output_names: list[str], what: str, *, allow_single: bool = True) -> list:
    """Spread a compile argument (one value, list or dict) over the outputs."""
    n = len(output_names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in output_names]
        if unknown:
            raise ValueError(
                f"compile: `{what}` has keys {unknown} that are not output names. "
                f"Expected keys among: {output_names}. Received: {what}={value!r}"
            )
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)) and what != "metrics":
        if len(value) != n:
            raise ValueError(
                f"compile: when `{what}` is a list it must have one entry per output "
                f"({n}: {output_names}). Received: {what}={value!r}"
            )
        return list(value)
    if not allow_single and n > 1 and value is not None:
        raise ValueError(f"compile: `{what}` must be a list or dict for {n} outputs. Received: {what}={value!r}")
    return [value] * n


def _metrics_per_output(metrics, output_names: list[str], what: str) -> list[list]:
    n = len(output_names)
    if metrics is None:
        return [[] for _ in range(n)]
    if isinstance(metrics, dict):
        per = _per_output(metrics, output_names, what)
        return [[] if m is None else (list(m) if isinstance(m, (list, tuple)) else [m]) for m in per]
    if isinstance(metrics, (list, tuple)):
        if n > 1 and metrics and all(isinstance(m, (list, tuple)) or m is None for m in metrics):
            if len(metrics) != n:
                raise ValueError(
                    f"compile: a list of metric lists must have one list per output ({n}). "
                    f"Received: {what}={metrics!r}"
                )
            return [list(m or []) for m in metrics]
        return [list(metrics) for _ in range(n)]
    return [[metrics] for _ in range(n)]


def unique_metric_names(entries, output_names: list[str], loss_names: list[str]) -> list[str]:
    """Keras's log names for `(output index, metric name, weighted)` entries: `<output>_<metric>`
    for several outputs; a weighted metric whose name is taken becomes `weighted_<metric>`; later
    clashes get `_1`, `_2`, ..."""
    prefixes = [f"{name}_" if len(output_names) > 1 else "" for name in output_names]
    taken = {"loss", *loss_names}
    names = []
    for i, metric_name, weighted in entries:
        name = prefixes[i] + metric_name
        if name in taken and weighted:
            name = prefixes[i] + "weighted_" + metric_name
        base, k = name, 1
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        names.append(name)
    return names


class CompileSpec:
    """Losses, loss weights and metrics per output, ready for the jitted steps."""

    def __init__(self, loss, loss_weights, metrics, weighted_metrics, output_names, y_shapes, pred_shapes):
        self.output_names = list(output_names)
        n = len(output_names)
        loss_ids = _per_output(loss, output_names, "loss")
        self.losses = []
        for i, ident in enumerate(loss_ids):
            if ident is None:
                self.losses.append(None)
                continue
            self.losses.append(self._get_loss(ident, y_shapes[i], pred_shapes[i]))
        if all(lo is None for lo in self.losses):
            raise ValueError(
                "compile: no loss was given for any output. Pass `loss=` to `compile`. "
                f"Received: loss={loss!r}"
            )
        weights = [1.0] * n if loss_weights is None else _per_output(loss_weights, output_names, "loss_weights")
        for w in weights:
            if w is not None and (isinstance(w, bool) or not isinstance(w, numbers.Real)):
                raise ValueError(
                    "compile: `loss_weights` must be numbers (one, or a list/dict with one per "
                    f"output: {output_names}). Received: loss_weights={loss_weights!r}"
                )
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.multi = n > 1
        self.loss_names = [f"{name}_loss" for name in output_names] if self.multi else []

        self.metrics: list[tuple[int, object, bool]] = []  # (output index, Metric, weighted)
        for weighted, spec in ((False, metrics), (True, weighted_metrics)):
            what = "weighted_metrics" if weighted else "metrics"
            for i, idents in enumerate(_metrics_per_output(spec, output_names, what)):
                for ident in idents:
                    metric = metrics_module.get_compile_metric(
                        ident, y_shapes[i], pred_shapes[i], loss=loss_ids[i]
                    )
                    self.metrics.append((i, metric, weighted))
        self.metric_names = self._unique_metric_names(output_names)
        # Padding a last partial batch and masking it is exact for built-in losses and metrics
        # (per-sample values); a user function may reduce over the batch itself, so then the
        # engine runs the partial batch at its real size instead.
        self.maskable = not any(
            _is_user_fn(getattr(obj, "fn", None) or getattr(obj, "_fn", None))
            for obj in [lo for lo in self.losses if lo is not None] + [m for _, m, _ in self.metrics]
        )
        self.names = ["loss"] + self.loss_names + self.metric_names

    def _unique_metric_names(self, output_names) -> list[str]:
        entries = [(i, metric.name, weighted) for i, metric, weighted in self.metrics]
        return unique_metric_names(entries, output_names, self.loss_names)

    @staticmethod
    def _get_loss(ident, y_shape, pred_shape):
        return losses_module.get_compile_loss(ident, y_shape, pred_shape)

    # ---- losses -------------------------------------------------------------------------------

    def total_loss(self, ys, preds, sws, mask=None):
        """Weighted sum of the per-output losses, and the unweighted per-output values.

        With `mask` (1 for real samples, 0 for padding), reductions count real samples only.
        """
        total = 0.0
        per_output = []
        for i, loss in enumerate(self.losses):
            if loss is None:
                per_output.append(jnp.zeros((), jnp.float32))
                continue
            if mask is None:
                value = loss(ys[i], preds[i], sample_weight=sws[i])
            else:
                value = _masked_loss(loss, ys[i], preds[i], sws[i], mask)
            value = jnp.asarray(value, jnp.float32)
            per_output.append(value)
            total = total + value * self.loss_weights[i]
        return total, per_output

    # ---- metrics ------------------------------------------------------------------------------

    def init_metrics(self):
        trackers = tuple(
            (jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32)) for _ in range(1 + len(self.loss_names))
        )
        return trackers, tuple(m.init() for _, m, _ in self.metrics)

    def update_metrics(self, state, total, per_output, ys, preds, sws, mask=None, batch_size=None):
        trackers, mstates = state
        if mask is None:
            count = jnp.asarray(batch_size, jnp.float32)
        else:
            count = jnp.sum(mask).astype(jnp.float32)
        values = [total] + (list(per_output) if self.multi else [])
        trackers = tuple((t + v * count, c + count) for (t, c), v in zip(trackers, values))
        new_mstates = []
        for (i, metric, weighted), s in zip(self.metrics, mstates):
            sw = sws[i] if weighted else None
            if mask is not None:
                sw = mask if sw is None else sw * _expand_like(mask, sw)
            new_mstates.append(metric.update(s, ys[i], preds[i], sample_weight=sw))
        return trackers, tuple(new_mstates)

    def results(self, state) -> dict:
        trackers, mstates = state
        out = {}
        for name, (t, c) in zip(["loss"] + self.loss_names, trackers):
            out[name] = t / jnp.maximum(c, 1.0)
        for name, (_, metric, _), s in zip(self.metric_names, self.metrics, mstates):
            out[name] = jnp.asarray(metric.compute(s), jnp.float32)
        return out


def _is_user_fn(fn) -> bool:
    return fn is not None and not (getattr(fn, "__module__", None) or "").startswith("fkeras")


def _expand_like(mask, sw):
    return mask.reshape(mask.shape + (1,) * (jnp.ndim(sw) - 1))


def _masked_loss(loss, y_true, y_pred, sample_weight, mask):
    """`loss(y_true, y_pred, sample_weight)` over the real (mask == 1) samples of a padded batch."""
    values, value_mask = loss.call_with_mask(y_true, y_pred)
    pad = jnp.broadcast_to(_expand_like(mask, values) > 0, values.shape)
    full = pad if value_mask is None else pad & jnp.asarray(value_mask, bool)
    return losses_module.reduce_values(values, sample_weight, loss.reduction, mask=full)
