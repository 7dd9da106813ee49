"""The Keras optimizer facade: config and host-side learning rate over a pure optax transformation.

An `Optimizer` is configuration plus one piece of host state, the learning rate a Keras user reads
and writes between epochs (`opt.learning_rate = 0.01`, `K.set_value(opt.lr, 0.01)`). Everything that
changes during training lives in an optax state pytree that the engine threads through its jitted
step. The engine's side of the contract:

    tx = opt.transform()                     # optax.GradientTransformation, built once
    state = tx.init(params)
    updates, state = tx.update(grads, state, params)   # inside jit
    state = opt.sync(state)                  # host: push a changed learning rate, no retrace
    opt.attach_state(state)                  # host: hand the latest state back to the facade

`opt.iterations`, `opt.get_weights()` and `opt.set_weights()` read and write the attached state in
Keras 3's variable order.
"""

import numbers
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import optax

from fkeras import _naming
from fkeras.optimizers import schedules as schedules_lib
from fkeras.optimizers._transforms import (
    CountIterationsState,
    InjectLearningRateState,
    count_iterations,
    inject_learning_rate,
    keras_gradient_clipping,
    with_decoupled_weight_decay,
)

LearningRate = float | schedules_lib.LearningRateSchedule | Callable[[jax.Array], Any]

_MSG_SCHEDULE_NOT_SETTABLE = (
    "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
    "constructor argument, hence its learning rate is not settable. If you need the learning "
    "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
    "argument."
)
_MSG_SCHEDULE_AFTER_TRANSFORM = (
    "The learning rate of this optimizer can no longer be replaced by a schedule: its "
    "transformation was already built (by `compile`/`fit` or `transform()`). Create a new "
    "optimizer with `learning_rate=schedule` instead. Received: learning_rate={value!r}"
)
_MSG_NOT_BUILT = (
    "You are calling `set_weights()` on an optimizer that has no state yet. Train the model "
    "first, or call `optimizer.build(params)` to create the optimizer state."
)
_MSG_OPTAX_LR = (
    "This optimizer wraps a raw optax transformation (`{name}`); its learning rate lives inside "
    "that transformation and cannot be read or set from Keras. Use a Keras optimizer such as "
    "`fkeras.optimizers.Adam(learning_rate=...)`, or `optax.inject_hyperparams`, to change the "
    "rate during training."
)

# Keras 3 config entries for features fkeras does not implement, with the value meaning "off".
# `from_config` drops them when off, so configs saved by Keras 3 (and tf.keras) load.
_UNSUPPORTED_CONFIG = {
    "use_ema": False,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}
_IGNORED_CONFIG = ("ema_momentum", "is_legacy_optimizer", "jit_compile")


def _is_number(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, (np.ndarray, jax.Array)) and value.ndim == 0


def _check_learning_rate(value: Any) -> float | Callable:
    if isinstance(value, LearningRateVariable):
        return float(value)
    if _is_number(value):
        return float(value)
    if callable(value) and not isinstance(value, type):  # a class, not an instance, is a slip
        return value
    raise ValueError(
        "Argument `learning_rate` should be a float, an instance of LearningRateSchedule, or a "
        "callable that takes the step and returns the learning rate. "
        f"Received: learning_rate={value!r}"
    )


def _check_optional_number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if not _is_number(value):
        raise TypeError(f"Argument `{name}` must be a float or None. Received: {name}={value!r}")
    return float(value)


class LearningRateVariable:
    """A live view of an optimizer's learning rate that behaves like a Keras variable.

    `float(v)`, `v.numpy()`, `np.asarray(v)`, arithmetic and comparisons with numbers read the
    current rate (for a schedule: its value at the current step); `v.assign(x)` sets it, like
    `optimizer.learning_rate = x`.
    """

    name = "learning_rate"
    dtype = "float32"
    shape = ()
    ndim = 0

    def __init__(self, optimizer: "Optimizer"):
        self._optimizer = optimizer

    def numpy(self) -> np.float32:
        return np.float32(self._optimizer._current_learning_rate())

    @property
    def value(self) -> np.float32:
        return self.numpy()

    def assign(self, value: Any) -> "LearningRateVariable":
        self._optimizer.learning_rate = value
        return self

    def __float__(self) -> float:
        return float(self.numpy())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        del copy
        return np.asarray(self.numpy(), dtype=dtype)

    def __format__(self, spec: str) -> str:
        return format(float(self), spec)

    def __repr__(self) -> str:
        return f"<LearningRateVariable value={float(self)!r}>"

    def __bool__(self) -> bool:
        return bool(self.numpy())

    __hash__ = object.__hash__


def _binary(op: Callable, reflected: bool = False) -> Callable:
    def method(self: LearningRateVariable, other: Any) -> Any:
        other = other.numpy() if isinstance(other, LearningRateVariable) else other
        return op(other, self.numpy()) if reflected else op(self.numpy(), other)

    return method


for _name, _op in [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("truediv", lambda a, b: a / b), ("floordiv", lambda a, b: a // b), ("pow", lambda a, b: a**b),
]:
    setattr(LearningRateVariable, f"__{_name}__", _binary(_op))
    setattr(LearningRateVariable, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in [
    ("eq", lambda a, b: a == b), ("ne", lambda a, b: a != b), ("lt", lambda a, b: a < b),
    ("le", lambda a, b: a <= b), ("gt", lambda a, b: a > b), ("ge", lambda a, b: a >= b),
]:
    setattr(LearningRateVariable, f"__{_name}__", _binary(_op))
LearningRateVariable.__neg__ = lambda self: -self.numpy()
LearningRateVariable.__abs__ = lambda self: abs(self.numpy())


class Optimizer:
    """Base class of the Keras optimizers: a Keras facade over an optax transformation.

    Subclasses define `_update_rule(learning_rate)` (the algorithm as an optax link),
    `_slot_layout()` (Keras's order of the per-variable slots) and `_hyper_config()`.

    Args:
        learning_rate: a float, a `LearningRateSchedule`, or a callable of the step. `None` takes
            the class default (Keras 3's).
        weight_decay: if set, decoupled weight decay `p <- p - p * weight_decay * lr` before
            each update.
        clipnorm: if set, each gradient array is clipped to this L2 norm.
        clipvalue: if set, each gradient element is clipped to `[-clipvalue, clipvalue]`.
        global_clipnorm: if set, all gradients are scaled together to this global L2 norm.
        name: the optimizer's name; default: the snake-cased class name, made unique.
        **kwargs: only Keras 2's `lr` (another name for `learning_rate`) and `decay` (time-based
            decay: the rate at step `t` is `lr / (1 + decay * t)`).

    Raises:
        TypeError: for an unknown keyword argument, or both `lr` and `learning_rate`.
        ValueError: for an invalid learning rate, `decay`, or more than one clipping argument.
    """

    _default_learning_rate: ClassVar[float] = 0.001
    _scalar_slots: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        learning_rate: LearningRate | None = None,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        cls_name = type(self).__name__
        lr = kwargs.pop("lr", None)
        decay = kwargs.pop("decay", 0.0)
        if kwargs:
            received = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            raise TypeError(
                f"{cls_name}() got unexpected keyword argument(s) {sorted(kwargs)}: expected the "
                "Keras 3 arguments, or the Keras 2 spellings `lr` and `decay`. "
                f"Received: {received}"
            )
        if lr is not None:
            if learning_rate is not None:
                raise TypeError(
                    f"{cls_name}() got both `learning_rate` and its Keras 2 alias `lr`; pass only "
                    f"one. Received: learning_rate={learning_rate!r}, lr={lr!r}"
                )
            learning_rate = lr
        if learning_rate is None:
            learning_rate = self._default_learning_rate
        self._setup(name)
        self._learning_rate = _check_learning_rate(learning_rate)
        if decay is None:
            decay = 0.0
        if not _is_number(decay) or decay < 0:
            raise ValueError(f"Argument `decay` must be a float >= 0. Received: decay={decay!r}")
        if decay and callable(self._learning_rate):
            raise ValueError(
                "Argument `decay` (Keras 2 time-based decay) only applies to a float "
                "`learning_rate`; with a schedule, put the decay in the schedule, e.g. "
                "`InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)`. "
                f"Received: learning_rate={learning_rate!r}, decay={decay!r}"
            )
        self._decay = float(decay)
        self.weight_decay = _check_optional_number("weight_decay", weight_decay)
        self.clipnorm = _check_optional_number("clipnorm", clipnorm)
        self.clipvalue = _check_optional_number("clipvalue", clipvalue)
        self.global_clipnorm = _check_optional_number("global_clipnorm", global_clipnorm)
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )

    def _setup(self, name: str | None) -> None:
        self.name = name if name is not None else _naming.uniquify(
            _naming.to_snake_case(type(self).__name__)
        )
        self._tx: optax.GradientTransformation | None = None
        self._state: Any = None
        self._state_lr: float | None = None  # the rate known to be in the latest state handed out

    # -- the algorithm, defined by subclasses ---------------------------------------------------

    def _update_rule(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        raise NotImplementedError(f"{type(self).__name__} must define `_update_rule`.")

    def _slot_layout(self) -> tuple[tuple[str, ...], ...]:
        """Groups of slot names; Keras interleaves the slots of a group variable by variable."""
        return ()

    def _hyper_config(self) -> dict[str, Any]:
        return {}

    def _make_update(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        # Keras's order: clip the gradients, decay the weights, then the algorithm's step.
        return optax.chain(
            keras_gradient_clipping(self.clipnorm, self.clipvalue, self.global_clipnorm),
            with_decoupled_weight_decay(
                self._update_rule(learning_rate), learning_rate, self.weight_decay
            ),
        )

    # -- the engine's interface ----------------------------------------------------------------

    def transform(self) -> optax.GradientTransformation:
        """The optimizer as a pure optax transformation (built once, then the same object).

        Its state is an `InjectLearningRateState(iterations, learning_rate, inner_state)`. `init`
        stores the optimizer's learning rate at the time of the call.
        """
        if self._tx is None:
            is_schedule = callable(self._learning_rate)
            rate = self._learning_rate if is_schedule else 0.0
            inner = inject_learning_rate(self._make_update, rate, decay=self._decay)

            def init_fn(params: optax.Params) -> InjectLearningRateState:
                state = inner.init(params)
                if not callable(self._learning_rate):
                    value = self._learning_rate
                    state = state._replace(learning_rate=jnp.asarray(value, jnp.float32))
                    self._state_lr = value
                return state

            self._tx = optax.GradientTransformation(init_fn, inner.update)
        return self._tx

    def sync(self, state: Any) -> Any:
        """Writes the current host learning rate into `state`; returns `state` itself if unchanged.

        Host-side and cheap: it never reads the device. It compares the rate with the one this
        optimizer last put into a state (by `init`, `sync` or `set_weights`), so `state` should
        descend from that one; after `attach_state` the next call always writes.
        """
        if callable(self._learning_rate):
            return state
        if not isinstance(state, InjectLearningRateState):
            raise TypeError(
                f"`sync` expects the state of `{self.name}.transform()`. "
                f"Received: state of type {type(state).__name__}"
            )
        value = self._learning_rate
        if self._state_lr is not None and self._state_lr == value:
            return state
        old = state.learning_rate
        # `full_like` keeps the old leaf's sharding and commitment, so the jitted step finds the
        # same input signature: no retrace, and no new compilation either.
        new = jnp.full_like(old, value, dtype=jnp.float32)
        self._state_lr = value
        return state._replace(learning_rate=new)

    def attach_state(self, state: Any, synced: bool = False) -> None:
        """Hands the optimizer the latest state, for `iterations`, `get_weights` and saving.

        Args:
            state: the optax state of `transform()`.
            synced: True when `state` descends from the last state `sync` returned (a train
                step's output): its learning rate is then known, and the next `sync` writes a
                new one only if the rate was changed since. Otherwise (a loaded or foreign state)
                the next `sync` always writes.
        """
        self._state = state
        if not synced:
            self._state_lr = None

    @property
    def state(self) -> Any:
        """The attached optax state (`None` before `attach_state` or `build`)."""
        return self._state

    def build(self, params: optax.Params) -> None:
        """Creates and attaches a fresh state for `params` (Keras's `build`)."""
        self.attach_state(self.transform().init(params))

    @property
    def iterations(self) -> int:
        """Number of updates applied, read from the attached state (0 before)."""
        if self._state is None:
            return 0
        return int(np.asarray(self._state.iterations))

    # -- learning rate as Keras users touch it --------------------------------------------------

    def _current_learning_rate(self) -> float:
        if callable(self._learning_rate):
            return float(np.asarray(self._learning_rate(np.int32(self.iterations))))
        return self._learning_rate

    @property
    def learning_rate(self) -> LearningRateVariable:
        """A variable-like view of the rate: `float()`, `.numpy()`, `.assign()`; settable."""
        return LearningRateVariable(self)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        value = _check_learning_rate(value)
        if callable(value):
            if self._tx is not None:
                raise TypeError(_MSG_SCHEDULE_AFTER_TRANSFORM.format(value=value))
            self._learning_rate = value
            return
        if callable(self._learning_rate):
            raise TypeError(_MSG_SCHEDULE_NOT_SETTABLE)
        self._learning_rate = value

    lr = learning_rate  # Keras 2's name, same property

    @property
    def decay(self) -> float:
        """Keras 2 time-based decay of the learning rate (0: none)."""
        return self._decay

    # -- optimizer state as Keras's flat list of arrays ----------------------------------------

    def _core_state(self, state: InjectLearningRateState) -> Any:
        return state.inner_state[-1]  # the chain is (clipping, algorithm)

    def get_weights(self) -> list[np.ndarray]:
        """The optimizer state in Keras 3's order: `iterations`, `learning_rate` (unless it is a
        schedule), then the slots (for Adam: each variable's momentum and velocity, in turn)."""
        state = self._state
        weights = [np.asarray(0 if state is None else state.iterations, np.int32)]
        if not callable(self._learning_rate):
            weights.append(np.asarray(self._learning_rate, np.float32))
        if state is None:
            return weights
        core = self._core_state(state)
        for group in self._slot_layout():
            columns = [jax.tree.leaves(getattr(core, slot)) for slot in group]
            for row in zip(*columns, strict=True):
                weights.extend(np.asarray(x) for x in row)
        weights.extend(np.asarray(getattr(core, slot)) for slot in self._scalar_slots)
        return weights

    @property
    def variables(self) -> list[np.ndarray]:
        """Same as `get_weights()`."""
        return self.get_weights()

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Loads a list in `get_weights()`'s order into the attached state (see `state`)."""
        if self._state is None:
            raise ValueError(_MSG_NOT_BUILT)
        weights = [np.asarray(w) for w in weights]
        _check_weights_match(self.name, self.get_weights(), weights)
        state, arrays = self._state, iter(weights[1:])
        iterations = jnp.asarray(weights[0], jnp.int32)
        lr_leaf = state.learning_rate
        if not callable(self._learning_rate):
            self._learning_rate = float(next(arrays))
            lr_leaf = jnp.asarray(self._learning_rate, jnp.float32)
        core = self._core_state(state)
        fields = {}
        for group in self._slot_layout():
            columns = {slot: jax.tree.flatten(getattr(core, slot)) for slot in group}
            n = len(columns[group[0]][0])
            loaded = {slot: [None] * n for slot in group}
            for i in range(n):
                for slot in group:
                    loaded[slot][i] = next(arrays)
            for slot, (leaves, treedef) in columns.items():
                fields[slot] = treedef.unflatten(
                    [jnp.asarray(x, old.dtype) for x, old in zip(loaded[slot], leaves)]
                )
        for slot in self._scalar_slots:
            fields[slot] = jnp.asarray(next(arrays), getattr(core, slot).dtype)
        if "count" in getattr(core, "_fields", ()):
            fields["count"] = iterations  # the algorithm's own step counter follows `iterations`
        inner_state = (*state.inner_state[:-1], core._replace(**fields))
        self._state = state._replace(
            iterations=iterations, learning_rate=lr_leaf, inner_state=inner_state
        )
        self._state_lr = None if callable(self._learning_rate) else self._learning_rate

    # -- config --------------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Keras 3's config (without the EMA/loss-scale/accumulation entries fkeras lacks), plus
        `decay` when it is non-zero."""
        lr = self._learning_rate
        if isinstance(lr, schedules_lib.LearningRateSchedule):
            lr = schedules_lib.serialize(lr)
        config = {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }
        if self._decay:
            config["decay"] = self._decay
        config.update(self._hyper_config())
        return config

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> "Optimizer":
        """Creates an optimizer from `get_config()`'s output (also Keras 3's and Keras 2's)."""
        config = dict(config)
        for key in ("learning_rate", "lr"):
            if isinstance(config.get(key), dict):
                config[key] = schedules_lib.deserialize(config[key], custom_objects)
        for key, off in _UNSUPPORTED_CONFIG.items():
            value = config.pop(key, off)
            if value not in (off, None, False):
                raise ValueError(
                    f"fkeras optimizers do not implement `{key}`. Received: {key}={value!r}"
                )
        for key in _IGNORED_CONFIG:
            config.pop(key, None)
        return cls(**config)

    def __repr__(self) -> str:
        lr = self._learning_rate
        lr_text = f"{lr!r}" if callable(lr) else f"{lr:g}"
        return f"<{type(self).__name__} name={self.name!r} learning_rate={lr_text}>"


def _check_weights_match(name: str, expected: list, received: list) -> None:
    if len(received) != len(expected):
        raise ValueError(
            f"Optimizer '{name}' expects {len(expected)} weight arrays (iterations, learning "
            f"rate, slots). Received: {len(received)} arrays"
        )
    for i, (want, got) in enumerate(zip(expected, received)):
        if want.shape != got.shape:
            raise ValueError(
                f"Optimizer '{name}': weight {i} has shape {want.shape}, not compatible with the "
                f"provided weight shape. Received: shape={got.shape}"
            )


class OptaxOptimizer(Optimizer):
    """A raw optax `GradientTransformation` behind the Keras optimizer interface.

    The transformation is used as is (with an update counter around it, for `iterations`), so
    its numerics are optax's. Its learning rate is inside the transformation and cannot be read
    or set through `learning_rate`/`lr`; it has no Keras config.

    Args:
        transformation: any `optax.GradientTransformation`, e.g. `optax.adam(1e-3)`.
        name: the optimizer's name; default `optax_optimizer`, made unique.
    """

    def __init__(self, transformation: optax.GradientTransformation, name: str | None = None):
        if not isinstance(transformation, optax.GradientTransformation):
            raise TypeError(
                "`OptaxOptimizer` expects an `optax.GradientTransformation`. "
                f"Received: transformation={transformation!r}"
            )
        self._setup(name)
        self.transformation = transformation
        self._learning_rate = None
        self._decay = 0.0
        self.weight_decay = self.clipnorm = self.clipvalue = self.global_clipnorm = None

    def transform(self) -> optax.GradientTransformation:
        """The wrapped transformation with an update counter: `CountIterationsState`."""
        if self._tx is None:
            self._tx = count_iterations(self.transformation)
        return self._tx

    def sync(self, state: Any) -> Any:
        """Nothing to write: returns `state`."""
        return state

    @property
    def learning_rate(self) -> LearningRateVariable:
        raise AttributeError(_MSG_OPTAX_LR.format(name=self.name))

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        message = _MSG_OPTAX_LR.format(name=self.name)
        raise TypeError(f"{message} Received: learning_rate={value!r}")

    lr = learning_rate

    def get_weights(self) -> list[np.ndarray]:
        """`iterations`, then the leaves of the wrapped transformation's state."""
        if self._state is None:
            return [np.asarray(0, np.int32)]
        leaves = jax.tree.leaves(self._state.inner_state)
        return [np.asarray(self._state.iterations, np.int32)] + [np.asarray(x) for x in leaves]

    def set_weights(self, weights: Sequence[Any]) -> None:
        if self._state is None:
            raise ValueError(_MSG_NOT_BUILT)
        weights = [np.asarray(w) for w in weights]
        _check_weights_match(self.name, self.get_weights(), weights)
        leaves, treedef = jax.tree.flatten(self._state.inner_state)
        inner = treedef.unflatten(
            [jnp.asarray(w, jnp.asarray(old).dtype) for w, old in zip(weights[1:], leaves)]
        )
        self._state = CountIterationsState(jnp.asarray(weights[0], jnp.int32), inner)

    def get_config(self) -> dict[str, Any]:
        raise TypeError(
            f"Optimizer '{self.name}' wraps a raw optax transformation, which has no Keras "
            "config to save. Use a Keras optimizer (e.g. `fkeras.optimizers.Adam`) to serialize."
        )

    def __repr__(self) -> str:
        return f"<OptaxOptimizer name={self.name!r}>"
