"""Multi-device checks for tests/test_distribution.py, run in a subprocess with fake CPU devices.

The device count must be fixed before JAX is imported, so the test process (one device) runs
this script and reads the JSON line it prints last:

    python tests/distribution_worker.py single                # 8 CPU devices
    python tests/distribution_worker.py multihost PID PORT    # 2 processes x 2 CPU devices

Training here mimics `fkeras.engine._steps.make_train_functions` and `Trainer._run_epoch` with
the call sites `fkeras.engine._sharding` asks the engine for, around the engine's own pure
`make_train_step`; the same loop with no distribution must equal `model.fit` exactly.
"""

import json
import os
import sys

MODE = sys.argv[1] if len(sys.argv) > 1 else "single"
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=" + ("8" if MODE == "single" else "2")
os.environ["JAX_PLATFORMS"] = "cpu"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import inspect  # noqa: E402
import re  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

from fkeras import _random  # noqa: E402
from fkeras import distribution as D  # noqa: E402
from fkeras.engine import _sharding, _steps  # noqa: E402
from fkeras.layers import Dense, Dropout  # noqa: E402
from fkeras.models import Sequential  # noqa: E402

N, BATCH, EPOCHS = 70, 16, 2  # 4 full batches and a partial one of 6 per epoch
COMPILES: list = []
jax.monitoring.register_event_duration_secs_listener(
    lambda name, *_, **__: COMPILES.append(name) if name == "/jax/core/compile/backend_compile_duration" else None
)


def build():
    _random.set_random_seed(7)
    model = Sequential([
        Dense(16, activation="relu", input_shape=(8,)),
        Dropout(0.25),
        Dense(8, activation="relu"),
        Dense(4, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def dataset():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 8)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, N)]
    return x, y


def restart(model, weights):
    """Same weights, fresh optimizer state and the same dropout key stream."""
    model.set_weights(weights)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    _random.set_seed(11)


def mimic_fit(model, x, y, dist):
    """`fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False)` through the engine call sites."""
    xs, ys, sws = model._adapt(x, y)
    spec = model._spec_for(ys)
    prefix = _sharding.path_prefix(model)
    ts = model._pull_train_state(spec)
    ts = _steps.unalias(_sharding.place_train_state(dist, ts, prefix))  # in _pull_train_state
    shardings = _sharding.train_state_shardings(dist, ts, prefix)  # passed to make_train_functions
    step = _steps.make_train_step(model, spec, model.optimizer.transform())

    def one(ts, data, idx):
        return step(ts, _sharding.constrain_batch(dist, _steps.gather(data, idx)))

    def many(ts, data, idx2d):
        body = lambda c, r: step(c, _sharding.constrain_batch(dist, _steps.gather(data, r)))  # noqa: E731
        return jax.lax.scan(body, ts, idx2d)

    one_j, many_j = _sharding.jit_train(one, shardings), _sharding.jit_train(many, shardings)
    data = _sharding.place_data(dist, _steps.Batch(tuple(xs), tuple(ys), tuple(sws)), BATCH)  # in fit
    order = np.arange(N, dtype=np.int32)
    full = N // BATCH
    losses, compiles_before = [], 0
    # each epoch opens with the metrics reset and the key fit keeps on the host for it
    open_epoch = _sharding.jit_train(lambda ts, ctl: (_steps._open(spec, ts, ctl), None), shardings)
    words = _random.key_words(ts.rng)
    for epoch in range(EPOCHS):
        if epoch == 1:
            compiles_before = len(COMPILES)
        ts, _ = open_epoch(ts, _steps.epoch_control(True, False, words, words))
        words = _random.next_epoch_words(words)
        ts, _ = many_j(ts, data, order[: full * BATCH].reshape(full, BATCH))
        ts, logs = one_j(ts, data, order[full * BATCH:])
        losses.append(float(logs["loss"]))
    model._push_train_state(ts)
    info = {
        "losses": losses,
        "recompiles": len(COMPILES) - compiles_before,  # in the second epoch: none
        "data_spec": _spec(data.xs[0]),
        "specs": {
            "kernel": _spec(ts.params["dense"]["kernel"]),
            "bias": _spec(ts.params["dense"]["bias"]),
            "momentum_kernel": _spec(_slot(ts.opt_state, "momentum", "dense", "kernel")),
            "iterations": _spec(ts.opt_state.iterations),
            "rng": _spec(ts.rng),
        },
        "n_devices": len(ts.params["dense"]["kernel"].sharding.device_set),
    }
    return info, (spec, data, many_j, ts, order[: full * BATCH].reshape(full, BATCH))


def _slot(opt_state, field, layer, weight):
    """The optimizer slot `field` (e.g. Adam's 'momentum') of parameter `layer/weight`."""
    for path, leaf in jax.tree_util.tree_flatten_with_path(opt_state)[0]:
        names = [getattr(k, "name", getattr(k, "key", None)) for k in path]
        if field in names and names[-2:] == [layer, weight]:
            return leaf
    raise KeyError(field)


def _spec(a):
    s = a.sharding
    return [list(p) if isinstance(p, tuple) else p for p in s.spec] if hasattr(s, "spec") else type(s).__name__


def weights_of(model):
    return [w.tolist() for w in model.get_weights()]


def predict_and_evaluate(model, x, y, dist):
    """The engine's predict and eval steps on host batches placed with `place_batch`."""
    variables = _sharding.place_variables(dist, model._current_variables(), _sharding.path_prefix(model))
    outs = _steps.make_predict_step(model)(variables, _sharding.place_batch(dist, (x[:64],)))
    if isinstance(outs, tuple):  # (outputs, new_state)
        outs = outs[0]
    spec = model._spec_for([y])
    batch = _steps.Batch((x[:64],), (y[:64],), (None,))
    mask = np.ones((64,), np.float32)
    metrics = _steps.make_eval_step(model, spec)(
        variables, spec.init_metrics(), _sharding.place_batch(dist, batch), _sharding.place_batch(dist, mask)
    )
    results = {k: float(v) for k, v in spec.results(metrics).items()}
    return np.asarray(outs[0]).tolist(), _spec(outs[0]), results


def collectives(many_j, ts, data, rows):
    text = many_j.lower(ts, data, rows).compile().as_text()
    kinds = ["all-gather", "all-to-all", "all-reduce", "collective-permute", "reduce-scatter"]
    counts = {k: len(re.findall(re.escape(k) + r"(?:-start)?\(", text)) for k in kinds}
    # rows of the batch each device gathers: BATCH / 8 when every device gathers only its slice
    counts["gather_rows"] = sorted({int(m) for m in re.findall(r"= f32\[(\d+),[\d,]*\]\{[\d,]*\} gather\(", text)})
    return counts


def engine_integrated() -> bool:
    return "dist" in inspect.signature(_steps.make_train_functions).parameters


def run_single():
    x, y = dataset()
    model = build()
    w0 = model.get_weights()
    out = {"n_devices": jax.device_count(), "integrated": engine_integrated()}

    restart(model, w0)
    hist = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    out["fit"] = {"losses": [float(v) for v in hist.history["loss"]], "weights": weights_of(model)}
    out["fit"]["predict"], _, out["fit"]["evaluate"] = predict_and_evaluate(model, x, y, None)

    mesh8 = D.DeviceMesh((8,), ("batch",))
    mesh24 = D.DeviceMesh((2, 4), ("batch", "model"))
    layout_map = D.LayoutMap(mesh24)
    layout_map[".*dense.*kernel"] = (None, "model")
    layout_map[".*dense.*bias"] = ("model",)
    dists = {
        "none": None,
        "data_parallel": D.DataParallel(mesh8),
        "model_parallel": D.ModelParallel(layout_map=layout_map, batch_dim_name="batch"),
    }
    for name, dist in dists.items():
        restart(model, w0)
        info, (spec, data, many_j, ts, rows) = mimic_fit(model, x, y, dist)
        info["weights"] = weights_of(model)
        info["predict"], info["predict_spec"], info["evaluate"] = predict_and_evaluate(model, x, y, dist)
        info["gathered_equal"] = all(
            np.array_equal(a, b) for a, b in zip(
                jax.tree_util.tree_leaves(_sharding.gather_variables(model._current_variables())),
                jax.tree_util.tree_leaves(jax.device_get(model._current_variables())),
            )
        )
        if name == "data_parallel":
            rep = collectives(many_j, ts, data, rows)
            sharded = jax.tree_util.tree_map(  # the first 64 samples: a multiple of 8
                lambda a: jax.device_put(a[:64], _sharding.batch_sharding(dist, a.ndim)), data
            )
            out["hlo"] = {"replicated": rep, "sharded": collectives(many_j, ts, sharded, rows)}
        out[name] = info

    out["errors"] = {}
    for what, call in {
        "batch_size": lambda: _sharding.place_data(dists["data_parallel"], (x, y), 12),
        "indivisible": lambda: _sharding.variable_sharding(dists["model_parallel"], "dense/kernel", (8, 6)),
        "rank": lambda: _sharding.variable_sharding(dists["model_parallel"], "dense/kernel", (8,)),
    }.items():
        try:
            call()
            out["errors"][what] = None
        except ValueError as err:
            out["errors"][what] = str(err)

    if out["integrated"]:  # the engine has the call sites: the real fit/evaluate/predict shard too
        out["engine"] = {}
        for name in ("data_parallel", "model_parallel"):
            restart(model, w0)
            with dists[name].scope():
                hist = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
                predictions = model.predict(x[:64], batch_size=BATCH, verbose=0)
                evaluation = model.evaluate(x[:64], y[:64], batch_size=BATCH, verbose=0, return_dict=True)
            out["engine"][name] = {
                "losses": [float(v) for v in hist.history["loss"]],
                "weights": weights_of(model),
                "kernel_spec": _spec(model._current_variables()["params"]["dense"]["kernel"]),
                "predict": np.asarray(predictions).tolist(),
                "evaluate": evaluation,
            }
    print(json.dumps(out))


def run_multihost(pid: int, port: int):
    """DataParallel over 4 devices and ModelParallel over a 2x2 mesh, across two processes."""
    D.initialize(f"localhost:{port}", num_processes=2, process_id=pid)
    x, y = dataset()
    model = build()
    w0 = model.get_weights()
    mesh = D.DeviceMesh((2, 2), ("batch", "model"))
    layout_map = D.LayoutMap(mesh)
    layout_map[".*dense.*kernel"] = (None, "model")
    dists = {
        "data_parallel": D.DataParallel(D.DeviceMesh((4,), ("batch",))),
        "model_parallel": D.ModelParallel(layout_map=layout_map),
    }
    out = {"process_count": jax.process_count(), "device_count": jax.device_count()}
    for name, dist in dists.items():
        restart(model, w0)
        info, _ = mimic_fit(model, x, y, dist)
        variables = model._current_variables()
        host = _sharding.gather_variables(variables)["params"]
        out[name] = {
            "losses": info["losses"],
            "weights": [host[layer][w].tolist() for layer in ("dense", "dense_1", "dense_2") for w in ("kernel", "bias")],
            "fully_addressable": bool(variables["params"]["dense"]["kernel"].is_fully_addressable),
            "specs": info["specs"],
        }
    if pid == 0:
        print(json.dumps(out))
    jax.distributed.shutdown()


if __name__ == "__main__":
    if MODE == "single":
        run_single()
    else:
        run_multihost(int(sys.argv[2]), int(sys.argv[3]))
