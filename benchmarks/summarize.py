#!/usr/bin/env python
"""Markdown tables from the JSON lines written by run_all.sh / workloads.py.

    python benchmarks/summarize.py benchmarks/results-cpu.jsonl [more.jsonl ...]

One section per device (CPU model and core count, or the accelerator's kind). In it:

- training: one row per workload; the steady epoch time (median over repeated runs) of keras,
  keras at its best measured steps_per_execution, fkeras, jax-step and jax-scan; the ratios
  fkeras / best hand-written loop and keras / fkeras (> 1: the numerator is slower);
  first-epoch times (they include tracing and compilation);
- latency: one row per implementation (mlp_binary model);
- every run, variants included, and the errors (runs that printed no device come last).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict

WORKLOAD_ORDER = [
    "mlp_binary",
    "mlp_softmax",
    "vgg_small",
    "lstm_mimo",
    "mlp_large",
    "text_gru_conv1d",
]
MAIN_IMPLS = ["keras", "fkeras", "jax-step", "jax-scan"]


def load(paths: list[str]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path) as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    return rows


def device_of(row: dict) -> str | None:
    if "platform" not in row:
        return None
    if row["platform"] == "cpu":
        return f"CPU: {row.get('cpu_model', '?')}, {row.get('cpu_count', '?')} cores"
    kind, cores = row.get("device_kind", "?"), row.get("cpu_count", "?")
    return f"{row['platform'].upper()}: {kind} ({cores} host cores)"


def num(x, digits=3) -> str:
    if x is None:
        return "-"
    return f"{x:.{digits}g}" if abs(x) < 10**digits else f"{x:.0f}"


def median_of(rows: list[dict], field: str):
    values = [r[field] for r in rows if r.get(field) is not None]
    return statistics.median(values) if values else None


def _wl_key(name: str):
    return (WORKLOAD_ORDER.index(name) if name in WORKLOAD_ORDER else len(WORKLOAD_ORDER), name)


class Runs:
    """The successful training runs of one device, by (workload, impl label)."""

    def __init__(self, rows: list[dict]):
        self.by = defaultdict(list)
        for r in rows:
            if "error" not in r and r["workload"] != "latency":
                self.by[(r["workload"], r["impl"])].append(r)
        self.workloads = sorted({w for w, _ in self.by}, key=_wl_key)
        self.default_epochs = {}
        for w in self.workloads:
            counts = [r["epochs"] for (wl, _), rs in self.by.items() if wl == w for r in rs]
            self.default_epochs[w] = statistics.mode(counts)

    def steady(self, w, impl):
        return median_of(self.by.get((w, impl), []), "steady_epoch_s")

    def first(self, w, impl):
        return median_of(self.by.get((w, impl), []), "first_epoch_s")

    def cell(self, w, impl, field="steady_epoch_s") -> str:
        rows = self.by.get((w, impl), [])
        if not rows:
            return "-"
        text = num(median_of(rows, field))
        epochs = {r["epochs"] for r in rows}
        if epochs != {self.default_epochs[w]}:
            text += f" ({'/'.join(map(str, sorted(epochs)))} ep)"
        return text

    def best(self, w, prefix: str, include: str | None = None):
        """(steady time, label) of the fastest impl labelled `prefix...` (or exactly `include`)."""
        found = [
            (self.steady(w, impl), impl)
            for (wl, impl) in self.by
            if wl == w and (impl.startswith(prefix) or impl == include)
        ]
        found = [f for f in found if f[0] is not None]
        return min(found) if found else (None, None)


def ratio(a, b) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


TRAINING_COLUMNS = [
    "workload", "keras", "keras, best spe", "fkeras", "jax-step", "jax-scan",
    "fkeras / best hand-written", "keras / fkeras", "best keras / fkeras",
    "first epoch: keras", "fkeras", "jax-step", "jax-scan",
]  # fmt: skip


def markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def training_table(runs: Runs) -> list[str]:
    out = [markdown_row(TRAINING_COLUMNS), "|---|" + "---:|" * (len(TRAINING_COLUMNS) - 1)]
    for w in runs.workloads:
        fk = runs.steady(w, "fkeras")
        best_keras, best_keras_impl = runs.best(w, "keras-spe", include="keras")
        best_hand, best_hand_impl = runs.best(w, "jax-")
        keras_best_cell = "-"
        if best_keras is not None:
            spe = best_keras_impl[len("keras-spe") :] if best_keras_impl != "keras" else "1"
            keras_best_cell = f"{num(best_keras)} (spe {spe})"
        hand_cell = ratio(fk, best_hand)
        if hand_cell != "-":
            hand_cell += f" (vs {best_hand_impl})"
        cells = [
            runs.cell(w, "keras"),
            keras_best_cell,
            runs.cell(w, "fkeras"),
            runs.cell(w, "jax-step"),
            runs.cell(w, "jax-scan"),
            hand_cell,
            ratio(runs.steady(w, "keras"), fk),
            ratio(best_keras, fk),
        ]
        cells += [runs.cell(w, impl, "first_epoch_s") for impl in MAIN_IMPLS]
        out.append(markdown_row([w, *cells]))
    return out


def details_table(runs: Runs) -> list[str]:
    columns = ["workload", "impl", "runs", "epochs", "first epoch s", "steady epoch s", "samples/s"]
    out = [markdown_row([*columns, "final loss"]), "|---|---|" + "---:|" * 6]
    order = {name: i for i, name in enumerate(MAIN_IMPLS)}
    for w, impl in sorted(runs.by, key=lambda k: (_wl_key(k[0]), order.get(k[1], 9), k[1])):
        rows = runs.by[(w, impl)]

        def each(field, digits=3, rows=rows):
            return " / ".join(num(r.get(field), digits) for r in rows)

        epochs = "/".join(str(r["epochs"]) for r in rows)
        times = [each("first_epoch_s"), each("steady_epoch_s"), each("samples_per_s")]
        out.append(markdown_row([w, impl, str(len(rows)), epochs, *times, each("final_loss", 4)]))
    return out


LATENCY_COLUMNS = [
    ("predict_1_ms", "predict, 1 sample (ms)"),
    ("predict_on_batch_1_ms", "predict_on_batch, 1 sample (ms)"),
    ("apply_jit_1_ms", "jitted apply, 1 sample (ms)"),
    ("apply_jit_host_1_ms", "jitted apply + copy to NumPy (ms)"),
    ("evaluate_first_s", "evaluate 100k, 1st call (s)"),
    ("evaluate_s", "evaluate 100k, 2nd call (s)"),
    ("evaluate_rss_growth_mb", "RSS growth in evaluate (MB)"),
]


def latency_table(rows: list[dict]) -> list[str]:
    by = defaultdict(list)
    for r in rows:
        if r["workload"] == "latency" and "error" not in r:
            by[r["impl"]].append(r)
    if not by:
        return []
    out = [
        "| impl | runs | " + " | ".join(title for _, title in LATENCY_COLUMNS)
        + " | predict / apply, same run: median (each run) | predict / (apply + copy) |",
        "|---|---:|" + "---:|" * (len(LATENCY_COLUMNS) + 2),
    ]
    order = {name: i for i, name in enumerate(MAIN_IMPLS)}
    for impl in sorted(by, key=lambda i: (order.get(i, 9), i)):
        cells = [num(median_of(by[impl], field)) for field, _ in LATENCY_COLUMNS]
        ratios = [r["predict_1_ms"] / r["apply_jit_1_ms"] for r in by[impl]
                  if r.get("predict_1_ms") and r.get("apply_jit_1_ms")]
        cells.append(f"{statistics.median(ratios):.2f} ({', '.join(f'{x:.2f}' for x in ratios)})" if ratios else "-")
        host = [r["predict_1_ms"] / r["apply_jit_host_1_ms"] for r in by[impl]
                if r.get("predict_1_ms") and r.get("apply_jit_host_1_ms")]
        cells.append(f"{statistics.median(host):.2f}" if host else "-")
        out.append(f"| {impl} | {len(by[impl])} | " + " | ".join(cells) + " |")
    return out


def error_lines(rows: list[dict]) -> list[str]:
    return [f"- {r.get('impl')} / {r.get('workload')}: {r['error']}" for r in rows if "error" in r]


READING = (
    "Steady epoch = median of epochs 2..N, in seconds (median over runs). Ratios > 1: the first "
    "named is slower. `(2 ep)`: that impl ran fewer epochs than the others."
)


def section(device: str, rows: list[dict]) -> list[str]:
    runs = Runs(rows)
    versions = next((r["versions"] for r in rows if r.get("versions")), {})
    out = [f"## {device}", ""]
    if versions:
        out += [", ".join(f"{k} {v}" for k, v in versions.items() if v), ""]
    if runs.workloads:
        out += [READING, ""]
        out += training_table(runs) + ["", "All training runs:", ""] + details_table(runs) + [""]
    latency = latency_table(rows)
    if latency:
        out += (
            ["Latency and evaluate (mlp_binary model; medians after warm-up):", ""] + latency + [""]
        )
    errors = error_lines(rows)
    if errors:
        out += ["Errors:", ""] + errors + [""]
    return out


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    rows = load(paths)
    devices = defaultdict(list)
    for r in rows:
        devices[device_of(r)].append(r)
    lines = []
    for device in sorted(d for d in devices if d is not None):
        lines += section(device, devices[device])
    if None in devices:
        lines += (
            ["## Runs that printed no result (device unknown)", ""]
            + error_lines(devices[None])
            + [""]
        )
    print("\n".join(lines).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
