"""Inference on array data: `evaluate`, `predict`, `test_on_batch` and `predict_on_batch`.

Arrays go through the jitted steps of `fkeras.engine._steps` a host chunk at a time: runs of
full batches as one scanned dispatch each, then batch by batch, the last batch padded to a power
of two and masked, so a new number of samples compiles nothing new. `predict` on a NumPy array
that fits one batch, with no callbacks or progress bar, takes a short path (`_predict_small`)
that skips the data adaptation once the array's dtype and shape are known to be right.
"""

import collections
import math

import jax
import numpy as np

from fkeras import _tree
from fkeras._traceback import filter_traceback
from fkeras.callbacks import CallbackList
from fkeras.distribution import distribution
from fkeras.engine import _data, _sharding, _steps
from fkeras.engine import _generators as _gen
from fkeras.engine._logs import StackedLogs, StepLogs
from fkeras.engine._streaming import HostOutputs
from fkeras.layers import _cell
from fkeras.models import _batching, _fit_args

_EVAL_CHUNK_BATCHES = 64
_EVAL_CHUNK_BYTES = 16 << 20
_DEFAULT_BATCH_SIZE = 32

_verbosity = _fit_args.check_verbose
_check_batch_size = _fit_args.check_batch_size


class InferenceLoops:
    """Mixin: the array paths of evaluate and predict, and the single-batch inference calls."""

    # ---- evaluate -------------------------------------------------------------------------

    def _jitted(self, key, make):
        """The jitted function cached under `key` (cleared by `compile`), made by `make()` once."""
        fn = self._fns.get(key)
        if fn is None:
            fn = self._fns[key] = make()
        return fn

    def _eval_fn(self, spec):
        return self._jitted(("eval", id(spec)), lambda: _steps.make_eval_step(self, spec))

    def _eval_steps_fn(self, spec):
        return self._jitted(("eval_many", id(spec)), lambda: _steps.make_eval_steps(self, spec))

    def _inference_callbacks(self, callbacks, verbose: int, steps: int) -> CallbackList:
        """The callbacks of one evaluate/predict call (a progress bar unless `verbose` is 0)."""
        return CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=steps)

    def _predict_fn(self):
        return self._jitted("predict", lambda: _steps.make_predict_step(self))

    def _predict_steps_fn(self):
        return self._jitted("predict_many", lambda: _steps.make_predict_steps(self))

    def _evaluate_arrays(self, xs, ys, sws, batch_size, callbacks=None, steps=None) -> dict:
        spec = self._spec_for(ys)
        fn = self._eval_fn(spec)
        variables = self._placed_variables()
        metrics = spec.init_metrics()
        n = xs[0].shape[0]
        if steps is not None:
            n = min(n, _gen.steps_for(None, steps, "steps") * batch_size)
        hooks = callbacks is not None and callbacks.needs_batch_hooks("test")
        maskable = spec.maskable and not self._has_activity_losses()
        arrays = (xs, ys, sws)
        # Runs of full batches go `chunk` at a time through one scanned dispatch; the chunk is a
        # view of the host arrays, so only `chunk` batches are ever on the device at once.
        chunk = _eval_chunk(arrays, batch_size) if distribution() is None else 1
        in_flight = collections.deque()
        for step, start, steps in _batching.spans(n, batch_size, chunk):
            if steps > 1:
                batch = _steps.Batch(*(tuple(_batching.chunk(part, start, chunk, batch_size)) for part in arrays))
                mask = np.ones((chunk, batch_size), np.float32) if maskable else None
                metrics, logs = self._eval_steps_fn(spec)(variables, metrics, batch, mask)
                # Dispatch runs ahead of the device: wait for the chunk before last, so that
                # at most a few chunks' copies of the data are on the device at once.
                in_flight.append(logs)
                if len(in_flight) > 2:
                    jax.block_until_ready(in_flight.popleft())
                if hooks:
                    stack = StackedLogs(logs, stacked=True)
                    for i in range(chunk):
                        callbacks.on_test_batch_begin(step + i)
                        callbacks.on_test_batch_end(step + i, StepLogs(stack, i))
                continue
            size = min(batch_size, n - start)
            padded = _batching.bucket(size, batch_size) if maskable else size
            cut = lambda part: [None if a is None else a[start:start + size] for a in part]  # noqa: E731
            batch = _steps.Batch(*(_batching.pad(cut(part), padded) for part in arrays))
            mask = None
            if maskable:
                mask = np.zeros((padded,), np.float32)
                mask[:size] = 1.0
            if hooks:
                callbacks.on_test_batch_begin(step)
            metrics = fn(variables, metrics, *_sharding.place_batch(distribution(), (batch, mask)))
            if hooks:
                callbacks.on_test_batch_end(step, StepLogs(StackedLogs(spec.results(metrics), False), 0))
        return {k: float(v) for k, v in jax.device_get(spec.results(metrics)).items()}

    @filter_traceback
    def evaluate(
        self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
        callbacks=None, return_dict=False, max_queue_size=10, workers=1, use_multiprocessing=False,
        **kwargs,
    ):
        """Loss and metrics on `x`, `y` (or a generator/Sequence): a scalar (loss only), a list in
        `metrics_names` order, or a dict with `return_dict=True`."""
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword argument(s): {sorted(kwargs)}")
        self._require_compiled("evaluate")
        verbose, steps, loading = _checked_args(verbose, steps, batch_size, max_queue_size, workers, use_multiprocessing)
        if _gen.is_batch_source(x):
            n_steps = _gen.steps_for(x, steps, "steps")
            callbacks = self._inference_callbacks(callbacks, verbose, n_steps)
            callbacks.on_test_begin()
            logs = self._evaluate_source(x, n_steps, loading, callbacks)
        else:
            if y is None:
                raise ValueError("evaluate: `y` (the targets) is required for array inputs. Received: y=None")
            batch_size = _check_batch_size(batch_size)
            xs, ys, sws = self._adapt(x, y, sample_weight)
            n_steps = math.ceil(xs[0].shape[0] / batch_size)
            if steps is not None:
                n_steps = min(n_steps, _gen.steps_for(None, steps, "steps"))
            callbacks = self._inference_callbacks(callbacks, verbose, n_steps)
            callbacks.on_test_begin()
            logs = self._evaluate_arrays(xs, ys, sws, batch_size, callbacks, steps=steps)
        callbacks.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names if name in logs]
        return values[0] if len(values) == 1 else values

    # ---- predict --------------------------------------------------------------------------

    @filter_traceback
    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False, **kwargs):
        """Model outputs for `x`, as NumPy arrays (one, a list, or a dict like the outputs)."""
        if (type(x) is np.ndarray and callbacks is None and steps is None and verbose == 0 and not kwargs
                and (batch_size is None or (type(batch_size) is int and batch_size > 0))):
            out = self._predict_small(x, batch_size or _DEFAULT_BATCH_SIZE)
            if out is not None:
                return out
        if kwargs:
            raise TypeError(f"predict() got unexpected keyword argument(s): {sorted(kwargs)}")
        verbose, steps, loading = _checked_args(verbose, steps, batch_size, max_queue_size, workers, use_multiprocessing)
        if _gen.is_batch_source(x):
            n_steps = _gen.steps_for(x, steps, "steps")
            callbacks = self._inference_callbacks(callbacks, verbose, n_steps)
            callbacks.on_predict_begin()
            out = self._predict_source(x, n_steps, loading, callbacks)
            callbacks.on_predict_end()
            return out
        batch_size = _check_batch_size(batch_size)
        xs = self._adapt_x(x)
        self._note_predict_input(x, xs)
        n = _data.check_cardinality({"x": xs})
        if steps is not None:
            n = min(n, _gen.steps_for(None, steps, "steps") * batch_size)
        fn = self._predict_fn()
        if callbacks is None and verbose == 0 and n <= batch_size and distribution() is None:
            return self._predict_one_batch(fn, xs, n, batch_size)
        callbacks = self._inference_callbacks(callbacks, verbose, math.ceil(n / batch_size))
        hooks = callbacks.needs_batch_hooks("predict")
        callbacks.on_predict_begin()
        variables = self._placed_variables()
        # One host chunk of batches at a time goes to the device (runs of full batches `chunk`
        # at a time, one scanned dispatch each), and outputs come back a few dispatches behind:
        # neither the inputs nor the outputs are ever on the device whole.
        chunk = 1 if hooks or distribution() is not None else _eval_chunk((xs,), batch_size)
        outputs, state_changed = HostOutputs(), False
        for step, start, steps in _batching.spans(n, batch_size, chunk):
            if steps > 1:
                part = _batching.chunk(xs, start, chunk, batch_size)
                outs, new_state = self._predict_steps_fn()(variables, part)
                size = chunk * batch_size
            else:
                size = min(batch_size, n - start)
                if hooks:
                    callbacks.on_predict_batch_begin(step)
                batch = _batching.pad([a[start:start + size] for a in xs], _batching.bucket(size, batch_size))
                outs, new_state = fn(variables, _sharding.place_batch(distribution(), batch))
                if hooks:
                    callbacks.on_predict_batch_end(step, {"outputs": outs})
            if new_state:  # stateful layers carry their state to the next batch
                variables = {"params": variables["params"], "state": _tree.merge(variables["state"], new_state)}
                state_changed = True
            outputs.append(outs, size)
        if state_changed:
            self._assign_variables(variables)
            _cell.write_version += 1
        flat = outputs.concatenate(len(self.outputs))
        callbacks.on_predict_end()
        return self._unflatten_outputs(flat)

    def _note_predict_input(self, x, xs) -> None:
        """Remember a single NumPy input that `_adapt_x` accepted as it was (no conversion)."""
        graph = getattr(self, "_graph", None)
        if type(x) is np.ndarray and len(xs) == 1 and xs[0] is x and graph is not None:
            self._predict_input = (graph, x.dtype, x.shape[1:])

    def _predict_small(self, x, batch_size):
        """predict on one NumPy array that fits one batch, with the data adaptation skipped: its
        dtype and trailing shape are those of an input `_adapt_x` accepted unchanged for this
        graph. None where the full path is needed (first call, another dtype or shape, more
        than one batch, an active distribution). Its host work is ~2 us; on XLA:CPU a call that
        comes more than ~5 us after the last one finishes waits ~20-40 us more for the runtime's
        worker thread to wake (measured), so the per-call work matters."""
        seen = self._predict_input
        n = x.shape[0] if x.ndim else 0
        if (seen is None or seen[0] is not getattr(self, "_graph", None) or seen[1] != x.dtype
                or seen[2] != x.shape[1:] or not 0 < n <= batch_size or distribution() is not None):
            return None
        return self._predict_one_batch(self._predict_fn(), (x,), n, batch_size)

    def _predict_one_batch(self, fn, xs, n, batch_size):
        """predict's fast path: one padded batch, no callbacks, no progress bar."""
        padded = _batching.bucket(n, batch_size)
        outs, new_state = fn(self._current_variables(), xs if padded == n else _batching.pad(xs, padded))
        if new_state:
            current = self._current_variables()
            self._assign_variables({"params": current["params"], "state": _tree.merge(current["state"], new_state)})
            _cell.write_version += 1
        flat = [np.asarray(o) for o in outs]
        return self._unflatten_outputs(flat if padded == n else [o[:n] for o in flat])

    @filter_traceback
    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """Loss and metrics on one batch, without updating the model."""
        self._require_compiled("test_on_batch")
        xs, ys, sws = self._adapt(x, y, sample_weight)
        logs = self._evaluate_arrays(xs, ys, sws, batch_size=xs[0].shape[0])
        return _as_returned(logs, self._spec_for(ys).names, return_dict)

    @filter_traceback
    def predict_on_batch(self, x):
        """Model outputs for one batch `x`."""
        if type(x) is np.ndarray:
            out = self._predict_small(x, x.shape[0] if x.ndim else 0)
            if out is not None:
                return out
        xs = self._adapt_x(x)
        self._note_predict_input(x, xs)
        n = _data.check_cardinality({"x": xs})
        if distribution() is not None:
            return self.predict(xs, batch_size=max(1, n), verbose=0)
        return self._predict_one_batch(self._predict_fn(), xs, n, max(1, n))


def _checked_args(verbose, steps, batch_size, max_queue_size, workers, use_multiprocessing):
    """evaluate's and predict's shared arguments, checked: (verbose, steps, loading options)."""
    verbose = _verbosity(verbose)
    steps = _fit_args.check_optional_positive_int("steps", steps)
    _fit_args.check_optional_positive_int("batch_size", batch_size)
    loading = dict(max_queue_size=max_queue_size, workers=workers, use_multiprocessing=use_multiprocessing)
    return verbose, steps, loading


def _eval_chunk(arrays, batch_size: int) -> int:
    """Batches per scanned evaluation dispatch: fixed for a given batch size and row layout, so a
    new number of samples compiles nothing new (the rest of the full batches go one by one)."""
    row_bytes = sum(a[:1].nbytes for part in arrays for a in part if a is not None)
    return max(1, min(_EVAL_CHUNK_BATCHES, _EVAL_CHUNK_BYTES // max(1, row_bytes * batch_size)))


def _as_returned(logs: dict, names: list, return_dict: bool):
    if return_dict:
        return logs
    values = [logs[name] for name in names]
    return values[0] if len(values) == 1 else values


