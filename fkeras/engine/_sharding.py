"""Placing the training state and the data on a distribution's mesh: pure helpers for the engine.

Each helper is a function of a `fkeras.distribution.Distribution` (or None: no distribution, the
helper does what the engine does without one) and of pytrees. Nothing here computes: the pure
training step is unchanged, and `jax.jit` partitions it (GSPMD) from the shardings of its inputs,
the `with_sharding_constraint` that `constrain_batch` puts on each gathered batch, and the
`out_shardings` that `jit_train` pins on the `TrainState`, so the state keeps its layout from
step to step and donation reuses its buffers.

Where things live under a distribution:

- variables (`params`, `frozen`, `state`): the layout its `LayoutMap` gives the path
  `layer/weight` (with enclosing models' names in front, and a top-level `Sequential`'s own name,
  as Keras 3's `variable.path`), else replicated;
- optimizer slots shaped like a parameter (momenta, velocities): that parameter's layout, found
  by tree position; everything else in the optimizer state, the metrics and the PRNG key:
  replicated;
- the data `fit` keeps on the device: replicated, so gathering a batch by index is local on every
  device (no collective per step); each gathered batch is then split over the batch axis
  (`constrain_batch`), so each device computes only its slice. Sharding the data set instead
  saves memory but makes every gather a masked local gather plus an all-reduce of the whole
  batch over the batch axis; see `place_data`.
- a batch from the host (evaluate, predict, train_on_batch): split over the batch axis.

A batch whose size the batch axis does not divide is replicated (every device computes all of
it): `fit` refuses such a `batch_size` up front (`check_batch_size`), but the partial last batch
of an epoch and the padded last batch of `evaluate`/`predict` run replicated, which keeps
Keras's exact semantics for them at the cost of parallelism for that one step. (Keras 3 on JAX
instead fails on such a batch when it splits it.)

The engine's call sites, with `dist = fkeras.distribution.distribution()` and
`prefix = path_prefix(model)`; each is the identity (or the old behaviour) when `dist` is None:

- `_steps.make_train_functions(model, spec, tx, dist=None, state_shardings=None)`: wrap each
  gathered batch in `constrain_batch(dist, ...)` and jit the three functions with
  `jit_train(fn, state_shardings)`;
- `Trainer._train_key`: add `dist` to the key (a new distribution means new functions and a
  re-placed state); `Trainer._train_fns`: pass `dist` and
  `train_state_shardings(dist, self._pull_train_state(spec), prefix)`;
- `Trainer._pull_train_state`: `unalias(place_train_state(dist, TrainState(...), prefix))`;
- `fit`: `place_data(dist, Batch(...), batch_size)` instead of `jax.device_put`;
- host batches (evaluate, predict, train_on_batch, generator loops): `place_batch(dist, ...)`,
  and `place_variables(dist, variables, prefix)` for the variables evaluate/predict read.
"""

from typing import Any, Callable, Optional

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from fkeras.distribution import Distribution

MSG_BATCH_SIZE = (
    "`batch_size` must be a multiple of the distribution's data-parallel width: each batch is "
    "split evenly over the {width} devices of mesh axis {axis!r}. Use e.g. batch_size={suggest}. "
    "Received: batch_size={batch_size}"
)


class _Variable:
    """What `Distribution.get_variable_layout` reads: a path and a shape."""

    def __init__(self, path: str, shape: tuple):
        self.path, self.shape = path, shape


# ---- axes ---------------------------------------------------------------------------------


def data_width(dist: Distribution) -> int:
    """How many ways a batch is split: the size of the distribution's batch axis."""
    mesh = dist.device_mesh
    return mesh.shape[mesh.axis_names.index(dist.batch_dim_name)]


def replicated(dist: Distribution) -> NamedSharding:
    """A whole copy on every device of the mesh."""
    return NamedSharding(dist.device_mesh.backend_mesh, PartitionSpec())


def batch_sharding(
    dist: Optional[Distribution], ndim: int, size: Optional[int] = None
) -> Optional[NamedSharding]:
    """The sharding of a batch array of rank `ndim` (and leading size `size`, when known).

    Split on axis 0 over the batch axis; replicated for scalars and when `size` is not a
    multiple of the data-parallel width. None without a distribution.
    """
    if dist is None:
        return None
    if ndim == 0 or (size is not None and size % data_width(dist)):
        return replicated(dist)
    return NamedSharding(dist.device_mesh.backend_mesh, PartitionSpec(dist.batch_dim_name))


def _leading_batch_sharding(dist: Distribution, a) -> NamedSharding:
    shape = np.shape(a)
    return batch_sharding(dist, len(shape), shape[0] if shape else None)


# ---- variables and the training state -------------------------------------------------------


def path_prefix(model) -> str:
    """What Keras 3 puts before `layer/weight` in a model's variable paths.

    A `Sequential` builds its layers inside its own name scope (`'sequential/dense/kernel'`); a
    functional model does not (`'dense/kernel'`). Nested models are in the variables tree.
    """
    from fkeras.models._sequential import Sequential

    return f"{model.name}/" if isinstance(model, Sequential) else ""


def _key_name(key) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def _path(keypath, prefix: str) -> str:
    return prefix + "/".join(_key_name(k) for k in keypath)


def variable_paths(variables: Any, prefix: str = "") -> list[str]:
    """The paths that `LayoutMap` keys are matched against, e.g. `['dense/kernel', ...]`."""
    return [_path(kp, prefix) for kp, _ in jax.tree_util.tree_flatten_with_path(variables)[0]]


def variable_sharding(dist: Distribution, path: str, shape: tuple) -> NamedSharding:
    """The sharding of the variable at `path` (e.g. `'dense/kernel'`) with `shape`.

    Raises:
        ValueError: if the layout's rank differs from the variable's, or a split dimension is
            not a multiple of the number of devices it is split over.
    """
    layout = dist.get_variable_layout(_Variable(path, tuple(shape)))
    if len(layout.axes) != len(shape):
        raise ValueError(
            f"The layout for variable '{path}' has {len(layout.axes)} axes but the variable has "
            f"shape {tuple(shape)} (rank {len(shape)}). Received: layout axes={layout.axes}"
        )
    mesh = dist.device_mesh
    for dim, axes in zip(shape, layout.axes):
        names = axes if isinstance(axes, tuple) else (axes,)
        ways = int(np.prod([mesh.shape[mesh.axis_names.index(a)] for a in names if a is not None]))
        if dim % ways:
            raise ValueError(
                f"Variable '{path}' of shape {tuple(shape)} cannot be split by layout "
                f"{layout.axes}: dimension {dim} is not a multiple of {ways} devices on mesh axes "
                f"{[a for a in names if a is not None]}."
            )
    return layout.backend_layout


def variable_shardings(dist: Distribution, variables: Any, prefix: str = "") -> Any:
    """A tree like `variables` (nested dicts keyed by layer then weight name) of shardings.

    Args:
        dist: the distribution.
        variables: e.g. `{'dense': {'kernel': ..., 'bias': ...}, 'sequential': {...}}` (a
            `params`, `frozen` or `state` tree).
        prefix: put before every path (see `path_prefix`).
    """

    def one(keypath, leaf):
        return variable_sharding(dist, _path(keypath, prefix), np.shape(leaf))

    return jax.tree_util.tree_map_with_path(one, variables)


def optimizer_shardings(
    dist: Distribution, opt_state: Any, params: Any, param_shardings: Any
) -> Any:
    """Shardings for an optax state: a slot mirrors the parameter it is the slot of.

    An optax state holds param-shaped subtrees (Adam's `mu`, `nu`) keyed like `params`: a leaf
    whose trailing dict keys spell a parameter's path and whose shape is that parameter's takes
    its sharding. Counters, learning rates and factored statistics are replicated.
    """
    table = {}
    for (keypath, leaf), sharding in zip(
        jax.tree_util.tree_flatten_with_path(params)[0], jax.tree_util.tree_leaves(param_shardings)
    ):
        table[tuple(_key_name(k) for k in keypath)] = (np.shape(leaf), sharding)
    rep = replicated(dist)

    def one(keypath, leaf):
        names = []
        for k in reversed(keypath):
            if not isinstance(k, jax.tree_util.DictKey):
                break
            names.insert(0, str(k.key))
        for start in range(len(names)):
            hit = table.get(tuple(names[start:]))
            if hit is not None and hit[0] == np.shape(leaf):
                return hit[1]
        return rep

    return jax.tree_util.tree_map_with_path(one, opt_state)


def train_state_shardings(dist: Optional[Distribution], ts, prefix: str = ""):
    """A `TrainState` of shardings for `ts` (None without a distribution); see the module doc."""
    if dist is None:
        return None
    params = variable_shardings(dist, ts.params, prefix)
    rep = replicated(dist)
    return type(ts)(
        params,
        variable_shardings(dist, ts.frozen, prefix),
        variable_shardings(dist, ts.state, prefix),
        optimizer_shardings(dist, ts.opt_state, ts.params, params),
        jax.tree_util.tree_map(lambda _: rep, ts.metrics),
        rep,
    )


def place_train_state(dist: Optional[Distribution], ts, prefix: str = ""):
    """`ts` with every array on its sharding (unchanged without a distribution).

    Arrays already placed are returned as they are, so the result may share buffers with `ts`
    (and an array that appears twice in `ts` still does): unalias before donating.
    """
    if dist is None:
        return ts
    return jax.tree_util.tree_map(put, ts, train_state_shardings(dist, ts, prefix))


def place_variables(dist: Optional[Distribution], variables: dict, prefix: str = "") -> dict:
    """A variables tree `{'params': ..., 'state': ...}` on its layouts, for evaluate/predict.

    Unchanged without a distribution; arrays already in place are not copied.
    """
    if dist is None:
        return variables
    return {
        kind: jax.tree_util.tree_map(put, tree, variable_shardings(dist, tree, prefix))
        for kind, tree in variables.items()
    }


def jit_train(fn: Callable, state_shardings=None, donate_argnums=0, **jit_kwargs) -> Callable:
    """`jax.jit(fn, donate_argnums=...)` for `fn(ts, ...) -> (ts, logs)`, keeping `ts`'s layout.

    With `state_shardings` (from `train_state_shardings`), the returned `TrainState` is pinned
    to them (`out_shardings`), so the next call gets the same layout: no recompilation, and the
    donated buffers are reused. The logs' sharding is left to the compiler.
    """
    if state_shardings is None:
        return jax.jit(fn, donate_argnums=donate_argnums, **jit_kwargs)
    return jax.jit(fn, donate_argnums=donate_argnums, out_shardings=(state_shardings, None), **jit_kwargs)


# ---- data ---------------------------------------------------------------------------------


def check_batch_size(dist: Optional[Distribution], batch_size: int) -> None:
    """Raise unless the batch axis splits `batch_size` evenly (no-op without a distribution).

    Raises:
        ValueError: naming `batch_size`, the data-parallel width and the mesh axis.
    """
    if dist is None:
        return
    width = data_width(dist)
    if batch_size % width:
        suggest = max(width, batch_size - batch_size % width)
        raise ValueError(
            MSG_BATCH_SIZE.format(
                width=width, axis=dist.batch_dim_name, suggest=suggest, batch_size=batch_size
            )
        )


def place_data(dist: Optional[Distribution], data: Any, batch_size: Optional[int] = None) -> Any:
    """Put the training arrays that `fit` gathers batches from on the device(s).

    Without a distribution: `jax.device_put(data)`. With one: replicated on every device of the
    mesh, after checking `batch_size` (when given) against the data-parallel width.

    Why replicated: batches are gathered by shuffled indices. From a replicated array each
    device gathers its own slice of the batch locally; from an array sharded on the sample axis,
    XLA gathers on every device with the indices it does not own masked out and all-reduces the
    full batch over the batch axis, every step (measured on 8 CPU devices in
    tests/test_distribution.py: see `test_replicated_data_gathers_without_collectives`). The
    cost is memory: each device holds the whole data set, which is what one device holds
    without a distribution, and `fit` keeps data on the device only when it fits there.
    """
    if dist is None:
        return jax.device_put(data)
    if batch_size is not None:
        check_batch_size(dist, batch_size)
    rep = replicated(dist)
    return jax.tree_util.tree_map(lambda a: put(a, rep), data)


def place_batch(dist: Optional[Distribution], batch: Any) -> Any:
    """A host batch (any pytree of arrays) split on axis 0 over the batch axis.

    Arrays whose leading size the width does not divide are replicated. Without a distribution
    the batch is returned unchanged.
    """
    if dist is None:
        return batch
    return jax.tree_util.tree_map(lambda a: put(a, _leading_batch_sharding(dist, a)), batch)


def constrain_batch(dist: Optional[Distribution], batch: Any) -> Any:
    """Inside a jitted function: ask for `batch` split over the batch axis (see `batch_sharding`).

    Put it on each batch gathered from the replicated data, so that each device gathers and
    computes only its slice. Identity without a distribution.
    """
    if dist is None:
        return batch

    def one(a):
        return jax.lax.with_sharding_constraint(a, _leading_batch_sharding(dist, a))

    return jax.tree_util.tree_map(one, batch)


# ---- transfers ----------------------------------------------------------------------------


def put(x: Any, sharding: NamedSharding) -> jax.Array:
    """`x` on `sharding`; `x` itself when it is there already.

    In a multi-process run every process passes the same (global) value and contributes the
    shards of its own devices.
    """
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer):
        if x.sharding == sharding:
            return x
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            data = put(jax.random.key_data(x), sharding)
            return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
        if not x.is_fully_addressable:
            return jax.device_put(x, sharding)
    if sharding.is_fully_addressable:
        return jax.device_put(x, sharding)
    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def gather_variables(tree: Any) -> Any:
    """Host NumPy copies of every array in `tree`, however it is sharded (for saving).

    Arrays spread over several processes are assembled with an all-gather, so in a
    multi-process run every process must call this together.
    """

    def one(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(x, tiled=True))
        return np.asarray(x)

    return jax.tree_util.tree_map(one, tree)
