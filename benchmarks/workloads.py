#!/usr/bin/env python
"""One benchmark measurement per process; prints one JSON line on stdout.

    python benchmarks/workloads.py --impl IMPL --workload NAME [--epochs N] [--seed S]
        [--keras-steps-per-execution N] [--scan-unroll N|full]

IMPL is one of
  keras      Keras 3 with KERAS_BACKEND=jax; `--keras-steps-per-execution N` is passed to compile()
             (the run is then labelled `keras-spe<N>`);
  fkeras     `import fkeras as keras` and the very same model-building code; when the environment
             variable FKERAS_BENCH_STEPS_PER_EXECUTION is set (an int or 'auto') it is passed to
             compile() as steps_per_execution (label `fkeras-spe<value>`); with
             FKERAS_BENCH_USE_CUDNN=1 its LSTM layers get `use_cudnn=True` (label `fkeras-cudnn`);
  jax-step   hand-written jax + optax (handwritten.py): one jitted, donated step per batch;
  jax-scan   the same step, a whole epoch in one jitted lax.scan (`--scan-unroll full` unrolls it,
             label `jax-scan-unrollfull`).

Training workloads report `first_epoch_s` (epoch 1: includes tracing and XLA compilation of the full
and the partial batch shapes) and `steady_epoch_s` (median of epochs 2..N). The clock starts just
before `model.fit` (Keras API) or just before the data is put on the device (hand-written); model
building, compile() and imports are outside it. An epoch ends when its logs have been read back
to the host.

The `latency` workload uses the mlp_binary model: after a warm-up, the median time of `predict` on
one sample (and `predict_on_batch`), of a jitted pure forward call on one sample (fkeras
`model.apply`, the hand-written forward for jax-*), and `evaluate` on 100k samples (batch 32) with
the peak growth of the process's resident memory during that call. The one-sample calls of one
process are timed in turns (`median_ms_interleaved`), so that they are compared in the same state
of the machine.

Any failure (for instance a layer fkeras does not have yet) still prints one JSON line, with `error`
holding the exception's first line, and the process exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_SEED = 20240611
IMPLS = ("keras", "fkeras", "jax-step", "jax-scan")


# ---- workloads: sizes and data (identical arrays for every implementation) ---------------------


@dataclass(frozen=True)
class Workload:
    n: int
    batch_size: int
    epochs: int
    data: Callable[[np.random.Generator], tuple]


def _one_hot(rng, n, classes):
    return np.eye(classes, dtype=np.float32)[rng.integers(0, classes, size=n)]


def _labels01(rng, n):
    return rng.integers(0, 2, size=(n, 1)).astype(np.float32)


def _uniform(rng, *shape):
    return rng.random(shape, dtype=np.float32)


def _two_inputs_two_outputs(rng, n):
    """Headlines (token ids) plus 5 extra features in; the same label for both outputs."""
    tokens = rng.integers(0, 10000, size=(n, 100)).astype(np.int32)
    labels = _labels01(rng, n)
    return [tokens, _uniform(rng, n, 5)], [labels, labels.copy()]


WORKLOADS = {
    "mlp_binary": Workload(1000, 32, 10, lambda r: (_uniform(r, 1000, 100), _labels01(r, 1000))),
    "mlp_softmax": Workload(
        1000, 128, 20, lambda r: (_uniform(r, 1000, 20), _one_hot(r, 1000, 10))
    ),
    "vgg_small": Workload(
        100, 32, 5, lambda r: (_uniform(r, 100, 100, 100, 3), _one_hot(r, 100, 10))
    ),
    "lstm_mimo": Workload(256, 32, 5, lambda r: _two_inputs_two_outputs(r, 256)),
    "mlp_large": Workload(
        60000, 128, 3, lambda r: (_uniform(r, 60000, 784), _one_hot(r, 60000, 10))
    ),
    "text_gru_conv1d": Workload(
        2000,
        64,
        5,
        lambda r: (r.integers(0, 5000, size=(2000, 100)).astype(np.int32), _labels01(r, 2000)),
    ),
}
LATENCY_EVAL_N = 100_000
LATENCY_EVAL_BATCH = 32


# ---- the Keras-API models: one builder, given either module ------------------------------------


def build_model(k, workload: str):
    """Build the workload's model with module `k` (keras or fkeras).

    Returns:
        (model, keyword arguments for compile()).
    """
    L = k.layers
    if workload == "mlp_binary":
        model = k.models.Sequential()
        model.add(L.Dense(32, activation="relu", input_dim=100))
        model.add(L.Dense(1, activation="sigmoid"))
        return model, {
            "optimizer": "rmsprop",
            "loss": "binary_crossentropy",
            "metrics": ["accuracy"],
        }
    if workload == "mlp_softmax":
        model = k.models.Sequential()
        model.add(L.Dense(64, activation="relu", input_dim=20))
        model.add(L.Dropout(0.5))
        model.add(L.Dense(64, activation="relu"))
        model.add(L.Dropout(0.5))
        model.add(L.Dense(10, activation="softmax"))
        sgd = k.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
        return model, {
            "optimizer": sgd,
            "loss": "categorical_crossentropy",
            "metrics": ["accuracy"],
        }
    if workload == "vgg_small":
        model = k.models.Sequential()
        model.add(L.Conv2D(32, (3, 3), activation="relu", input_shape=(100, 100, 3)))
        model.add(L.Conv2D(32, (3, 3), activation="relu"))
        model.add(L.MaxPooling2D(pool_size=(2, 2)))
        model.add(L.Dropout(0.25))
        model.add(L.Conv2D(64, (3, 3), activation="relu"))
        model.add(L.Conv2D(64, (3, 3), activation="relu"))
        model.add(L.MaxPooling2D(pool_size=(2, 2)))
        model.add(L.Dropout(0.25))
        model.add(L.Flatten())
        model.add(L.Dense(256, activation="relu"))
        model.add(L.Dropout(0.5))
        model.add(L.Dense(10, activation="softmax"))
        sgd = k.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
        return model, {"optimizer": sgd, "loss": "categorical_crossentropy"}
    if workload == "lstm_mimo":
        tokens = L.Input(shape=(100,), dtype="int32", name="main_input")
        embedded = L.Embedding(output_dim=512, input_dim=10000)(tokens)
        lstm_out = L.LSTM(32, **lstm_options(k))(embedded)
        aux_output = L.Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
        aux_input = L.Input(shape=(5,), name="aux_input")
        h = L.concatenate([lstm_out, aux_input])
        for _ in range(3):
            h = L.Dense(64, activation="relu")(h)
        main_output = L.Dense(1, activation="sigmoid", name="main_output")(h)
        model = k.models.Model(inputs=[tokens, aux_input], outputs=[main_output, aux_output])
        # One loss per output: Keras 3 refuses a single loss string with two loss_weights.
        return model, {
            "optimizer": "rmsprop",
            "loss": ["binary_crossentropy"] * 2,
            "loss_weights": [1.0, 0.2],
        }
    if workload == "mlp_large":
        model = k.models.Sequential()
        model.add(L.Dense(512, activation="relu", input_dim=784))
        model.add(L.Dense(512, activation="relu"))
        model.add(L.Dense(10, activation="softmax"))
        return model, {
            "optimizer": "adam",
            "loss": "categorical_crossentropy",
            "metrics": ["accuracy"],
        }
    if workload == "text_gru_conv1d":
        model = k.models.Sequential()
        model.add(L.Input(shape=(100,), dtype="int32"))
        model.add(L.Embedding(5000, 64))
        model.add(L.Conv1D(64, 5, activation="relu"))
        model.add(L.MaxPooling1D(2))
        model.add(L.GRU(32))
        model.add(L.Dense(1, activation="sigmoid"))
        return model, {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]}
    raise ValueError(f"unknown workload. Received: workload={workload!r}")


def import_api(impl: str):
    if impl == "keras":
        os.environ["KERAS_BACKEND"] = "jax"
        import keras

        return keras
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))  # this checkout, unless PYTHONPATH names another fkeras
    import fkeras

    return fkeras


def fkeras_cudnn_from_env() -> bool:
    return os.environ.get("FKERAS_BENCH_USE_CUDNN", "") == "1"


def lstm_options(k) -> dict:
    """`use_cudnn=True` for fkeras's LSTM when FKERAS_BENCH_USE_CUDNN=1 (fkeras's 'auto' is the
    scan; Keras's 'auto' is cuDNN on a GPU)."""
    return {"use_cudnn": True} if k.__name__ == "fkeras" and fkeras_cudnn_from_env() else {}


def fkeras_spe_from_env():
    raw = os.environ.get("FKERAS_BENCH_STEPS_PER_EXECUTION", "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() else raw


def compiled_model(k, workload: str, seed: int, spe):
    k.utils.set_random_seed(seed)
    model, compile_kwargs = build_model(k, workload)
    if spe is not None:
        compile_kwargs["steps_per_execution"] = spe
    model.compile(**compile_kwargs)
    return model


def train_keras_api(impl: str, workload: str, epochs: int, seed: int, spe) -> dict:
    t = time.perf_counter()
    k = import_api(impl)
    import_s = time.perf_counter() - t
    spec = WORKLOADS[workload]
    x, y = spec.data(np.random.default_rng(DATA_SEED))
    t = time.perf_counter()
    model = compiled_model(k, workload, seed, spe)
    build_s = time.perf_counter() - t
    stamps: list[float] = []

    class EpochClock(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for value in (logs or {}).values():  # make sure the epoch's numbers reached the host
                float(np.asarray(value))
            stamps.append(time.perf_counter())

    t0 = time.perf_counter()
    history = model.fit(
        x, y, batch_size=spec.batch_size, epochs=epochs, verbose=0, callbacks=[EpochClock()]
    )
    fit_total_s = time.perf_counter() - t0
    logs = {name: float(values[-1]) for name, values in history.history.items()}
    return {
        "t0": t0,
        "stamps": stamps,
        "logs": logs,
        "import_s": import_s,
        "build_s": build_s,
        "fit_total_s": fit_total_s,
    }


def train_handwritten(impl: str, workload: str, epochs: int, seed: int, scan_unroll) -> dict:
    t = time.perf_counter()
    import handwritten

    import_s = time.perf_counter() - t
    spec = WORKLOADS[workload]
    x, y = spec.data(np.random.default_rng(DATA_SEED))
    variant = impl.split("-", 1)[1]
    t0, stamps, logs = handwritten.fit(
        workload,
        x,
        y,
        batch_size=spec.batch_size,
        epochs=epochs,
        variant=variant,
        seed=seed,
        scan_unroll=scan_unroll,
    )
    return {
        "t0": t0,
        "stamps": stamps,
        "logs": logs,
        "import_s": import_s,
        "fit_total_s": stamps[-1] - t0,
    }


def training_record(workload: str, epochs: int, run: dict) -> dict:
    stamps, t0 = run.pop("stamps"), run.pop("t0")
    epoch_s = [b - a for a, b in zip([t0, *stamps[:-1]], stamps)]
    steady = statistics.median(epoch_s[1:])
    spec = WORKLOADS[workload]
    logs = run.pop("logs")
    return dict(
        first_epoch_s=round(epoch_s[0], 5),
        steady_epoch_s=round(steady, 5),
        samples_per_s=round(spec.n / steady, 1),
        final_loss=logs.get("loss"),
        epochs=epochs,
        n_samples=spec.n,
        batch_size=spec.batch_size,
        epoch_times_s=[round(s, 5) for s in epoch_s],
        final_logs=logs,
        **{key: round(v, 4) for key, v in run.items()},
    )


# ---- latency ------------------------------------------------------------------------------------


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRSS:
    """Samples the resident set size every 2 ms in a thread; `.growth_mb` = peak minus start."""

    def __enter__(self):
        self.start = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())
        self.growth_mb = round((self.peak - self.start) / 2**20, 1)


def median_ms_interleaved(fns: dict[str, Callable[[], object]], repeats: int, rounds: int = 5) -> dict:
    """Median milliseconds of several calls measured in turns, after 10 warm-up calls of each:
    `rounds` rounds, each timing `repeats // rounds` calls of every function in order, so that
    all of them see the same state of the machine. On XLA:CPU a call that comes more than a few microseconds after the last
    one finished waits 20-40 us more for the runtime's worker thread to wake up, and whether it
    is awake drifts within a process; timed one after another, two functions can land in
    different states."""
    for fn in fns.values():
        for _ in range(10):
            fn()
    times: dict[str, list] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(max(1, repeats // rounds)):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    return {name: round(1000 * statistics.median(ts), 4) for name, ts in times.items()}


def latency_data():
    rng = np.random.default_rng(DATA_SEED + 1)
    return _uniform(rng, LATENCY_EVAL_N, 100), _labels01(rng, LATENCY_EVAL_N)


def latency_keras_api(impl: str, seed: int, spe, repeats: int) -> dict:
    import jax

    k = import_api(impl)
    model = compiled_model(k, "mlp_binary", seed, spe)
    x, y = latency_data()
    one = x[:1]
    calls = {
        "predict_1_ms": lambda: model.predict(one, verbose=0),
        "predict_on_batch_1_ms": lambda: model.predict_on_batch(one),
    }
    if impl == "fkeras":
        variables = model.get_variables()
        forward = jax.jit(lambda v, a: model.apply(v, a)[0])
        calls["apply_jit_1_ms"] = lambda: forward(variables, one).block_until_ready()
        # predict returns NumPy: the same call with the output copied to the host
        calls["apply_jit_host_1_ms"] = lambda: np.asarray(forward(variables, one))
    rec = median_ms_interleaved(calls, repeats)
    with PeakRSS() as mem:
        t = time.perf_counter()
        result = model.evaluate(x, y, batch_size=LATENCY_EVAL_BATCH, verbose=0)
        rec["evaluate_first_s"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()
    model.evaluate(x, y, batch_size=LATENCY_EVAL_BATCH, verbose=0)
    rec["evaluate_s"] = round(time.perf_counter() - t, 4)
    rec["evaluate_rss_growth_mb"] = mem.growth_mb
    rec["evaluate_loss"] = float(np.ravel(result)[0])
    return rec


def latency_handwritten(impl: str, seed: int, repeats: int) -> dict:
    import handwritten
    import jax

    params, forward = handwritten.trained_forward("mlp_binary", seed)
    x, y = latency_data()
    one = x[:1]
    rec = median_ms_interleaved(
        {
            "apply_jit_1_ms": lambda: forward(params, one).block_until_ready(),
            "apply_jit_host_1_ms": lambda: np.asarray(forward(params, one)),
        },
        5 * repeats,
    )
    evaluate = handwritten.make_evaluator(
        "mlp_binary", LATENCY_EVAL_N, LATENCY_EVAL_BATCH, impl.split("-")[1]
    )
    zeros = {name: np.zeros((), np.float32) for name in ("loss", "seen", "accuracy")}

    def run():
        return evaluate(params, jax.device_put(x), jax.device_put(y), zeros)

    with PeakRSS() as mem:
        t = time.perf_counter()
        logs = run()
        rec["evaluate_first_s"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()
    run()
    rec["evaluate_s"] = round(time.perf_counter() - t, 4)
    rec["evaluate_rss_growth_mb"] = mem.growth_mb
    rec["evaluate_loss"] = logs["loss"]
    return rec


# ---- the record's context ----------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _versions() -> dict:
    from importlib import metadata

    out = {}
    for dist in ("jax", "jaxlib", "optax", "keras", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    init = REPO_ROOT / "fkeras" / "__init__.py"
    found = re.search(r'__version__\s*=\s*"([^"]+)"', init.read_text()) if init.exists() else None
    out["fkeras"] = found.group(1) if found else None
    return out


def context() -> dict:
    import jax

    devices = jax.devices()
    return {
        "platform": devices[0].platform,
        "device_kind": devices[0].device_kind,
        "devices": str(devices),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "host": platform.node(),
        "python": platform.python_version(),
        "versions": _versions(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


# ---- command line ------------------------------------------------------------------------------


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--impl", required=True, choices=IMPLS)
    ap.add_argument("--workload", required=True, choices=[*WORKLOADS, "latency"])
    ap.add_argument(
        "--epochs", type=int, default=None, help="default: the workload's own epoch count"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--keras-steps-per-execution",
        type=int,
        default=None,
        metavar="N",
        help="keras only: compile(steps_per_execution=N)",
    )
    ap.add_argument(
        "--scan-unroll", default="1", help="jax-scan only: lax.scan unroll factor, or 'full'"
    )
    ap.add_argument(
        "--latency-repeats", type=int, default=100, help="latency: timed calls per median"
    )
    args = ap.parse_args(argv)
    if args.epochs is not None and args.epochs < 2:
        ap.error("--epochs must be at least 2: the steady epoch is the median of epochs 2..N")
    if args.keras_steps_per_execution is not None and args.impl != "keras":
        ap.error("--keras-steps-per-execution applies to --impl keras only")
    if args.scan_unroll != "1" and args.impl != "jax-scan":
        ap.error("--scan-unroll applies to --impl jax-scan only")
    return args


def label_and_spe(args):
    """The run's label (impl plus its variant) and the steps_per_execution passed to compile()."""
    if args.impl == "keras" and args.keras_steps_per_execution is not None:
        return f"keras-spe{args.keras_steps_per_execution}", args.keras_steps_per_execution
    if args.impl == "fkeras":
        spe = fkeras_spe_from_env()
        label = "fkeras" if spe is None else f"fkeras-spe{spe}"
        return (label + "-cudnn" if fkeras_cudnn_from_env() else label), spe
    if args.impl == "jax-scan" and args.scan_unroll != "1":
        return f"jax-scan-unroll{args.scan_unroll}", None
    return args.impl, None


def measure(args, spe) -> dict:
    if args.workload == "latency":
        if args.impl in ("keras", "fkeras"):
            return latency_keras_api(args.impl, args.seed, spe, args.latency_repeats)
        return latency_handwritten(args.impl, args.seed, args.latency_repeats)
    epochs = args.epochs or WORKLOADS[args.workload].epochs
    if args.impl in ("keras", "fkeras"):
        run = train_keras_api(args.impl, args.workload, epochs, args.seed, spe)
    else:
        unroll = True if args.scan_unroll == "full" else int(args.scan_unroll)
        run = train_handwritten(args.impl, args.workload, epochs, args.seed, unroll)
    return training_record(args.workload, epochs, run)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # handwritten.py
    label, spe = label_and_spe(args)
    record = {
        "impl": label,
        "base_impl": args.impl,
        "workload": args.workload,
        "steps_per_execution": spe,
        "seed": args.seed,
    }
    status = 0
    try:
        record.update(measure(args, spe))
    except Exception as err:  # noqa: BLE001  (recorded: one failing run must not stop a sweep)
        traceback.print_exc()
        lines = str(err).strip().splitlines()
        record["error"] = f"{type(err).__name__}: {lines[0] if lines else ''}"[:500]
        status = 1
    try:
        record.update(context())
    except Exception as err:  # noqa: BLE001
        record.setdefault("error", f"context: {type(err).__name__}: {err}"[:500])
        status = 1
    print(json.dumps(record), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
