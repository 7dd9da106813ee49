"""Data and model parallelism over `jax.sharding` meshes, with Keras 3's `keras.distribution` API.

A `Distribution` says where arrays live; it computes nothing itself. The engine asks it for
`jax.sharding.NamedSharding`s (see `fkeras.engine._sharding`), places the training state and the
data with them, and lets `jax.jit` (GSPMD) partition the unchanged pure training step.

- `DeviceMesh(shape, axis_names)` is a named grid of devices (a `jax.sharding.Mesh`).
- `TensorLayout(axes)` names, per array dimension, the mesh axis it is split over (a
  `PartitionSpec`), or None to keep it whole.
- `LayoutMap(mesh)` maps variable paths such as `'dense/kernel'` or `'sequential/dense_1/bias'`
  to layouts; its keys are regular expressions matched against the whole path.
- `DataParallel` replicates every variable and splits each batch over the mesh's first axis;
  `ModelParallel` also splits the variables that its `LayoutMap` names.

Example:
    >>> mesh = DeviceMesh((2, 4), ("batch", "model"))            # 8 devices
    >>> layout_map = LayoutMap(mesh)
    >>> layout_map[".*dense.*kernel"] = (None, "model")
    >>> layout_map[".*dense.*bias"] = ("model",)
    >>> set_distribution(ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
    >>> model.fit(x, y, batch_size=64)                            # batches split 2 ways

Unlike Keras, the current distribution is one process-wide setting (Keras keeps it per thread),
and variables are placed when training starts, not when they are created: a model built before
`set_distribution` is distributed all the same.
"""

import collections.abc
import contextlib
import math
import os
import re
import warnings
from typing import Any, Iterator, Optional, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DEFAULT_BATCH_DIM_NAME = "batch"

_current: Optional["Distribution"] = None


# ---- devices ------------------------------------------------------------------------------


def list_devices(device_type: Optional[str] = None) -> list[str]:
    """The devices available for distributed computation, as strings like `'cpu:0'`.

    In a multi-process run these are the global devices of every process.

    Args:
        device_type: `'cpu'`, `'gpu'` or `'tpu'`. Defaults to the default backend's devices
            (accelerators when there are any, else the CPU).

    Returns:
        One `'platform:id'` string per device, never a mix of device types.
    """
    backend = device_type.lower() if device_type else None
    return [f"{d.platform}:{d.id}" for d in jax.devices(backend)]


def get_device_count(device_type: Optional[str] = None) -> int:
    """The number of devices `list_devices(device_type)` returns."""
    return jax.device_count(device_type.lower() if device_type else None)


def _to_jax_device(device) -> jax.Device:
    if isinstance(device, jax.Device):
        return device
    text = str(device)
    platform, _, index = text.partition(":")
    index = int(index or 0)
    for d in jax.devices(platform):
        if d.id == index:
            return d
    raise ValueError(f"Device not found: {text!r}. Available: {list_devices(platform)}")


def initialize(
    job_addresses: Optional[str] = None,
    num_processes: Optional[int] = None,
    process_id: Optional[int] = None,
) -> None:
    """Join a multi-process (multi-host) run: a wrapper around `jax.distributed.initialize`.

    Call it first in every process, before any other JAX computation. Missing arguments are read
    from `KERAS_DISTRIBUTION_JOB_ADDRESSES`, `KERAS_DISTRIBUTION_NUM_PROCESSES` and
    `KERAS_DISTRIBUTION_PROCESS_ID`, as in Keras; on Cloud TPU or under SLURM all may stay None.
    Afterwards every process shares process 0's random seed, so that variables are initialized
    (and epochs shuffled) identically everywhere, as Keras's JAX backend also arranges.

    Args:
        job_addresses: comma-separated `host:port` of every process; only the first (process 0,
            the coordinator) is used.
        num_processes: the number of processes.
        process_id: this process's index in `[0, num_processes)`.

    Raises:
        ValueError: if `job_addresses` lists a different number of jobs than `num_processes`.
    """
    env = os.environ
    if job_addresses is None:
        job_addresses = env.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None and "KERAS_DISTRIBUTION_NUM_PROCESSES" in env:
        num_processes = int(env["KERAS_DISTRIBUTION_NUM_PROCESSES"])
    if process_id is None and "KERAS_DISTRIBUTION_PROCESS_ID" in env:
        process_id = int(env["KERAS_DISTRIBUTION_PROCESS_ID"])
    coordinator = job_addresses
    if job_addresses and "," in job_addresses:
        jobs = [a.strip() for a in job_addresses.split(",")]
        if num_processes is not None and num_processes != len(jobs):
            raise ValueError(
                f"`job_addresses` lists {len(jobs)} jobs but `num_processes` is {num_processes}. "
                f"Received: job_addresses={job_addresses!r}, num_processes={num_processes}"
            )
        coordinator = jobs[0]
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=num_processes, process_id=process_id
    )
    _share_seed()


def _share_seed() -> None:
    """Give every process process 0's seed (fkeras's key stream and NumPy's shuffling)."""
    if jax.process_count() == 1:
        return
    from jax.experimental import multihost_utils

    from fkeras import _random

    seed = multihost_utils.broadcast_one_to_all(np.uint32(_random._seed % (1 << 32)))
    _random.set_random_seed(int(seed))


# ---- meshes and layouts -------------------------------------------------------------------


class DeviceMesh:
    """A named grid of devices: Keras's face of a `jax.sharding.Mesh`.

    Args:
        shape: the grid's shape, e.g. `(8,)` for data parallelism or `(2, 4)` for data and
            model parallelism.
        axis_names: one name per grid axis, e.g. `('batch', 'model')`; layouts refer to them.
        devices: the devices (strings from `list_devices()` or `jax.Device`s), in row-major
            order. Defaults to `list_devices()`.

    Raises:
        ValueError: if `shape` or `axis_names` is empty, they differ in length, or the number
            of devices is not the product of `shape`.
    """

    def __init__(self, shape: Sequence[int], axis_names: Sequence[str], devices=None):
        if not shape or not axis_names:
            raise ValueError(
                "`shape` and `axis_names` cannot be empty. "
                f"Received: shape={shape}, axis_names={axis_names}"
            )
        if len(shape) != len(axis_names):
            raise ValueError(
                "`shape` and `axis_names` must have the same length. "
                f"Received: shape={shape}, axis_names={axis_names}"
            )
        if len(set(axis_names)) != len(axis_names):
            raise ValueError(f"`axis_names` must be distinct. Received: axis_names={axis_names}")
        devices = np.array(list_devices() if devices is None else devices, dtype=object)
        if math.prod(shape) != devices.size:
            raise ValueError(
                f"`shape` {tuple(shape)} needs {math.prod(shape)} devices, but {devices.size} "
                f"were given. Received: shape={tuple(shape)}; devices.shape={devices.shape}"
            )
        self._shape = tuple(int(s) for s in shape)
        self._axis_names = tuple(axis_names)
        self._devices = devices.reshape(self._shape)
        self._mesh = None

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def axis_names(self) -> tuple:
        return self._axis_names

    @property
    def devices(self) -> np.ndarray:
        return self._devices

    @property
    def backend_mesh(self) -> Mesh:
        """The `jax.sharding.Mesh` of this grid."""
        if self._mesh is None:
            devices = np.array([_to_jax_device(d) for d in self._devices.flat], dtype=object)
            self._mesh = Mesh(devices.reshape(self._shape), self._axis_names)
        return self._mesh

    def __repr__(self) -> str:
        return f"<DeviceMesh shape={self.shape}, axis_names={self.axis_names}>"


class TensorLayout:
    """How one array is split over a mesh: Keras's face of a `jax.sharding.NamedSharding`.

    Args:
        axes: one entry per array dimension: a mesh axis name (that dimension is split over
            it), a tuple of names (split over several), or None (kept whole, replicated).
        device_mesh: the `DeviceMesh`; a `LayoutMap` fills it in when left None.

    Raises:
        ValueError: if `axes` names an axis the mesh does not have.
    """

    def __init__(self, axes: Sequence, device_mesh: Optional[DeviceMesh] = None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self) -> tuple:
        return self._axes

    @property
    def device_mesh(self) -> Optional[DeviceMesh]:
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh: DeviceMesh) -> None:
        if self._device_mesh is not None:
            raise ValueError(
                f"This TensorLayout already has a device mesh ({self._device_mesh}); it cannot "
                f"be replaced. Received: device_mesh={device_mesh}"
            )
        self._device_mesh = device_mesh
        self._validate_axes()

    def _validate_axes(self) -> None:
        if self._device_mesh is None:
            return
        named = set()
        for axis in self._axes:
            named.update(axis if isinstance(axis, tuple) else [axis])
        unknown = named - {None} - set(self._device_mesh.axis_names)
        if unknown:
            raise ValueError(
                f"Invalid axis names for TensorLayout: {sorted(unknown)}. Valid axis names: "
                f"{list(self._device_mesh.axis_names)}. Received: axes={self._axes}"
            )

    @property
    def backend_layout(self) -> NamedSharding:
        """The `jax.sharding.NamedSharding` of this layout."""
        if self._device_mesh is None:
            raise ValueError(
                f"TensorLayout {self._axes} has no device mesh: pass `device_mesh=` or add it to a "
                "LayoutMap."
            )
        return NamedSharding(self._device_mesh.backend_mesh, PartitionSpec(*self._axes))

    def __repr__(self) -> str:
        return f"<TensorLayout axes={self.axes}, device_mesh={self.device_mesh}>"


class LayoutMap(collections.abc.MutableMapping):
    """A dict from variable-path regular expressions to `TensorLayout`s.

    A lookup first tries the path as a key, then every key as a regular expression that must
    match the whole path (`re.fullmatch`). Paths are `layer_name/weight_name`, with the names
    of enclosing models in front (`'sequential/dense/kernel'`), as Keras 3 writes
    `variable.path`. A tuple of axis names stands for `TensorLayout(axes)`.

    Example:
        >>> layout_map = LayoutMap(DeviceMesh((2, 4), ("batch", "model")))
        >>> layout_map[".*dense.*kernel"] = (None, "model")
        >>> layout_map["dense_1/kernel"].axes
        (None, 'model')
        >>> layout_map["conv2d/kernel"] is None
        True

    Args:
        device_mesh: the mesh given to each layout stored without one.
    """

    def __init__(self, device_mesh: Optional[DeviceMesh]):
        self._layouts: dict[str, TensorLayout] = {}
        self._device_mesh = device_mesh

    @property
    def device_mesh(self) -> Optional[DeviceMesh]:
        return self._device_mesh

    def __getitem__(self, key: str) -> Optional[TensorLayout]:
        """The layout for path `key`, or None when no key matches.

        Raises:
            ValueError: if the path matches more than one regular expression.
        """
        if key in self._layouts:
            return self._layouts[key]
        matches = [pattern for pattern in self._layouts if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(
                f"Path '{key}' matches several LayoutMap keys: {matches}. Each variable path may "
                "match at most one key."
            )
        return self._layouts[matches[0]] if matches else None

    def __setitem__(self, key: str, layout) -> None:
        if key in self._layouts:
            raise ValueError(
                f"LayoutMap already has key '{key}' (layout {self._layouts[key]}); keys must be "
                "unique."
            )
        try:
            re.compile(key)
        except re.error as err:
            raise ValueError(
                f"LayoutMap keys are regular expressions: {err}. Received: key={key!r}"
            ) from None
        if isinstance(layout, (tuple, list)):
            layout = TensorLayout(tuple(layout))
        if not isinstance(layout, TensorLayout):
            raise ValueError(
                "A LayoutMap value must be a TensorLayout or a tuple of axis names. "
                f"Received: layout={layout!r} of type {type(layout).__name__}"
            )
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layouts[key] = layout

    def __delitem__(self, key: str) -> None:
        del self._layouts[key]

    def __contains__(self, key) -> bool:
        # Literal keys only: the Mapping default would call `self[key]`, which answers None
        # rather than KeyError for an unmatched path, so everything would be "in" (as in Keras).
        return key in self._layouts

    def __len__(self) -> int:
        return len(self._layouts)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layouts)


# ---- distributions ------------------------------------------------------------------------


class Distribution:
    """Where variables and data live; the base of `DataParallel` and `ModelParallel`.

    Args:
        device_mesh: the `DeviceMesh`.
        batch_dim_name: the mesh axis that batches are split over.
        auto_shard_dataset: accepted for Keras compatibility. fkeras treats the arrays given to
            `fit` as the global data set (every process passes the same arrays).
    """

    def __init__(
        self,
        device_mesh: DeviceMesh,
        batch_dim_name: Optional[str] = None,
        auto_shard_dataset: bool = True,
    ):
        if not isinstance(device_mesh, DeviceMesh):
            raise ValueError(
                "`device_mesh` must be a `DeviceMesh`. "
                f"Received: device_mesh={device_mesh!r} of type {type(device_mesh).__name__}"
            )
        if batch_dim_name is not None and batch_dim_name not in device_mesh.axis_names:
            raise ValueError(
                "`batch_dim_name` must be one of the mesh's axis names "
                f"{list(device_mesh.axis_names)}. "
                f"Received: batch_dim_name={batch_dim_name!r}"
            )
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self.auto_shard_dataset = auto_shard_dataset

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    @property
    def batch_dim_name(self) -> Optional[str]:
        return self._batch_dim_name

    @property
    def num_processes(self) -> int:
        return jax.process_count()

    @property
    def num_model_replicas(self) -> int:
        """How many ways each batch is split (the size of the batch axis)."""
        mesh = self._device_mesh
        return mesh.shape[mesh.axis_names.index(self._batch_dim_name)]

    def get_data_layout(self, data_shape: Sequence[int]) -> TensorLayout:
        """The layout of a batch of shape `data_shape`: split on its first dimension."""
        axes = [None] * len(data_shape)
        if axes:
            axes[0] = self._batch_dim_name
        return TensorLayout(axes, self._device_mesh)

    def get_variable_layout(self, variable) -> TensorLayout:
        """The layout of `variable` (anything with `.path` and `.shape`): replicated here."""
        return TensorLayout([None] * len(variable.shape), self._device_mesh)

    def get_tensor_layout(self, path: str) -> Optional[TensorLayout]:
        """The layout for an intermediate tensor named `path`, if any (None: GSPMD decides)."""
        del path
        return None

    @contextlib.contextmanager
    def scope(self):
        """Make this the current distribution inside a `with` block."""
        previous = distribution()
        set_distribution(self)
        try:
            yield self
        finally:
            set_distribution(previous)

    def distribute_dataset(self, dataset):
        """The dataset unchanged: fkeras shards arrays when it places them on the mesh."""
        return dataset

    def __repr__(self) -> str:
        return f"<{type(self).__name__} device_mesh={self.device_mesh}>"


class DataParallel(Distribution):
    """Replicate every variable; split each batch over the devices.

    Give a `device_mesh`, or `devices`, or neither (then all of `list_devices()`). A mesh of
    several axes uses its first axis for the batch, with a warning, as in Keras.

    Args:
        device_mesh: a `DeviceMesh`.
        devices: a list of devices, made into a 1-D mesh with axis `'batch'`.
        auto_shard_dataset: accepted for Keras compatibility (see `Distribution`).
    """

    def __init__(
        self,
        device_mesh: Optional[DeviceMesh] = None,
        devices=None,
        auto_shard_dataset: bool = True,
    ):
        if device_mesh is not None:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(
                    "`device_mesh` must be a `DeviceMesh`. "
                    f"Received: device_mesh={device_mesh!r} of type {type(device_mesh).__name__}"
                )
            if len(device_mesh.shape) != 1:
                warnings.warn(
                    f"DataParallel expects a 1-D mesh; received shape {device_mesh.shape}. "
                    f"The first axis ({device_mesh.axis_names[0]!r}) splits the batch.",
                    stacklevel=2,
                )
        else:
            devices = list_devices() if devices is None or len(devices) == 0 else list(devices)
            device_mesh = DeviceMesh((len(devices),), (DEFAULT_BATCH_DIM_NAME,), devices)
        super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)

    @property
    def num_model_replicas(self) -> int:
        """Every device holds a whole replica (Keras counts all devices of the mesh)."""
        return int(self.device_mesh.devices.size)


class ModelParallel(Distribution):
    """Split the variables its `LayoutMap` names; split batches over `batch_dim_name`.

    Variables whose path matches no key are replicated; optimizer slots follow their variable.

    Args:
        layout_map: a `LayoutMap`; its mesh is the distribution's mesh.
        batch_dim_name: the mesh axis that batches are split over (default: its first axis).
        auto_shard_dataset: accepted for Keras compatibility (see `Distribution`).

    Keras 3's first form, `ModelParallel(device_mesh, layout_map, batch_dim_name)`, is accepted
    too; the mesh must then be the layout map's.
    """

    def __init__(
        self,
        *args,
        layout_map: Optional[LayoutMap] = None,
        batch_dim_name: Optional[str] = None,
        auto_shard_dataset: bool = True,
        device_mesh: Optional[DeviceMesh] = None,
    ):
        args = list(args)
        if args and isinstance(args[0], DeviceMesh):
            device_mesh = args.pop(0)
        if args and layout_map is None:
            layout_map = args.pop(0)
        if args and batch_dim_name is None:
            batch_dim_name = args.pop(0)
        if args:
            raise TypeError(f"ModelParallel got unexpected positional arguments. Received: {args}")
        if layout_map is None:
            raise ValueError(
                "ModelParallel needs a `layout_map` (a LayoutMap). Received: layout_map=None"
            )
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(
                "`layout_map` must be a `LayoutMap`. "
                f"Received: layout_map={layout_map!r} of type {type(layout_map).__name__}"
            )
        mesh = layout_map.device_mesh or device_mesh
        if device_mesh is not None and mesh is not device_mesh:
            raise ValueError(
                "`device_mesh` must be the layout map's mesh. "
                f"Received: device_mesh={device_mesh}, "
                f"layout_map.device_mesh={layout_map.device_mesh}"
            )
        if mesh is None:
            raise ValueError("ModelParallel needs a mesh: build the LayoutMap with a DeviceMesh.")
        super().__init__(mesh, batch_dim_name or mesh.axis_names[0], auto_shard_dataset)
        self._layout_map = layout_map

    @property
    def layout_map(self) -> LayoutMap:
        return self._layout_map

    def get_variable_layout(self, variable) -> TensorLayout:
        """The layout map's layout for `variable.path`, else replicated."""
        layout = self._layout_map[variable.path]
        return layout if layout is not None else super().get_variable_layout(variable)

    def get_tensor_layout(self, path: str) -> Optional[TensorLayout]:
        return self._layout_map[path]


def distribution() -> Optional[Distribution]:
    """The current distribution, or None (everything on the default device)."""
    return _current


def set_distribution(value: Optional[Distribution]) -> None:
    """Make `value` the current distribution (None: no distribution).

    Raises:
        TypeError: if `value` is neither a `Distribution` nor None.
    """
    global _current
    if value is not None and not isinstance(value, Distribution):
        raise TypeError(
            "`set_distribution` takes a Distribution (DataParallel, ModelParallel) or None. "
            f"Received: value={value!r} of type {type(value).__name__}"
        )
    _current = value


def distribute_tensor(tensor: Any, layout) -> Any:
    """Give `tensor` the `layout` (a `TensorLayout` or a `jax.sharding.Sharding`).

    Inside a jitted function this is `jax.lax.with_sharding_constraint`; outside, `device_put`.
    """
    sharding = layout.backend_layout if isinstance(layout, TensorLayout) else layout
    if isinstance(tensor, jax.core.Tracer):
        return jax.lax.with_sharding_constraint(tensor, sharding)
    return jax.device_put(tensor, sharding)
