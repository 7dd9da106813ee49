"""What `compile` set up, as saved data: the compile config, and the optimizer state in Keras's order.

Compile config: Keras 3's `compile_config` (optimizer, loss, loss_weights, metrics,
weighted_metrics, run_eagerly, steps_per_execution, jit_compile), with losses and metrics given
as names kept as names and objects or functions serialized in Keras 3's layout. Keras 2's
`training_config` (`optimizer_config`, Keras 2 optimizer keys such as `lr` and `decay`) is read
too.

Optimizer state: Keras 3 saves an optimizer as one flat list of variables: `iterations`, the
`learning_rate` (unless it is a schedule), then the slots. The slots come group by group (Adam:
one group `(momentum, velocity)`; RMSprop: `velocity`, then `momentum`, ...), and within a group
variable by variable, in the order of `model.trainable_variables`: the model's layers in order,
each layer's weights in creation order, nested models in place. fkeras's optimizer state is a
pytree keyed by layer and weight names, whose leaves JAX orders by sorted key, so this module
reorders the rows between the two orders.
"""

import warnings
from typing import Any

import jax
import numpy as np

from fkeras import _tree

Path = tuple[str, ...]

MSG_RESTORE_HOOK = (
    "The optimizer state was loaded into `model.optimizer`, but this version of the fkeras "
    "training facade has no `_restore_train_state` hook, so the next `fit` starts from a fresh "
    "optimizer state."
)


# ---- compile config -------------------------------------------------------------------------


def _optax_wrapped(optimizer) -> bool:
    from fkeras.optimizers import OptaxOptimizer

    return isinstance(optimizer, OptaxOptimizer)


def has_saveable_optimizer(model) -> bool:
    """Whether the model's optimizer is a Keras optimizer (a raw optax one has no config)."""
    optimizer = getattr(model, "optimizer", None)
    return optimizer is not None and not _optax_wrapped(optimizer)


def _serialize_leaves(value, serialize):
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {k: _serialize_leaves(v, serialize) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialize_leaves(v, serialize) for v in value]
    return serialize(value)


def compile_config(model) -> dict[str, Any] | None:
    """Keras 3's `compile_config` for a compiled model, or None (not compiled, or the optimizer
    is a raw optax transformation, which has no config: then a warning says so)."""
    from fkeras import losses, metrics, optimizers

    if not getattr(model, "compiled", False) or model._compile_args is None:
        return None
    if _optax_wrapped(model.optimizer):
        warnings.warn(
            f"Model '{model.name}' is compiled with a raw optax transformation, which has no "
            "Keras config, so the saved model holds no compile information; compile it again "
            "after loading.",
            stacklevel=4,
        )
        return None
    args = model._compile_args
    steps = getattr(model, "_steps_per_execution", 1)
    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": _serialize_leaves(args.get("loss"), losses.serialize),
        "loss_weights": _serialize_leaves(args.get("loss_weights"), float),
        "metrics": _serialize_leaves(args.get("metrics"), metrics.serialize),
        "weighted_metrics": _serialize_leaves(args.get("weighted_metrics"), metrics.serialize),
        "run_eagerly": bool(getattr(model, "run_eagerly", False)),
        # Keras 3 takes an integer only; fkeras's "auto" goes into the file's metadata.
        "steps_per_execution": steps if isinstance(steps, int) else 1,
        "jit_compile": True,
    }


def _is_single(obj) -> bool:
    return isinstance(obj, str) or (isinstance(obj, dict) and "class_name" in obj)


def _deserialize_leaves(value, deserialize, custom_objects, what: str):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value  # names stay names: compile resolves them (and keeps 'acc' as 'acc')
    if _is_single(value):
        try:
            return deserialize(value, custom_objects)
        except ValueError as err:
            raise ValueError(
                f"Could not rebuild the saved {what} {value.get('class_name')!r} "
                f"({value.get('config')!r}): {err}\nIf it is your own function or class, pass it "
                f"in `custom_objects`, e.g. load_model(path, custom_objects={{'name': obj}}). "
                f"Received: custom_objects={sorted(custom_objects or {})}"
            ) from err
    if isinstance(value, dict):
        return {
            k: _deserialize_leaves(v, deserialize, custom_objects, what) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_deserialize_leaves(v, deserialize, custom_objects, what) for v in value]
    raise ValueError(f"Saved compile config not understood: {what}={value!r}")


def _unwrap_single_output(metrics, model):
    """Keras 2 saved a single-output model's metrics as `[[...]]`; compile wants `[...]`."""
    if (
        isinstance(metrics, list)
        and len(metrics) == 1
        and isinstance(metrics[0], list)
        and len(model.outputs) == 1
    ):
        return metrics[0]
    return metrics


def compile_from_config(
    model, config: dict, custom_objects: dict | None = None, steps_per_execution=None
) -> None:
    """Compiles `model` from a Keras 3 `compile_config` or a Keras 2 `training_config`."""
    from fkeras import losses, metrics, optimizers

    optimizer_config = config.get("optimizer", config.get("optimizer_config"))
    if optimizer_config is None:
        raise ValueError(f"The saved compile config has no optimizer. Received: {sorted(config)}")
    if isinstance(optimizer_config, str):
        optimizer = optimizers.get(optimizer_config)
    else:
        optimizer = optimizers.deserialize(optimizer_config, custom_objects)
    kwargs = {
        "optimizer": optimizer,
        "loss": _deserialize_leaves(config.get("loss"), losses.deserialize, custom_objects, "loss"),
        "loss_weights": config.get("loss_weights"),
        "metrics": _unwrap_single_output(
            _deserialize_leaves(
                config.get("metrics"), metrics.deserialize, custom_objects, "metric"
            ),
            model,
        ),
        "weighted_metrics": _unwrap_single_output(
            _deserialize_leaves(
                config.get("weighted_metrics"), metrics.deserialize, custom_objects, "metric"
            ),
            model,
        ),
        "run_eagerly": bool(config.get("run_eagerly") or False),
    }
    steps = steps_per_execution or config.get("steps_per_execution")
    if steps is not None:
        kwargs["steps_per_execution"] = steps
    if config.get("sample_weight_mode") is not None:
        kwargs["sample_weight_mode"] = config["sample_weight_mode"]
    model.compile(**kwargs)


# ---- optimizer state in Keras's order -------------------------------------------------------


def _trainable_params(model) -> dict:
    """The trainable part of the model's params tree, as the training facade builds it."""
    on = {p for p, v in _tree.flatten(model.trainable_mask()).items() if v}
    params, _ = _tree.partition(model._current_variables()["params"], lambda p: p in on)
    return params


def _layer_param_order(layer) -> list[Path]:
    """Paths inside the layer's params tree, in the layer's weight (creation) order.

    The tree's own key order is not reliable (training writes back trees rebuilt in sorted
    order), so the order comes from the layer's weight views: by name for a plain layer, by
    array identity for a wrapper whose views belong to its children.
    """
    flat = _tree.flatten((layer._current_variables() or {}).get("params", {}))
    by_id = {id(v): p for p, v in flat.items()}
    order, seen = [], set()
    for view in layer._weight_views():
        if view._collection != "params":
            continue
        path = (
            (view.name,)
            if (view.name,) in flat and view._layer is layer
            else by_id.get(id(view.value))
        )
        if path is not None and path not in seen:
            seen.add(path)
            order.append(path)
    return order + sorted(p for p in flat if p not in seen)


def keras_trainable_order(model) -> list[Path]:
    """Paths of the trainable params in `model.trainable_variables` order (Keras's)."""
    from fkeras.saving._weights_h5 import is_model

    on = {p for p, v in _tree.flatten(model.trainable_mask()).items() if v}
    order: list[Path] = []
    seen: set[Path] = set()

    def walk(container, prefix: Path) -> None:
        for layer in container._weight_layers():
            if is_model(layer):
                walk(layer, prefix + (layer.name,))
                continue
            for sub in _layer_param_order(layer):
                path = prefix + (layer.name,) + sub
                if path in on and path not in seen:
                    seen.add(path)
                    order.append(path)

    walk(model, ())
    return order


def _jax_order(params) -> list[Path]:
    """Paths of `params` in JAX's leaf order (sorted keys), the order of the optimizer's slots."""
    flat, _ = jax.tree_util.tree_flatten_with_path(params)
    return [tuple(str(k.key) for k in key_path) for key_path, _ in flat]


class _Layout:
    """How one optimizer's flat weight list is laid out, in Keras's and in fkeras's order."""

    def __init__(self, model, optimizer, params):
        self.head = 1 if callable(optimizer._learning_rate) else 2  # iterations (+ learning_rate)
        self.groups = [len(g) for g in optimizer._slot_layout()]
        self.scalars = len(optimizer._scalar_slots)
        self.jax_paths = _jax_order(params)
        known = set(self.jax_paths)
        keras = [p for p in keras_trainable_order(model) if p in known]
        listed = set(keras)
        keras += [p for p in self.jax_paths if p not in listed]  # defensive: never drop a slot
        self.keras_paths = keras

    def size(self) -> int:
        return self.head + sum(w * len(self.jax_paths) for w in self.groups) + self.scalars

    def reorder(self, weights: list, src: list[Path], dst: list[Path]) -> list:
        """Rows of every slot group moved from the `src` variable order to the `dst` order."""
        index = {p: i for i, p in enumerate(src)}
        out = list(weights[: self.head])
        pos, n = self.head, len(src)
        for width in self.groups:
            rows = [weights[pos + i * width : pos + (i + 1) * width] for i in range(n)]
            for path in dst:
                out.extend(rows[index[path]])
            pos += width * n
        out.extend(weights[pos:])
        return out


def _state_fits(optimizer, params) -> bool:
    """Whether the optimizer's attached state has one slot per trainable param of the model
    (it may be stale: built before some layers were frozen, or for another model)."""
    core = optimizer._core_state(optimizer.state)
    wanted = sorted(_jax_order(params))
    for group in optimizer._slot_layout():
        for slot in group:
            if sorted(_jax_order(getattr(core, slot))) != wanted:
                return False
    return True


def _fresh_state_optimizer(model):
    """The optimizer itself if it holds a state, else a same-config copy with a fresh state
    (saving an untrained model must not attach a state to the user's optimizer)."""
    optimizer = model.optimizer
    params = _trainable_params(model)
    if optimizer.state is not None and _state_fits(optimizer, params):
        return optimizer, params
    clone = type(optimizer).from_config(optimizer.get_config())
    clone.build(params)
    return clone, params


def optimizer_weights(model) -> list[tuple[str, np.ndarray]]:
    """(name, value) of each optimizer variable, in Keras 3's order and with Keras 3's names."""
    optimizer, params = _fresh_state_optimizer(model)
    layout = _Layout(model, optimizer, params)
    values = layout.reorder(optimizer.get_weights(), layout.jax_paths, layout.keras_paths)
    prefix = optimizer.name
    names = [f"{prefix}/iteration"] + ([f"{prefix}/learning_rate"] if layout.head == 2 else [])
    for group in optimizer._slot_layout():
        for path in layout.keras_paths:
            var = "_".join(path).replace("/", "_")
            names.extend(f"{prefix}/{var}_{slot}" for slot in group)
    names.extend(f"{prefix}/{slot}" for slot in optimizer._scalar_slots)
    return list(zip(names, [np.asarray(v) for v in values]))


def restore_optimizer_state(model, weights: list, rng=None, strict: bool = True) -> bool:
    """Restores the optimizer state of a compiled model from Keras-ordered `weights`.

    Builds the optimizer state for the model's trainable params exactly as the training facade
    does (`Trainer._pull_train_state`), loads `weights` into it, and hands it to the facade so
    the next `fit`/`train_on_batch` continues from it.

    Args:
        model: a compiled model with a Keras optimizer.
        weights: the optimizer's variables in Keras 3's order (`iterations`, `learning_rate`,
            slots), as Keras 3 and fkeras save them.
        rng: optional `(key_data, impl)` of the dropout PRNG key to continue from.
        strict: raise on a mismatch (True) or warn and keep a fresh state, as Keras does (False).

    Returns:
        True if the state was restored.
    """
    optimizer = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or not has_saveable_optimizer(model):
        raise ValueError(
            "restore_optimizer_state needs a model compiled with a Keras optimizer (a raw optax "
            f"transformation has no Keras variable layout). Received: optimizer={optimizer!r}"
        )
    params = _trainable_params(model)
    layout = _Layout(model, optimizer, params)
    if len(weights) != layout.size():
        message = (
            f"Skipping variable loading for optimizer '{optimizer.name}': it has "
            f"{layout.size()} variables for this model, the saved optimizer has {len(weights)}."
        )
        if strict:
            raise ValueError(message)
        warnings.warn(message, stacklevel=3)
        return False
    state_before = optimizer.state
    configured_lr = None if layout.head == 1 else optimizer._learning_rate
    optimizer.build(params)
    try:
        optimizer.set_weights(layout.reorder(list(weights), layout.keras_paths, layout.jax_paths))
    except ValueError as err:
        optimizer.attach_state(state_before)
        if strict:
            raise
        warnings.warn(
            f"Could not restore the optimizer state ({err}); it starts fresh.", stacklevel=3
        )
        return False
    if configured_lr is not None and np.float32(configured_lr) == np.float32(optimizer._learning_rate):
        # The file holds the rate as float32: keep the config's exact value when they agree.
        optimizer.learning_rate = configured_lr
    key = None
    if rng is not None:
        data, impl = rng
        key = jax.random.wrap_key_data(np.asarray(data), impl=impl)
    hook = getattr(model, "_restore_train_state", None)
    if hook is None:
        warnings.warn(MSG_RESTORE_HOOK, stacklevel=3)
    else:
        hook(optimizer.state, key)
    return True


def train_rng(model) -> tuple[np.ndarray, str] | None:
    """`(key_data, impl)` of the dropout key training would continue from, if training ran."""
    ts = getattr(model, "_ts", None)
    rng = getattr(ts, "rng", None)
    if rng is None:
        return None
    try:
        return np.asarray(jax.random.key_data(rng)), str(jax.random.key_impl(rng))
    except (TypeError, RuntimeError):  # a donated (deleted) buffer, or a raw uint32 key
        return None
