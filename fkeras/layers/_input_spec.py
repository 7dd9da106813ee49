"""`InputSpec`: what a layer accepts (rank, dtype, sizes of given axes), checked when it is called.

A layer states it with `self.input_spec = InputSpec(...)` (or a list, one per input) in
`__init__` or `build`, as Keras layers do; calling the layer on something else raises a
`ValueError` naming the layer, the input and the expected and received values.
"""

from __future__ import annotations

from typing import Any


class InputSpec:
    """The rank, dtype, shape or axis sizes a layer's input must have (None: any).

    Args:
        dtype: the input's dtype.
        shape: the whole shape (None entries match any size); sets `ndim`.
        ndim: the exact rank.
        max_ndim, min_ndim: bounds on the rank.
        axes: `{axis: size}` for the axes whose size is fixed.
        allow_last_axis_squeeze: accept a rank one higher or lower than `ndim` whose last axis
            is 1 (Keras's option).
        name: the input's name (kept for configs).
        optional: whether the input may be None.
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        for key, value in (("ndim", ndim), ("max_ndim", max_ndim), ("min_ndim", min_ndim)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ValueError(
                    f"InputSpec: `{key}` must be None or a non-negative integer. "
                    f"Received: {key}={value!r}"
                )
        self.dtype = None if dtype is None else str(dtype)
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (AttributeError, TypeError, ValueError):
            raise ValueError(
                f"InputSpec: `axes` must be a dict from axis to size. Received: axes={axes!r}"
            ) from None
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def __repr__(self) -> str:
        fields = ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
        shown = [f"{k}={getattr(self, k)!r}" for k in fields if getattr(self, k)]
        return f"InputSpec({', '.join(shown)})"

    def get_config(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config: dict) -> InputSpec:
        return cls(**config)


def check_inputs(layer, input_specs) -> None:
    """Raise unless each of the inputs (TensorSpecs, or arrays) fits `layer.input_spec`."""
    wanted = layer.__dict__.get("input_spec")
    if wanted is None:
        return
    wanted = list(wanted) if isinstance(wanted, (list, tuple)) else [wanted]
    if not all(isinstance(w, InputSpec) for w in wanted):
        return
    given = list(input_specs) if isinstance(input_specs, (list, tuple)) else [input_specs]
    if len(wanted) != len(given):
        raise ValueError(
            f"Layer {layer.name!r} expects {len(wanted)} input(s), "
            f"but it received {len(given)} input tensors."
        )
    for i, (spec, x) in enumerate(zip(wanted, given)):
        if x is None:
            if spec.optional:
                continue
            raise ValueError(
                f"Input {i} of layer {layer.name!r} is None, and its InputSpec is not optional."
            )
        _check_one(layer.name, i, spec, tuple(x.shape), str(x.dtype))


def _check_one(name: str, i: int, spec: InputSpec, shape: tuple, dtype: str) -> None:
    def fail(what: str) -> None:
        raise ValueError(
            f"Input {i} of layer {name!r} is incompatible with the layer: {what}. "
            f"Full shape received: {shape}"
        )

    ndim = len(shape)
    if spec.ndim is not None and ndim != spec.ndim:
        squeezable = spec.allow_last_axis_squeeze and (
            (ndim == spec.ndim + 1 and shape[-1] == 1)
            or (ndim + 1 == spec.ndim and spec.shape is None)
        )
        if not squeezable:
            fail(f"expected ndim={spec.ndim}, found ndim={ndim}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        fail(f"expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        fail(f"expected min_ndim={spec.min_ndim}, found ndim={ndim}")
    if spec.dtype is not None and dtype != spec.dtype:
        fail(f"expected dtype={spec.dtype}, found dtype={dtype}")
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if not -ndim <= axis < ndim:
            fail(f"expected an axis {axis} of size {size}, found ndim={ndim}")
        if shape[axis] is not None and shape[axis] != size:
            fail(
                f"expected axis {axis} of the input shape to have value {size}, found {shape[axis]}"
            )
    if spec.shape is not None and ndim == len(spec.shape):
        for want, got in zip(spec.shape, shape):
            if want is not None and got is not None and want != got:
                fail(f"expected shape={spec.shape}, found shape={shape}")
