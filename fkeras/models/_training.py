"""The stateful Keras facade of a model: compile, fit and train_on_batch (evaluate and predict
are the `InferenceLoops` of `_inference`, the generator paths the `SourceLoops` of `_sources`).

The facade owns no arrays of its own: variables live in the layers' cells, optimizer state in
`self._ts` (the last `TrainState`). Each call adapts the data on the host, resolves what
`compile` asked for (`CompileSpec`), then drives the jitted functions of `fkeras.engine`.
"""

import copy

import jax
import numpy as np

from fkeras import _random, _tree
from fkeras._traceback import filter_traceback
from fkeras.callbacks import CallbackList
from fkeras.distribution import distribution
from fkeras.engine import _data, _sharding, _steps
from fkeras.engine import _generators as _gen
from fkeras.engine._compile import CompileSpec
from fkeras.engine._logs import StackedLogs, StepLogs
from fkeras.layers import _cell
from fkeras.models import _batching, _fit_args
from fkeras.models._safety import defer_sigint, sigint_guard
from fkeras.layers._spec import as_bool
from fkeras.models._inference import InferenceLoops, _as_returned
from fkeras.models._sources import SourceLoops
from fkeras.optimizers import _loss_scale

MSG_NOT_COMPILED = (
    "You must call `compile()` before using the model for `{what}`, e.g.\n"
    "    model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])"
)


_verbosity = _fit_args.check_verbose
_check_batch_size = _fit_args.check_batch_size


class Trainer(InferenceLoops, SourceLoops):
    """Mixin giving `Model` Keras's training and inference API."""

    # What the facade derives and rebuilds on demand, at its empty values: resolved compile
    # specs, jitted functions, the cached training state and the memos around them. A new
    # model starts with these, and so does a deep copy (`Model._fresh_on_copy`).
    _CACHES = {
        "_specs": {},
        "_fns": {},
        "_ts": None,
        "_ts_key": None,
        "_ts_version": -1,
        "_next_epoch": (None, None, None),  # (training key, (n, batch_size, shuffle), _draw's result)
        "_train_key_memo": (None, None),
        "_predict_input": None,  # (graph, dtype, trailing shape) that predict takes as is
    }

    def _init_trainer(self) -> None:
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_args = None
        for name, empty in self._CACHES.items():
            setattr(self, name, copy.copy(empty))  # a fresh dict for each model
        self._restored_state = None
        self._steps_per_execution = "auto"
        self._initial_epoch = None  # set by BackupAndRestore in on_train_begin

    # ---- compile --------------------------------------------------------------------------

    @filter_traceback
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        sample_weight_mode=None,
        weighted_metrics=None,
        target_tensors=None,
        run_eagerly=False,
        steps_per_execution="auto",
        jit_compile="auto",
        auto_scale_loss=True,
        **kwargs,
    ):
        """Configure the model for training (Keras 2 and Keras 3 arguments).

        Args:
            optimizer: name ('rmsprop', 'adam', 'sgd', ...), `fkeras.optimizers.Optimizer`, or a
                raw optax `GradientTransformation`.
            loss: name, function `fn(y_true, y_pred)`, or `Loss`; a list/dict for one per output.
            metrics: names/functions/`Metric`s; a list, a dict per output or a list of lists.
            loss_weights: list or dict of per-output loss weights.
            sample_weight_mode: None or 'temporal' (per-timestep `sample_weight` arrays).
            weighted_metrics: metrics that take `sample_weight` into account.
            steps_per_execution: training steps per device dispatch: an int, or 'auto' (a whole
                epoch in one `lax.scan` where that is faster, one step per dispatch otherwise).
        """
        from fkeras import losses, metrics as metrics_module, optimizers

        if kwargs:
            raise TypeError(
                f"compile() got unexpected keyword argument(s): {sorted(kwargs)}. "
                f"Received: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}"
            )
        if target_tensors is not None:
            raise ValueError(
                "compile: `target_tensors` is not supported (Keras 3 dropped it too). Pass the "
                "targets to `fit(x, y)` instead. Received: target_tensors=" + repr(target_tensors)
            )
        if not (
            sample_weight_mode is None
            or isinstance(sample_weight_mode, (dict, list))
            or (isinstance(sample_weight_mode, str) and sample_weight_mode == "temporal")
        ):
            raise ValueError(
                "`sample_weight_mode` must be None or 'temporal'. "
                f"Received: sample_weight_mode={sample_weight_mode!r}"
            )
        if not (steps_per_execution == "auto" or (isinstance(steps_per_execution, int) and steps_per_execution >= 1)):
            raise ValueError(
                "`steps_per_execution` must be a positive integer or 'auto'. "
                f"Received: steps_per_execution={steps_per_execution!r}"
            )
        for ident in _leaves(loss):  # fail at compile time for unknown names
            if not (isinstance(ident, str) and ident.lower() in ("crossentropy", "ce")):
                losses.get(ident)
        for ident in _leaves(metrics) + _leaves(weighted_metrics):
            if not (isinstance(ident, str) and ident.lower() in ("accuracy", "acc", "crossentropy", "ce")):
                metrics_module.get(ident)
        self.optimizer = _loss_scale.wrap_for_policy(
            optimizers.get(optimizer), self.dtype_policy, auto_scale_loss
        )
        self.loss = loss
        self._compile_args = dict(
            loss=loss, loss_weights=loss_weights, metrics=metrics, weighted_metrics=weighted_metrics
        )
        self._specs = {}
        self._fns = {}
        self._ts = None
        self._restored_state = None
        self.run_eagerly = as_bool(self, "run_eagerly", run_eagerly)
        self._steps_per_execution = steps_per_execution
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(MSG_NOT_COMPILED.format(what=what))

    def _spec_for(self, ys: list) -> CompileSpec:
        key = tuple(None if y is None else (y.ndim, y.shape[-1] if y.ndim else None) for y in ys)
        spec = self._specs.get(key)
        if spec is None:
            pred_shapes = [tuple(t.shape) for t in self.outputs]
            y_shapes = [tuple(p) if y is None else (None,) + tuple(y.shape[1:]) for y, p in zip(ys, pred_shapes)]
            spec = CompileSpec(output_names=self.output_names, y_shapes=y_shapes, pred_shapes=pred_shapes, **self._compile_args)
            self._check_targets(spec, ys)
            self._specs[key] = spec
        return spec

    def _check_targets(self, spec, ys) -> None:
        """Trace the losses and metrics once on shapes, so a target/output mismatch is a clear
        ValueError here rather than an error from inside the jitted step."""
        for i, (y, t) in enumerate(zip(ys, self.outputs)):
            if y is None:
                continue
            pred = jax.ShapeDtypeStruct((2,) + tuple(d or 1 for d in t.shape[1:]), t.dtype)
            target = jax.ShapeDtypeStruct((2,) + tuple(y.shape[1:]), y.dtype)
            n_out = len(self.outputs)
            ys_s = [target if j == i else None for j in range(n_out)]
            preds = [pred if j == i else jax.ShapeDtypeStruct((2,) + tuple(d or 1 for d in o.shape[1:]), o.dtype) for j, o in enumerate(self.outputs)]
            try:
                jax.eval_shape(lambda yy, pp: spec.update_metrics(
                    spec.init_metrics(), *spec.total_loss(yy, pp, [None] * n_out), yy, pp, [None] * n_out, batch_size=2,
                ), _fill_none(ys_s, preds), preds)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"The targets for output {self.output_names[i]!r} do not fit the model's output "
                    f"and its loss/metrics: targets have shape {(None,) + tuple(y.shape[1:])}, the "
                    f"output has shape {tuple(t.shape)}. ({type(err).__name__}: {str(err).splitlines()[0]})"
                ) from None

    @property
    def metrics_names(self) -> list[str]:
        """Keras 2's names of the values `evaluate` returns: 'loss', per-output losses, metrics."""
        if self._specs:
            return list(next(reversed(self._specs.values())).names)
        if not self.compiled:
            return []
        from fkeras.engine._compile import _metrics_per_output, unique_metric_names

        outputs = self.output_names
        loss_names = [f"{o}_loss" for o in outputs] if len(outputs) > 1 else []
        entries = [
            (i, _metric_name(ident), weighted)
            for weighted, spec in ((False, self._compile_args["metrics"]), (True, self._compile_args["weighted_metrics"]))
            for i, idents in enumerate(_metrics_per_output(spec, outputs, "metrics"))
            for ident in idents
        ]
        return ["loss", *loss_names, *unique_metric_names(entries, outputs, loss_names)]

    # ---- data -----------------------------------------------------------------------------

    def _adapt_x(self, x, what="x") -> list:
        if hasattr(self, "_build_from_data") and not self.built:
            first = x
            if isinstance(x, (list, tuple)) and x:
                first = x[0]
            elif isinstance(x, dict) and x:
                first = next(iter(x.values()))
            self._build_from_data([np.asarray(first)])
        dtypes = [t.dtype for t in self.inputs]
        xs = _data.flatten_by_names(x, self.input_names, what, dtypes)
        for i, (t, a) in enumerate(zip(self.inputs, xs)):
            expected = tuple(t.shape)
            ok = a.ndim == len(expected) and all(e is None or e == d for e, d in zip(expected[1:], a.shape[1:]))
            if not ok:
                raise ValueError(
                    f"Input {i} ({self.input_names[i]!r}) of model {self.name!r} is incompatible with "
                    f"the data: expected shape {expected}. Received: {what} with shape {a.shape}"
                )
        return xs

    def _adapt(self, x, y, sample_weight=None, class_weight=None, what="x"):
        xs = self._adapt_x(x, what)
        y_what = what[:-1] + "y" if what.endswith("x") else f"{what} (targets)"
        ys = _data.flatten_by_names(y, self.output_names, y_what, allow_none=True)
        from fkeras.engine._compile import _per_output

        for name, target, loss in zip(self.output_names, ys, _per_output(self._compile_args["loss"], self.output_names, "loss")):
            if target is None and loss is not None:
                raise ValueError(
                    f"No targets were given for output {name!r}, which has a loss ({loss!r}). "
                    f"Pass them in `{y_what}` (expected keys/entries: {self.output_names})."
                )
        if sample_weight is not None and not isinstance(sample_weight, (dict, list, tuple)):
            sample_weight = [sample_weight] * len(ys) if len(ys) > 1 else sample_weight
        sws = _data.flatten_by_names(
            sample_weight, self.output_names, "sample_weight", ["float32"] * len(ys), allow_none=True
        )
        if class_weight is not None:
            if not isinstance(class_weight, dict):
                raise TypeError(f"`class_weight` must be a dict {{class: weight}}. Received: {class_weight!r}")
            if ys[0].ndim > 2:
                raise ValueError(
                    "`class_weight` is not supported for targets of rank 3 or more (per-timestep "
                    f"classes); use a temporal `sample_weight` instead. Received targets of shape {ys[0].shape}"
                )
            cw = _data.class_weight_to_sample_weight(ys[0], class_weight)
            sws[0] = cw if sws[0] is None else sws[0] * cw
        _data.check_cardinality({"x": xs, "y": ys, "sample_weight": sws})
        return xs, ys, sws

    # ---- training state -------------------------------------------------------------------

    def _train_key(self, spec):
        """What the train functions and the cached TrainState depend on; recomputed only when
        a weight was built or written from outside, or a `trainable` flag changed."""
        memo = (id(spec), id(self.optimizer), distribution(), _cell.trainable_version, _cell.write_version)
        if self._train_key_memo[0] == memo:
            return self._train_key_memo[1]
        mask = _tree.flatten(self.trainable_mask())
        key = (id(spec), id(self.optimizer), tuple(sorted(p for p, on in mask.items() if on)), distribution())
        self._train_key_memo = (memo, key)
        return key

    def _pull_train_state(self, spec) -> _steps.TrainState:
        """The TrainState to continue from: cached if nothing outside fit changed the weights."""
        key = self._train_key(spec)
        ts = self._ts
        if ts is not None and self._ts_key == key and self._ts_version == _cell.write_version:
            return ts
        variables = self._current_variables()
        trainable = set(p for p, on in _tree.flatten(self.trainable_mask()).items() if on)
        params, frozen = _tree.partition(variables["params"], lambda p: p in trainable)
        tx = self.optimizer.transform()
        restored, self._restored_state = self._restored_state, None
        if ts is not None and self._ts_key == key:
            opt_state = ts.opt_state
        elif restored is not None and _same_structure(restored[0], _optimizer_state(tx, params, shape_only=True)):
            opt_state = restored[0]  # continue from a loaded optimizer state
        else:
            opt_state = _optimizer_state(tx, params)
        if ts is not None:
            rng = ts.rng
        elif restored is not None and restored[1] is not None:
            rng = restored[1]
        else:
            rng = _random.next_key()
        ts = _steps.TrainState(params, frozen, variables["state"], opt_state, spec.init_metrics(), rng)
        ts = _steps.unalias(_sharding.place_train_state(distribution(), ts, _sharding.path_prefix(self)))
        self._ts, self._ts_key, self._ts_version = ts, key, _cell.write_version
        return ts

    def _has_activity_losses(self) -> bool:
        """Activity regularizers see the whole (padded) batch, so evaluate must not pad then."""
        return any(
            getattr(layer, "activity_regularizer", None) is not None or type(layer).__name__ == "ActivityRegularization"
            for layer in _steps._all_layers(self)
        )

    def _restore_train_state(self, opt_state, rng=None) -> None:
        """Continue the next fit/train_on_batch from a loaded optimizer state and dropout key."""
        self._restored_state = (opt_state, rng)
        self._ts = None
        self.optimizer.attach_state(opt_state)

    def _placed_variables(self):
        """The current variables, laid out for the active distribution (as they are without one)."""
        return _sharding.place_variables(distribution(), self._current_variables(), _sharding.path_prefix(self))

    def _push_train_state(self, ts) -> None:
        """Write the state back: variables into the cells, optimizer state into the optimizer."""
        self._assign_variables({"params": _tree.merge(ts.params, ts.frozen), "state": ts.state})
        self._ts, self._ts_version = ts, _cell.write_version
        self.optimizer.attach_state(ts.opt_state, synced=True)

    def _sync_optimizer(self, ts):
        opt_state = self.optimizer.sync(ts.opt_state)
        return ts if opt_state is ts.opt_state else ts._replace(opt_state=opt_state)

    def _train_fns(self, spec):
        key = ("train",) + self._train_key(spec)
        fns = self._fns.get(key)
        if fns is None:
            dist = distribution()
            shardings = None if dist is None else _sharding.train_state_shardings(
                dist, self._pull_train_state(spec), _sharding.path_prefix(self)
            )
            fns = self._fns[key] = _steps.make_train_functions(
                self, spec, self.optimizer.transform(), dist, shardings
            )
        return fns

    def _resolve_steps_per_execution(self, steps: int) -> int:
        spe = self._steps_per_execution
        if spe == "auto":
            # On XLA:CPU a conv weight-gradient inside a scanned loop runs ~10x slower than step
            # by step (measured; see benchmarks/README.md): fuse whole epochs only for the rest.
            if jax.default_backend() == "cpu" and any("Conv" in type(layer).__name__ for layer in _steps._all_layers(self)):
                return 1
            return max(1, steps)
        return max(1, min(int(spe), max(1, steps)))

    # ---- fit ------------------------------------------------------------------------------

    @filter_traceback
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
        max_queue_size=10,
        workers=1,
        use_multiprocessing=False,
        **kwargs,
    ):
        """Train the model for `epochs` epochs; returns the `History`.

        `x` may be arrays (a list or dict of them for several inputs, with `y` likewise), or a
        generator / `keras.utils.Sequence` yielding `(x, y)` or `(x, y, sample_weight)` batches.
        """
        if "nb_epoch" in kwargs:  # Keras 1
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword argument(s): {sorted(kwargs)}")
        self._require_compiled("fit")
        verbose = _verbosity(verbose)
        _fit_args.check_optional_positive_int("batch_size", batch_size)
        epochs, initial_epoch = _fit_args.check_epochs(epochs, initial_epoch)
        validation_freq = _fit_args.check_validation_freq(validation_freq)
        steps_per_epoch, validation_steps, validation_batch_size = (
            _fit_args.check_optional_positive_int(name, value)
            for name, value in (
                ("steps_per_epoch", steps_per_epoch),
                ("validation_steps", validation_steps),
                ("validation_batch_size", validation_batch_size),
            )
        )
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"`shuffle` must be True, False or 'batch'. Received: shuffle={shuffle!r}")
        loading = dict(max_queue_size=max_queue_size, workers=workers, use_multiprocessing=use_multiprocessing)
        if _gen.is_batch_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError(
                    "When `x` is a generator or Sequence it yields the targets itself: do not pass "
                    f"`y` or `sample_weight`. Received: y={type(y).__name__}, sample_weight={type(sample_weight).__name__}"
                )
            if validation_split:
                raise ValueError(
                    "`validation_split` is only supported for array inputs, not for a generator or "
                    "Sequence: pass `validation_data=` instead. "
                    f"Received: validation_split={validation_split!r}"
                )
            return self._fit_source(
                x, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                validation_steps=validation_steps, validation_freq=validation_freq,
                class_weight=class_weight, shuffle=shuffle, loading=loading,
            )
        if y is None:
            raise ValueError("fit: `y` (the targets) is required for array inputs. Received: y=None")
        batch_size = _check_batch_size(batch_size)
        xs, ys, sws = self._adapt(x, y, sample_weight, class_weight)
        val_arrays = val_source = None
        if validation_data is not None and _gen.is_batch_source(validation_data):
            val_source = validation_data
        elif validation_data is not None:
            vx, vy, vsw = _data.unpack_validation_data(validation_data)
            val_arrays = self._adapt(vx, vy, vsw, what="validation_data")
        elif validation_split:
            (xs, ys, sws), val_arrays = _batching.split_all(xs, ys, sws, validation_split)
        spec = self._spec_for(ys)
        n = xs[0].shape[0]
        full, rem = divmod(n, batch_size)
        steps = full + (1 if rem else 0)
        if steps_per_epoch is not None:
            steps = _gen.steps_for(None, steps_per_epoch, "steps_per_epoch")
            if steps > full + (1 if rem else 0):
                raise ValueError(
                    f"`steps_per_epoch={steps}` asks for more batches than the data holds "
                    f"({full + (1 if rem else 0)} batches of {batch_size} from {n} samples)."
                )
        callbacks = CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=steps,
        )
        data = _sharding.place_data(distribution(), _steps.Batch(tuple(xs), tuple(ys), tuple(sws)), batch_size)
        self.stop_training = False
        self._initial_epoch = None
        callbacks.on_train_begin()
        initial_epoch = self._initial_epoch or initial_epoch  # BackupAndRestore resumes here
        epoch_logs: dict = {}
        # a callback that must see each step before the next (TerminateOnNaN) gets one per dispatch
        spe = 1 if callbacks.needs_step_sync() else self._resolve_steps_per_execution(min(full, steps))
        hooks = callbacks.needs_batch_hooks("train")
        with sigint_guard():  # Ctrl-C acts at once, except while a step's state is in flight
            for epoch in range(initial_epoch, epochs):
                callbacks.on_epoch_begin(epoch)
                loop = (spe, hooks, epoch + 1 < epochs)
                stack = self._run_epoch(spec, data, n, shuffle, batch_size, steps, callbacks, loop)
                epoch_logs = stack.last() if stack is not None else {}
                if (val_arrays or val_source) is not None and _batching.due(epoch, validation_freq):
                    if val_arrays is not None:
                        val_batch = _check_batch_size(validation_batch_size or batch_size, "validation_batch_size")
                        val_logs = self._validate(
                            callbacks, self._evaluate_arrays, *val_arrays, batch_size=val_batch, steps=validation_steps
                        )
                    else:
                        val_logs = self._validate(callbacks, self._evaluate_source, val_source, validation_steps, loading)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                callbacks.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        callbacks.on_train_end(epoch_logs)
        return self.history

    @staticmethod
    def _validate(callbacks, evaluate, *args, **kwargs) -> dict:
        """fit's validation pass, framed by the test hooks as Keras's fit calls `evaluate`."""
        callbacks.on_test_begin()
        logs = evaluate(*args, callbacks=callbacks, **kwargs)
        callbacks.on_test_end(logs)
        return logs

    def _run_epoch(self, spec, data, n, shuffle, batch_size, steps, callbacks, loop):
        """One epoch over device-resident `data`: fused chunks of full batches, then the partial one.

        `loop` is `(steps per dispatch, whether batch hooks run, whether another epoch follows)`.
        """
        spe, hooks, more = loop
        full = min(n // batch_size, steps)
        fns = self._train_fns(spec)
        ts = self._pull_train_state(spec)
        words, next_words, order = self._epoch_draw(ts, n, batch_size, shuffle)
        rows = order[: full * batch_size].reshape(full, batch_size)
        step, stack = 0, None
        tail = order[full * batch_size:] if steps > full else None
        while step < steps and not self.stop_training:
            if self._ts is not ts or self._ts_version != _cell.write_version:  # a callback wrote
                ts = self._pull_train_state(spec)
            ts = self._sync_optimizer(ts)
            fused = step < full and spe > 1
            k = min(spe, full - step) if fused else 1
            # the partial last batch rides along with the last fused chunk (one dispatch)
            with_tail = tail if fused and step + k == full else None
            k += 0 if with_tail is None else 1
            if fused and hooks:
                until = callbacks.steps_until_sync()
                if until is not None and until < k:
                    # A callback needs the weights right after a step inside this chunk (a save
                    # every `save_freq` batches): the rest of the epoch runs step by step (the
                    # programs for other chunk lengths are not compiled).
                    spe, fused, k, with_tail = 1, False, 1, None
            end = step + k >= steps
            ctl = _steps.epoch_control(step == 0, end, words, next_words)
            with defer_sigint():  # `ts` is donated: no Ctrl-C until the new state is pushed
                if fused:
                    ts, logs = fns.many(ts, data, rows[step:step + k - (with_tail is not None)], with_tail, ctl)
                else:
                    ts, logs = fns.one(ts, data, rows[step] if step < full else tail, ctl)
                self._push_train_state(ts)
            stack = StackedLogs(logs, packer=fns.packer)
            if end:
                # The next epoch's key and shuffle are known now: draw them while the device runs.
                self._next_epoch = (ts.rng, (n, batch_size, shuffle), self._draw(next_words, n, batch_size, shuffle, more))
            if hooks:
                for i in range(k):
                    callbacks.on_train_batch_begin(step + i)
                    callbacks.on_train_batch_end(step + i, StepLogs(stack, i))
            step += k
        return stack

    def _epoch_draw(self, ts, n, batch_size, shuffle):
        """(key words, next key words, sample order) of the epoch that starts from `ts.rng`.

        The previous epoch drew them if `ts.rng` is the key it left; any other key (the first
        epoch, a loaded checkpoint) is read from the device once.
        """
        rng, how, drawn = self._next_epoch
        if rng is not ts.rng:
            return self._draw(_random.key_words(ts.rng), n, batch_size, shuffle, True)
        if how == (n, batch_size, shuffle) and drawn[2] is not None:
            return drawn
        return self._draw(drawn[0], n, batch_size, shuffle, True)

    @staticmethod
    def _draw(words, n, batch_size, shuffle, with_order: bool):
        # The order derives from the training key, which checkpoints save: a resumed run shuffles
        # its epochs as the uninterrupted run would have.
        next_words, generator = _random.epoch_streams(words)
        order = _batching.epoch_order(n, batch_size, shuffle, generator) if with_order else None
        return words, next_words, order

    # ---- single batches -------------------------------------------------------------------

    @filter_traceback
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True, return_dict=False):
        """One gradient update on one batch; returns its loss (and metrics) like `evaluate`."""
        self._require_compiled("train_on_batch")
        xs, ys, sws = self._adapt(x, y, sample_weight, class_weight)
        spec = self._spec_for(ys)
        step = self._train_fns(spec).step
        ts = self._sync_optimizer(self._pull_train_state(spec))
        if reset_metrics:
            ts = ts._replace(metrics=spec.init_metrics())
        batch = _sharding.place_batch(distribution(), _steps.Batch(tuple(xs), tuple(ys), tuple(sws)))
        with defer_sigint():  # `ts` is donated: no Ctrl-C until the new state is pushed
            ts, logs = step(ts, batch)
            self._push_train_state(ts)
        logs = {k: float(v) for k, v in jax.device_get(logs).items()}
        return _as_returned(logs, spec.names, return_dict)

    # ---- saving ---------------------------------------------------------------------------

    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs) -> None:
        """Save the whole model: `.keras` (Keras 3's zip) or `.h5` (Keras 2's HDF5)."""
        from fkeras import saving

        if kwargs.pop("save_format", None) not in (None, "keras", "h5", "tf"):
            raise ValueError("`save_format` must be 'keras' or 'h5'; the file extension decides.")
        if kwargs:
            raise TypeError(f"save() got unexpected keyword argument(s): {sorted(kwargs)}")
        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True, **kwargs) -> None:
        """Save the weights: `.weights.h5` (Keras 3) or `.h5` (Keras 2's layout)."""
        from fkeras import saving

        kwargs.pop("save_format", None)
        if kwargs:
            raise TypeError(f"save_weights() got unexpected keyword argument(s): {sorted(kwargs)}")
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, **kwargs) -> None:
        """Load weights saved by `save_weights` or `save` (fkeras, Keras 3 or Keras 2 files)."""
        from fkeras import saving

        if kwargs:
            raise TypeError(f"load_weights() got unexpected keyword argument(s): {sorted(kwargs)}")
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def reset_metrics(self) -> None:
        """Reset the accumulated metric values (as `train_on_batch(reset_metrics=True)` does)."""
        if self._ts is None:
            return
        for spec in self._specs.values():
            if self._ts_key and id(spec) == self._ts_key[0]:
                self._ts = self._ts._replace(metrics=spec.init_metrics())

    # ---- introspection --------------------------------------------------------------------

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Print a table of the layers, their output shapes and parameter counts."""
        from fkeras.utils._summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn, **kwargs)


# Scanned evaluation: at most this many batches per dispatch, and at most this many bytes of
# inputs, targets and weights (the chunk is copied to the device whole).
_UNTRACEABLE = (
    jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
    jax.errors.TracerBoolConversionError, jax.errors.TracerIntegerConversionError,
)


def _optimizer_state(tx, params, shape_only: bool = False):
    """`tx.init(params)` built as one jitted program (run eagerly, each zeros-like slot of a new
    shape compiles its own tiny program, ~15 ms each on XLA:CPU; 47 ms -> 30 ms for the guide's
    small MLP with RMSprop, 173 ms -> 82 ms for its LSTM model, measured), or with `shape_only`
    just its structure (`jax.eval_shape`). An init that cannot be traced (a hand-written optax
    transformation reading values on the host) runs eagerly instead."""
    try:
        return jax.eval_shape(tx.init, params) if shape_only else jax.jit(tx.init)(params)
    except _UNTRACEABLE:
        return tx.init(params)


def _same_structure(a, b) -> bool:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b) and all(
        np.shape(x) == np.shape(y) for x, y in zip(la, lb)
    )


def _fill_none(ys, preds):
    """Stand-in targets (shaped like the predictions) for the outputs not being checked."""
    return [p if y is None else y for y, p in zip(ys, preds)]


def _leaves(spec) -> list:
    if spec is None:
        return []
    if isinstance(spec, dict):
        return [x for v in spec.values() for x in _leaves(v)]
    if isinstance(spec, (list, tuple)):
        return [x for v in spec for x in _leaves(v)]
    return [spec]


def _metric_name(ident) -> str:
    if isinstance(ident, str):
        return ident
    name = getattr(ident, "name", None)
    if isinstance(name, str):
        return name
    return getattr(ident, "__name__", type(ident).__name__)

