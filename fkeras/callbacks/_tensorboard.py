"""`TensorBoard`: training logs as TensorBoard event files, written with `tensorboardX`.

Keras 3's callback writes through `tf.summary`, so it needs TensorFlow even on the JAX backend.
fkeras writes the same directory layout, tags and steps through the small `tensorboardX`
package (an optional extra: `pip install "fkeras[tensorboard]"`), imported when the callback is
constructed:

| file                   | tag                                        | step                      |
|------------------------|--------------------------------------------|---------------------------|
| `<log_dir>/train`      | `epoch_<name>` (training logs)             | epoch (0-based)           |
|                        | `epoch_learning_rate`                      | epoch                     |
|                        | `epoch_steps_per_second`                   | epoch                     |
|                        | `batch_<name>`, `batch_steps_per_second`   | training batch (1-based)  |
|                        | `<weight path>/histogram`, `.../image`     | epoch                     |
|                        | `keras` (model config, graph plugin)       | 0                         |
| `<log_dir>/validation` | `epoch_<name>` (`val_` logs, unprefixed)   | epoch                     |
|                        | `evaluation_<name>_vs_iterations`          | `optimizer.iterations`    |

Batch steps count the training batches of the whole `fit`, not of the epoch.

With `update_freq="epoch"` the callback needs no batch hooks (`_uses_batch_hooks` says so), so
`fit` keeps running whole epochs in one dispatch without reading a value per step.
"""

from __future__ import annotations

import itertools
import os
import time
import warnings
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from fkeras.callbacks._callback import Callback, Logs, to_python
from fkeras.callbacks._monitor import check_number, check_path

__all__ = ["TensorBoard"]

MSG_NO_TENSORBOARDX = (
    "The TensorBoard callback writes its event files with the `tensorboardX` package, which is "
    "not installed. Install it with\n"
    '    pip install "fkeras[tensorboard]"\n'
    "(or `pip install tensorboardX`)."
)

MSG_PROFILE_BATCH = (
    "TensorBoard: `profile_batch` must be a non-negative integer or a pair of positive "
    "integers `(start, stop)` with start <= stop, the range of batches to profile. "
    "Received: profile_batch={value!r}"
)

# Model classes whose config TensorBoard's graph plugin can draw (Keras 3 checks the same way).
_GRAPH_MODEL_CLASSES = frozenset({"Sequential", "Model", "Functional"})

# tensorboardX names event files by the second and host only, and opens them with "wb": two
# writers started in the same second in one directory would leave one file holding the second
# run alone. A process id and a counter keep every file apart, as TensorFlow's writer does.
_writer_ids = itertools.count()


def _import_summary_writer() -> type:
    try:
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ImportError(MSG_NO_TENSORBOARDX) from err
    return SummaryWriter


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"TensorBoard: `{name}` must be a bool. Received: {name}={value!r}")
    return bool(value)


def _check_update_freq(update_freq: Any) -> str | int:
    """`"epoch"`, or the number of batches between batch-level writes (`"batch"` is 1)."""
    if isinstance(update_freq, str) and update_freq in ("epoch", "batch"):
        return 1 if update_freq == "batch" else "epoch"
    is_int = isinstance(update_freq, (int, np.integer)) and not isinstance(update_freq, bool)
    if is_int and update_freq >= 1:
        return int(update_freq)
    raise ValueError(
        "TensorBoard: `update_freq` must be 'epoch', 'batch' or a positive integer number of "
        f"batches. Received: update_freq={update_freq!r}"
    )


def _parse_profile_batch(profile_batch: Any) -> tuple[int, int]:
    """`(start, stop)` from Keras's spellings: `0`, `5`, `(10, 20)`, `"10,20"` or `"5"`."""
    value = profile_batch
    try:
        if isinstance(value, str):
            value = [int(part) for part in value.split(",")]
            value = value[0] if len(value) == 1 else value
        if isinstance(value, (int, np.integer)):
            start = stop = int(value)
        elif (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and all(isinstance(v, (int, np.integer)) for v in value)
        ):
            start, stop = (int(v) for v in value)
        else:
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(MSG_PROFILE_BATCH.format(value=profile_batch)) from None
    if start < 0 or stop < start:
        raise ValueError(MSG_PROFILE_BATCH.format(value=profile_batch))
    return start, stop


def _scalar(value: Any) -> float | None:
    """A value as a Python float for a scalar summary, or None if it is not a single number."""
    value = to_python(value)
    return float(value) if isinstance(value, (int, float)) else None


def weight_image(values: np.ndarray, data_format: str = "channels_last") -> np.ndarray | None:
    """A weight laid out as images `(n, height, width, channels)`, as Keras 3 draws it, or None.

    A bias becomes one row, a dense kernel one image (its longer side horizontal), a 3-D kernel
    (a conv kernel with one input channel once squeezed) one image per filter. Shapes that end
    up without 1, 3 or 4 channels (most 4-D and 5-D kernels) are not drawn.

    Args:
        values: The weight's values.
        data_format: `"channels_last"` or `"channels_first"`, the layout of 3-D kernels.

    Returns:
        A float array of rank 4, or None when the weight cannot be drawn.
    """
    image = np.squeeze(np.asarray(values, np.float32))
    if image.ndim == 1:
        image = image.reshape(1, image.shape[0], 1, 1)
    elif image.ndim == 2:
        if image.shape[0] > image.shape[1]:
            image = image.T
        image = image.reshape(1, image.shape[0], image.shape[1], 1)
    elif image.ndim == 3:
        if data_format == "channels_last":
            image = np.transpose(image, (2, 0, 1))  # one image per filter
        image = image.reshape(*image.shape, 1)
    if image.ndim == 4 and image.shape[-1] in (1, 3, 4):
        return image
    return None


def _to_uint8(image: np.ndarray) -> np.ndarray:
    # `tf.summary.image` saturates floats to [0, 1] before scaling; tensorboardX does not clip.
    image = np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(image * 255.5, 0, 255).astype(np.uint8)


def _keras_model_summary(tag: str, config_json: str) -> Any:
    """A summary holding the model's JSON config for TensorBoard's conceptual graph."""
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

    plugin = SummaryMetadata.PluginData(plugin_name="graph_keras_model", content=b"1")
    tensor = TensorProto(
        dtype="DT_STRING", string_val=[config_json.encode("utf-8")], tensor_shape=TensorShapeProto()
    )
    value = Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin), tensor=tensor)
    return Summary(value=[value])


class TensorBoard(Callback):
    """Writes the training logs (and optionally weight histograms) for TensorBoard.

    Run `tensorboard --logdir=<log_dir>` to view them. The event files are written with
    `tensorboardX` (`pip install "fkeras[tensorboard]"`), in Keras 3's layout: `<log_dir>/train`
    and `<log_dir>/validation`, with Keras 3's tag names and steps (see the module docstring).

    What runs differently from Keras 3 on JAX:

    - `write_graph` writes the model's config (the `keras` tag TensorBoard's graph plugin draws
      as a conceptual graph), as Keras 3 does on JAX, but at the start of each `fit` only
      (Keras 3 writes it from `set_model`, so `evaluate` and `predict` write it too). There
      is no op-level graph to write, as on Keras 3's JAX backend.
    - `profile_batch`, `embeddings_freq` and `embeddings_metadata` are checked, then ignored
      with a warning: `fit` fuses the steps of an epoch into one dispatch, so a batch cannot be
      profiled on its own (profile the whole run with `jax.profiler.trace(log_dir)`), and
      Keras 3 on JAX writes embeddings as `.weights.h5` files the projector cannot read.
    - Keras 2's `batch_size`, `write_grads`, `embeddings_layer_names` and `embeddings_data` are
      accepted by keyword. `batch_size` changes nothing; the others warn that they are ignored.
    - Logs that are not single numbers (a per-class `F1Score`) are not written.
    - `batch_steps_per_second` is the throughput since the previous batch-level point, counted
      in optimizer updates: steps fused into one dispatch share their dispatch's rate (Keras 3
      times each batch alone, which a fused epoch cannot do).

    Args:
        log_dir: Directory the event files go to (its `train` and `validation` subdirectories).
        histogram_freq: Epochs between weight histograms (at epochs 0, `histogram_freq`, ...);
            0 writes none.
        write_graph: Writes the model config for TensorBoard's graph view.
        write_images: Also writes the weights as images, when histograms are written.
        write_steps_per_second: Writes the training steps per second, per epoch (and per
            batch-level point with `update_freq` other than `"epoch"`).
        update_freq: `"epoch"` writes the logs once per epoch; `"batch"` or an integer `N` also
            writes the running training logs every `N` batches (`batch_<name>`), which reads
            them from the device at those batches.
        profile_batch: Keras's batch range to profile: checked, ignored (see above).
        embeddings_freq: Keras's epochs between embedding snapshots: checked, ignored.
        embeddings_metadata: Keras's embedding metadata file(s): checked, ignored.
        batch_size: Keras 2 argument, ignored.
        write_grads: Keras 2 argument, ignored (warns if true).
        embeddings_layer_names: Keras 2 argument, ignored (warns if given).
        embeddings_data: Keras 2 argument, ignored (warns if given).

    Raises:
        ImportError: If `tensorboardX` is not installed.
        ValueError: If `update_freq`, `histogram_freq`, `embeddings_freq` or `profile_batch` is
            not one of the accepted values.
        TypeError: If `log_dir` is not a path, a `write_*` flag is not a bool, or
            `embeddings_metadata` is not a string, a dict or None.

    Example:
        >>> tensorboard = TensorBoard(log_dir="logs/run1", histogram_freq=1)
        >>> model.fit(x, y, epochs=5, validation_split=0.1, callbacks=[tensorboard])
    """

    def __init__(
        self,
        log_dir: str | os.PathLike = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int | str | tuple[int, int] = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: str | dict[str, str] | None = None,
        *,
        batch_size: int | None = None,
        write_grads: bool = False,
        embeddings_layer_names: Any = None,
        embeddings_data: Any = None,
    ) -> None:
        super().__init__()
        self.log_dir = check_path("TensorBoard", "log_dir", log_dir)
        self.histogram_freq = int(
            check_number("TensorBoard", "histogram_freq", histogram_freq, integer=True, minimum=0)
        )
        self.write_graph = _check_flag("write_graph", write_graph)
        self.write_images = _check_flag("write_images", write_images)
        self.write_steps_per_second = _check_flag("write_steps_per_second", write_steps_per_second)
        self.update_freq = _check_update_freq(update_freq)
        self._start_batch, self._stop_batch = _parse_profile_batch(profile_batch)
        self.embeddings_freq = int(
            check_number("TensorBoard", "embeddings_freq", embeddings_freq, integer=True, minimum=0)
        )
        if embeddings_metadata is not None and not isinstance(embeddings_metadata, (str, dict)):
            raise TypeError(
                "TensorBoard: `embeddings_metadata` must be a file name, a dict of layer names to "
                f"file names, or None. Received: embeddings_metadata={embeddings_metadata!r}"
            )
        self.embeddings_metadata = embeddings_metadata
        self._summary_writer = _import_summary_writer()
        ignored = [
            name
            for name, used in (
                ("profile_batch", self._stop_batch > 0),
                ("embeddings_freq", self.embeddings_freq > 0),
                ("write_grads", bool(write_grads)),
                ("embeddings_layer_names", embeddings_layer_names is not None),
                ("embeddings_data", embeddings_data is not None),
            )
            if used
        ]
        del batch_size  # Keras 2 batched the embedding data with it; nothing to batch here.
        if ignored:
            warnings.warn(
                f"TensorBoard: {', '.join(f'`{n}`' for n in ignored)} "
                f"{'is' if len(ignored) == 1 else 'are'} not supported by fkeras and will be "
                "ignored (no profiles, embeddings or gradient histograms are written).",
                stacklevel=2,
            )
        self._writers: dict[str, Any] = {}
        self._training = False
        self._global_train_batch = 0
        self._epoch_mark: tuple[float, int] = (0.0, 0)  # (time, iterations) at epoch start
        self._rate_mark: tuple[float, int, float] = (0.0, 0, 0.0)  # ... and the last rate
        self._evaluated_this_epoch = False
        self._images_available = True

    # ---- writers ---------------------------------------------------------------------------

    def _writer(self, kind: str) -> Any:
        """The `"train"` or `"val"` writer, created on first use (no empty event files)."""
        writer = self._writers.get(kind)
        if writer is None:
            subdir = "train" if kind == "train" else "validation"
            writer = self._summary_writer(
                logdir=os.path.join(self.log_dir, subdir),
                filename_suffix=f".{os.getpid()}.{next(_writer_ids)}",
            )
            self._writers[kind] = writer
        return writer

    def _write_scalars(
        self, kind: str, prefix: str, logs: Mapping[str, Any], step: int, suffix: str = ""
    ) -> None:
        writer = None
        for name in logs:
            value = _scalar(logs[name])
            if value is None:
                continue
            writer = writer or self._writer(kind)
            writer.add_scalar(f"{prefix}{name}{suffix}", value, global_step=step)

    def _flush_writers(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ---- reading the model -----------------------------------------------------------------

    def _iterations(self) -> int:
        """Optimizer updates so far (Keras's `optimizer.iterations`); batches seen without one."""
        try:
            return int(self.model.optimizer.iterations)
        except (AttributeError, TypeError):
            return self._global_train_batch

    def _learning_rate(self) -> float | None:
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        try:
            return float(np.asarray(optimizer.learning_rate))
        except (AttributeError, TypeError, ValueError):
            return None  # no optimizer, or a raw optax one whose rate is out of reach

    # ---- hooks -----------------------------------------------------------------------------

    def _uses_batch_hooks(self, kind: str) -> bool:
        # Only batch-level logging needs per-step logs; an epoch-level writer lets fit fuse epochs.
        return kind == "train" and self.update_freq != "epoch"

    def set_model(self, model: Any) -> None:
        self._close_writers()
        super().set_model(model)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._training = True
        self._global_train_batch = 0
        if self.write_graph:
            self._write_model_config()

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._training = False
        self._close_writers()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._evaluated_this_epoch = False
        if self.write_steps_per_second:
            self._epoch_mark = (time.perf_counter(), self._iterations())
            self._rate_mark = (*self._epoch_mark, 0.0)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._global_train_batch += 1

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq != 0:
            return  # reads nothing: the logs stay on the device
        if self.write_steps_per_second:
            self._writer("train").add_scalar(
                "batch_steps_per_second", self._batch_rate(), global_step=step
            )
        if isinstance(logs, Mapping):
            self._write_scalars("train", "batch_", logs, step)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        self._log_epoch_metrics(epoch, logs)
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if val_logs and not self._evaluated_this_epoch:
            # fit validates without calling the test hooks; write what on_test_end would have.
            self._log_evaluation(val_logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        self._flush_writers()

    def on_test_end(self, logs: Logs | None = None) -> None:
        if logs:
            self._log_evaluation(logs)
        if self._training:
            self._evaluated_this_epoch = True
            self._flush_writers()
        else:
            self._close_writers()  # a standalone `evaluate`: nothing else will close them

    # ---- what gets written -----------------------------------------------------------------

    def _log_epoch_metrics(self, epoch: int, logs: Mapping[str, Any]) -> None:
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        learning_rate = self._learning_rate()
        if learning_rate is not None:
            train_logs["learning_rate"] = learning_rate
        if self.write_steps_per_second:
            start_time, start_iterations = self._epoch_mark
            elapsed = max(time.perf_counter() - start_time, 1e-9)
            train_logs["steps_per_second"] = (self._iterations() - start_iterations) / elapsed
        self._write_scalars("train", "epoch_", train_logs, epoch)
        self._write_scalars("val", "epoch_", val_logs, epoch)

    def _log_evaluation(self, logs: Mapping[str, Any]) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations"):
            return
        step = int(optimizer.iterations)
        self._write_scalars("val", "evaluation_", logs, step, suffix="_vs_iterations")

    def _batch_rate(self) -> float:
        """Optimizer updates per second since the last batch-level point.

        The batch hooks of a fused dispatch all run after it, when `iterations` already counts
        all its steps: the first of them measures the dispatch, the others repeat that rate.
        """
        now, iterations = time.perf_counter(), self._iterations()
        last_time, last_iterations, last_rate = self._rate_mark
        if iterations == last_iterations:
            return last_rate
        rate = (iterations - last_iterations) / max(now - last_time, 1e-9)
        self._rate_mark = (now, iterations, rate)
        return rate

    def _log_weights(self, epoch: int) -> None:
        """Histograms (and images) of every layer weight, tagged by the weight's path."""
        from fkeras import _config

        weights = [w for layer in self.model.layers for w in layer.weights]
        values = jax.device_get([w.value for w in weights])  # one transfer for all of them
        writer = self._writer("train")
        for weight, value in zip(weights, values, strict=True):
            name = weight.path.replace(":", "_")
            value = np.asarray(value, np.float32)
            finite = value[np.isfinite(value)]
            if finite.size:
                writer.add_histogram(f"{name}/histogram", finite, global_step=epoch)
            if self.write_images and self._images_available:
                image = weight_image(value, _config.image_data_format())
                if image is not None:
                    self._write_image(writer, f"{name}/image", image, epoch)
        writer.flush()

    def _write_image(self, writer: Any, tag: str, image: np.ndarray, epoch: int) -> None:
        try:
            writer.add_images(tag, _to_uint8(image), global_step=epoch, dataformats="NHWC")
        except ImportError:  # tensorboardX encodes PNGs with Pillow, an optional dependency
            self._images_available = False
            warnings.warn(
                "TensorBoard: `write_images=True` needs Pillow (`pip install pillow`); "
                "no weight images will be written.",
                stacklevel=3,
            )

    def _write_model_config(self) -> None:
        """The model's JSON config under the `keras` tag, as Keras 3 writes for its graph view."""
        model = self._model
        if type(model).__name__ not in _GRAPH_MODEL_CLASSES or not hasattr(model, "to_json"):
            return
        try:
            config_json = model.to_json()
        except Exception as err:  # as in Keras: a model that cannot serialize still trains
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {err}", stacklevel=3)
            return
        writer = self._writer("train")
        writer.file_writer.add_summary(_keras_model_summary("keras", config_json), global_step=0)
