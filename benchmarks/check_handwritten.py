#!/usr/bin/env python
"""Check that the hand-written models (handwritten.py) compute what the Keras 3 models compute.

    python benchmarks/check_handwritten.py [WORKLOAD ...]

For each workload: build the Keras 3 model (KERAS_BACKEND=jax) with the benchmark's own builder,
copy its initial weights into the hand-written parameter tree, then compare

- inference outputs on a few samples (every workload);
- per-epoch training losses over 3 epochs without shuffling, on a slice of the data with a
  partial last batch, for the step and the scan loop (workloads without Dropout only: random
  masks cannot match).

This is what entitles the jax-step / jax-scan timings to stand for "the same computation, written by
hand". Prints one line per check and exits non-zero when one fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "jax"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import handwritten
import jax
import numpy as np
import workloads


def _dense(w):
    return {"kernel": w[0], "bias": w[1]}


def to_params(workload: str, w: list):
    """Keras's flat weight list (layer order) -> the hand-written parameter tree."""
    if workload in ("mlp_binary", "mlp_softmax", "mlp_large", "vgg_small"):
        return [_dense(w[i : i + 2]) for i in range(0, len(w), 2)]
    if workload == "lstm_mimo":
        emb, lk, lrk, lb, d1k, d1b, d2k, d2b, d3k, d3b, mk, mb, ak, ab = w
        return {
            "embedding": {"embeddings": emb},
            "lstm": {"kernel": lk, "recurrent_kernel": lrk, "bias": lb},
            "dense_1": _dense([d1k, d1b]),
            "dense_2": _dense([d2k, d2b]),
            "dense_3": _dense([d3k, d3b]),
            "main_output": _dense([mk, mb]),
            "aux_output": _dense([ak, ab]),
        }
    if workload == "text_gru_conv1d":
        emb, ck, cb, gk, grk, gb, dk, db = w
        return {
            "embedding": {"embeddings": emb},
            "conv": {"kernel": ck, "bias": cb},
            "gru": {"kernel": gk, "recurrent_kernel": grk, "bias": gb},
            "dense": _dense([dk, db]),
        }
    raise ValueError(workload)


def _rows(tree, n):
    return jax.tree.map(lambda a: a[:n], tree)


def _max_rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / (np.abs(b) + 1e-6)))


TRAINED = {"mlp_binary": 75, "lstm_mimo": 70, "mlp_large": 300, "text_gru_conv1d": 140}


def check(workload: str, keras) -> list[tuple[str, float, float]]:
    spec = workloads.WORKLOADS[workload]
    x, y = spec.data(np.random.default_rng(workloads.DATA_SEED))
    keras.utils.set_random_seed(1)
    model, compile_kwargs = workloads.build_model(keras, workload)
    model.compile(**compile_kwargs)
    params = to_params(workload, model.get_weights())
    ref = handwritten.REFERENCES[workload]()
    few = _rows(x, 4)
    ours = ref.forward(params, few, None, False)
    theirs = model.predict(few, verbose=0)
    results = [("inference", _max_rel(jax.tree.leaves(ours), jax.tree.leaves(theirs)), 1e-5)]
    if workload in TRAINED:
        n = TRAINED[workload]
        xs, ys = _rows(x, n), _rows(y, n)
        history = model.fit(
            xs, ys, batch_size=spec.batch_size, epochs=3, shuffle=False, verbose=0
        ).history
        for variant in ("step", "scan"):
            logs: list = []
            handwritten.fit(
                workload,
                xs,
                ys,
                batch_size=spec.batch_size,
                epochs=3,
                variant=variant,
                seed=0,
                params=params,
                shuffle=False,
                history=logs,
            )
            results.append(
                (
                    f"train losses ({variant})",
                    _max_rel([e["loss"] for e in logs], history["loss"]),
                    1e-5,
                )
            )
    return results


def main(names: list[str]) -> int:
    import keras

    failed = 0
    for workload in names or list(handwritten.REFERENCES):
        for what, err, tol in check(workload, keras):
            ok = err <= tol
            failed += not ok
            print(
                f"{workload:16s} {what:22s} max rel diff {err:.2e} (tol {tol:.0e}) "
                f"{'ok' if ok else 'FAIL'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
