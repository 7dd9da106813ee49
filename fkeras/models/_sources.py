"""Training and inference on batch sources (Python generators and `Sequence`s), and Keras 2's
`fit_generator` / `evaluate_generator` / `predict_generator`.

Each batch arrives on the host, is adapted like array data, and runs through the same jitted
single-batch steps as array training (one compiled shape per distinct batch shape). Batches are
read ahead by `engine._generators.Prefetcher`, whose workers are stopped and joined whenever a
loop ends, normally or by an exception.
"""

import math
import warnings

import jax
import numpy as np

from fkeras._traceback import filter_traceback
from fkeras.engine import _generators as _gen
from fkeras.engine import _steps
from fkeras.engine._logs import StackedLogs, StepLogs
from fkeras.engine._streaming import HostOutputs
from fkeras.layers import _cell
from fkeras.models._safety import defer_sigint, sigint_guard
from fkeras.utils._sequence import Sequence

MSG_RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or generator "
    "can generate at least `steps_per_epoch * epochs` batches ({needed} here)."
)


def _batches(source, steps, loading, shuffle=False):
    """`with _batches(...) as it:` iterates the batches; leaving the block joins the workers."""
    return _gen.Prefetcher(source, steps, shuffle=shuffle, **loading).batches()


class SourceLoops:
    """Mixin: the generator/Sequence paths of fit, evaluate and predict."""

    def _fit_source(self, source, *, epochs, initial_epoch, steps_per_epoch, verbose, callbacks,
                    validation_data, validation_steps, validation_freq, class_weight, shuffle, loading):
        from fkeras.callbacks import CallbackList
        from fkeras.models._batching import due as _due

        steps = _gen.steps_for(source, steps_per_epoch, "steps_per_epoch")
        callbacks = CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=steps,
        )
        hooks = callbacks.needs_batch_hooks("train")
        self.stop_training = False
        self._initial_epoch = None
        callbacks.on_train_begin()
        initial_epoch = self._initial_epoch or initial_epoch  # BackupAndRestore resumes here
        epoch_logs: dict = {}
        with sigint_guard():  # Ctrl-C acts at once, except while a step's state is in flight
            for epoch in range(initial_epoch, epochs):
                callbacks.on_epoch_begin(epoch)
                shuffled = bool(shuffle) and isinstance(source, Sequence)
                with _batches(source, steps, loading, shuffle=shuffled) as batches:
                    last, seen = self._train_source_epoch(batches, class_weight, callbacks, hooks)
                if seen < steps and not self.stop_training:
                    warnings.warn(MSG_RAN_OUT.format(needed=steps * (epochs - initial_epoch)), stacklevel=3)
                    self.stop_training = True
                epoch_logs = last.last() if last is not None else {}
                if validation_data is not None and _due(epoch, validation_freq):
                    val_logs = self._validate(callbacks, self._evaluate_any, validation_data, validation_steps, loading)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                if isinstance(source, Sequence):
                    source.on_epoch_end()
                callbacks.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        callbacks.on_train_end(epoch_logs)
        return self.history

    def _train_source_epoch(self, batches, class_weight, callbacks, hooks):
        """One epoch of single-step dispatches over `batches`; returns (last logs, batches seen)."""
        last, seen, ts, spec = None, 0, None, None
        for i, batch in enumerate(batches):
            x, y, sw = _gen.unpack_batch(batch, i)
            if y is None:
                raise ValueError(f"The generator must yield (x, y) pairs for training; batch {i} had no targets.")
            xs, ys, sws = self._adapt(x, y, sw, class_weight, what=f"batch {i}: x")
            batch_spec = self._spec_for(ys)
            if batch_spec is not spec or self._ts is not ts or self._ts_version != _cell.write_version:
                spec = batch_spec
                ts = self._pull_train_state(spec)
            if i == 0:
                ts = ts._replace(metrics=spec.init_metrics())
            step_fn = self._train_fns(spec).step
            ts = self._sync_optimizer(ts)
            with defer_sigint():  # `ts` is donated: no Ctrl-C until the new state is pushed
                ts, logs = step_fn(ts, _steps.Batch(tuple(xs), tuple(ys), tuple(sws)))
                self._push_train_state(ts)
            last = StackedLogs(logs, stacked=False)
            seen = i + 1
            if hooks:
                callbacks.on_train_batch_begin(i)
                callbacks.on_train_batch_end(i, StepLogs(last, 0))
            if self.stop_training:
                break
        return last, seen

    def _evaluate_any(self, data, steps, loading, batch_size=None, callbacks=None) -> dict:
        from fkeras.engine import _data
        from fkeras.models._fit_args import check_batch_size as _check_batch_size

        if _gen.is_batch_source(data):
            return self._evaluate_source(data, steps, loading, callbacks)
        vx, vy, vsw = _data.unpack_validation_data(data)
        xs, ys, sws = self._adapt(vx, vy, vsw, what="validation_data")
        return self._evaluate_arrays(xs, ys, sws, _check_batch_size(batch_size), callbacks, steps=steps)

    def _evaluate_source(self, source, steps, loading, callbacks=None) -> dict:
        steps = _gen.steps_for(source, steps, "steps")
        hooks = callbacks is not None and callbacks.needs_batch_hooks("test")
        variables = self._placed_variables()
        spec = metrics = None
        with _batches(source, steps, loading) as batches:
            for i, batch in enumerate(batches):
                x, y, sw = _gen.unpack_batch(batch, i)
                xs, ys, sws = self._adapt(x, y, sw, what=f"batch {i}: x")
                batch_spec = self._spec_for(ys)
                if spec is None:
                    spec, metrics = batch_spec, batch_spec.init_metrics()
                fn = self._eval_fn(spec)
                if hooks:
                    callbacks.on_test_batch_begin(i)
                metrics = fn(variables, metrics, _steps.Batch(tuple(xs), tuple(ys), tuple(sws)), None)
                if hooks:
                    callbacks.on_test_batch_end(i, StepLogs(StackedLogs(spec.results(metrics), False), 0))
        if spec is None:
            raise ValueError("The evaluation data yielded no batches.")
        return {k: float(v) for k, v in jax.device_get(spec.results(metrics)).items()}

    def _predict_source(self, source, steps, loading, callbacks=None):
        steps = _gen.steps_for(source, steps, "steps")
        hooks = callbacks is not None and callbacks.needs_batch_hooks("predict")
        variables = self._placed_variables()
        fn = self._predict_fn()
        outputs = HostOutputs()
        with _batches(source, steps, loading) as batches:
            for i, batch in enumerate(batches):
                x = batch[0] if isinstance(batch, tuple) else batch
                xs = self._adapt_x(x, what=f"batch {i}: x")
                if hooks:
                    callbacks.on_predict_batch_begin(i)
                out, _ = fn(variables, tuple(xs))
                outputs.append(out)
                if hooks:
                    callbacks.on_predict_batch_end(i, {"outputs": out})
        return self._unflatten_outputs(outputs.concatenate(len(self.outputs)))

    # ---- Keras 2's generator API, kept -----------------------------------------------------

    @filter_traceback
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Keras 2's name for `fit` on a generator or `Sequence`."""
        return self.fit(
            generator, steps_per_epoch=_keras2_steps(steps_per_epoch), epochs=epochs, verbose=verbose,
            callbacks=callbacks, validation_data=validation_data, validation_steps=_keras2_steps(validation_steps),
            validation_freq=validation_freq, class_weight=class_weight, max_queue_size=max_queue_size,
            workers=workers, use_multiprocessing=use_multiprocessing, shuffle=shuffle,
            initial_epoch=initial_epoch,
        )

    @filter_traceback
    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        """Keras 2's name for `evaluate` on a generator or `Sequence`."""
        return self.evaluate(
            generator, steps=_keras2_steps(steps), callbacks=callbacks, max_queue_size=max_queue_size,
            workers=workers, use_multiprocessing=use_multiprocessing, verbose=verbose,
        )

    @filter_traceback
    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        """Keras 2's name for `predict` on a generator or `Sequence`."""
        return self.predict(
            generator, steps=_keras2_steps(steps), callbacks=callbacks, max_queue_size=max_queue_size,
            workers=workers, use_multiprocessing=use_multiprocessing, verbose=verbose,
        )


def _keras2_steps(steps):
    """Keras 2's generator loops ran `while steps_done < steps`, so its guides pass step counts
    such as `len(x_train) / 32`: a positive float means its ceiling there."""
    if isinstance(steps, (float, np.floating)) and math.isfinite(steps) and steps > 0:
        return math.ceil(steps)
    return steps
