#!/usr/bin/env bash
# Every workload x implementation, REPEATS times, each measurement in a fresh Python process;
# one JSON line per measurement goes to $OUT. Run from anywhere, e.g. from the repo root:
#
#   bash benchmarks/run_all.sh
#   WORKLOADS="mlp_binary latency" IMPLS="keras fkeras" REPEATS=3 bash benchmarks/run_all.sh
#   python benchmarks/summarize.py benchmarks/results-cpu.jsonl
#
# Knobs (environment variables; default in brackets):
#   PYTHON     interpreter with jax, optax and keras  [/work/venv/bin/python if present, else python3]
#   OUT        output file, truncated first unless APPEND=1  [benchmarks/results-<jax backend>.jsonl]
#   REPEATS    fresh processes per (workload, impl)  [1]
#   WORKLOADS  [mlp_binary mlp_softmax vgg_small lstm_mimo mlp_large text_gru_conv1d latency]
#   IMPLS      [keras fkeras jax-step jax-scan]; variants:
#                keras-spe<N>          Keras with compile(steps_per_execution=N)
#                fkeras-spe<N|auto>    fkeras with FKERAS_BENCH_STEPS_PER_EXECUTION=<N|auto>
#                fkeras-cudnn          fkeras with LSTM(use_cudnn=True) (FKERAS_BENCH_USE_CUDNN=1)
#                jax-scan-unrollfull   the scanned epoch with lax.scan(unroll=True)
#   TIMEOUT_S  seconds allowed per measurement  [900]
#   LOGDIR     each run's stderr  [benchmarks/logs]
#   APPEND     1: append to $OUT instead of truncating it  [0]
#
# fkeras is imported from this checkout (its root is put first on PYTHONPATH). The JAX device is whatever
# JAX picks (set JAX_PLATFORMS=cpu to force the CPU); each JSON line names it.
#
# On the CPU backend only, jax-scan on the workloads with convolutions (vgg_small, text_gru_conv1d) runs
# 2 epochs instead of the workload's count: XLA:CPU runs a conv weight gradient inside a scanned loop
# ~40x slower than step by step (27 s vs 0.7 s per text_gru_conv1d epoch measured here), so the full count
# alone would take most of the time budget. The steady epoch is then the time of epoch 2.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
if [ -z "${PYTHON:-}" ]; then
  if [ -x /work/venv/bin/python ]; then PYTHON=/work/venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
REPEATS="${REPEATS:-1}"
WORKLOADS="${WORKLOADS:-mlp_binary mlp_softmax vgg_small lstm_mimo mlp_large text_gru_conv1d latency}"
IMPLS="${IMPLS:-keras fkeras jax-step jax-scan}"
TIMEOUT_S="${TIMEOUT_S:-900}"
LOGDIR="${LOGDIR:-$HERE/logs}"

BACKEND="$("$PYTHON" -c 'import jax; print(jax.default_backend())' 2>/dev/null)" || {
  echo "run_all.sh: '$PYTHON' cannot import jax" >&2; exit 2; }
OUT="${OUT:-$HERE/results-$BACKEND.jsonl}"
mkdir -p "$LOGDIR" "$(dirname "$OUT")"
[ "${APPEND:-0}" = 1 ] || : > "$OUT"
echo "backend $BACKEND, python $PYTHON, writing $OUT" >&2

# Arguments for workloads.py, and environment, for one IMPLS entry; prints nothing for an unknown one.
impl_args() {
  local impl="$1" workload="$2"
  case "$impl" in
    keras|fkeras|jax-step) echo "--impl $impl" ;;
    jax-scan|jax-scan-unrollfull)
      local args="--impl jax-scan"
      [ "$impl" = jax-scan-unrollfull ] && args="$args --scan-unroll full"
      if [ "$BACKEND" = cpu ] && [ "$impl" = jax-scan ] && [ "$workload" != latency ]; then
        case "$workload" in vgg_small|text_gru_conv1d) args="$args --epochs 2" ;; esac
      fi
      echo "$args" ;;
    keras-spe[0-9]*) echo "--impl keras --keras-steps-per-execution ${impl#keras-spe}" ;;
    fkeras-spe*|fkeras-cudnn) echo "--impl fkeras" ;;
  esac
}

# A JSON line for a run that printed none (killed, timed out, crashed before main).
error_line() {
  "$PYTHON" - "$@" <<'PY'
import json, sys
impl, workload, rc, log, timeout = sys.argv[1:6]
try:
    tail = [l.strip() for l in open(log, errors="replace") if l.strip()][-1:]
except OSError:
    tail = []
if rc in ("124", "137"):
    why = f"timed out after {timeout} s"
else:
    why = f"exit status {rc}: {tail[0] if tail else 'no output'}"
print(json.dumps({"impl": impl, "workload": workload, "error": why[:500], "log": log}))
PY
}

start=$(date +%s)
for rep in $(seq 1 "$REPEATS"); do
  for workload in $WORKLOADS; do
    for impl in $IMPLS; do
      args="$(impl_args "$impl" "$workload")"
      if [ -z "$args" ]; then echo "unknown impl '$impl', skipped" >&2; continue; fi
      impl_env=()
      case "$impl" in
        fkeras-spe*) impl_env=(FKERAS_BENCH_STEPS_PER_EXECUTION="${impl#fkeras-spe}") ;;
        fkeras-cudnn) impl_env=(FKERAS_BENCH_USE_CUDNN=1) ;;
      esac
      log="$LOGDIR/${workload}__${impl}__rep${rep}.log"
      t=$(date +%s)
      # shellcheck disable=SC2086  # $args is a list of words on purpose
      env "${impl_env[@]}" timeout -k 10 "$TIMEOUT_S" "$PYTHON" "$HERE/workloads.py" $args \
        --workload "$workload" >"$log.out" 2>"$log"
      rc=$?
      line="$(grep '^{' "$log.out" | tail -n 1)"
      rm -f "$log.out"
      [ -n "$line" ] || line="$(error_line "$impl" "$workload" "$rc" "$log" "$TIMEOUT_S")"
      echo "$line" >> "$OUT"
      status="ok"
      case "$line" in *'"error"'*) status="error: $(printf '%s' "$line" | sed -n 's/.*"error": "\([^"]*\)".*/\1/p')" ;; esac
      echo "[rep $rep] $workload $impl: $status ($(( $(date +%s) - t )) s, total $(( $(date +%s) - start )) s)" >&2
    done
  done
done
echo "wrote $OUT" >&2
