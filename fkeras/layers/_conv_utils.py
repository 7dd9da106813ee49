"""The general N-D convolution layers behind the public rank variants in `_conv.py`.

`_Conv`, `_ConvTranspose`, `_DepthwiseConv` and `_SeparableConv` (Keras's `BaseConv`,
`BaseConvTranspose`, ...) share `_BaseConv`: argument checks, shape inference, variables, bias,
activation, penalties and config. Below them, the argument normalisation and shape arithmetic,
on plain Python ints (and `None` for unknown sizes): it runs while a layer is constructed or its
output spec is inferred, never on traced arrays.

Layouts are Keras 3's: kernels are `(*kernel_size, in_channels // groups, filters)` (transposes:
`(*kernel_size, filters, in_channels)`), inputs follow `data_format`. The convolution itself is
one `lax.conv_general_dilated` (or `lax.conv_transpose`) call with dimension numbers matching
the data format, so neither layout pays for a transpose, and the numbers are those of Keras 3's
JAX backend (`keras/src/backend/jax/nn.py`).
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from fkeras import _config, activations, constraints, initializers, regularizers
from fkeras.layers._base import Layer
from fkeras.layers._core import _serialize
from fkeras.layers._spec import TensorSpec, as_bool, spec_of

_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def normalize_tuple(
    value: Any, rank: int, name: str, owner: str, allow_zero: bool = False
) -> tuple:
    """`value` (an int, or `rank` ints) as a tuple of `rank` Python ints.

    Args:
        value: an int, or a tuple/list of `rank` ints.
        rank: the number of spatial dimensions.
        name: the argument's name, for the error message (`"kernel_size"`).
        owner: the class name, for the error message (`"Conv2D"`).
        allow_zero: whether 0 is allowed (`output_padding`); otherwise values must be >= 1.

    Raises:
        ValueError: if `value` is not an int or a sequence of `rank` ints, or holds a value
            below the allowed minimum.
    """
    low = 0 if allow_zero else 1
    expected = f"an integer or a tuple of {rank} integers, each >= {low}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * rank
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = None
        ok = (
            values is not None
            and len(values) == rank
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
        )
        if not ok:
            raise ValueError(
                f"{owner}: the `{name}` argument must be {expected}. Received: {name}={value!r}"
            )
        values = tuple(int(v) for v in values)
    if any(v < low for v in values):
        raise ValueError(
            f"{owner}: the `{name}` argument must be {expected}. Received: {name}={value!r}"
        )
    return values


def normalize_padding(value: Any, owner: str, allow_causal: bool = False) -> str:
    """`value` lower-cased, checked to be 'valid', 'same' (or 'causal' where allowed)."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if not isinstance(padding, str) or padding not in allowed:
        names = ", ".join(repr(a) for a in allowed)
        raise ValueError(
            f"{owner}: the `padding` argument must be one of {names}. Received: padding={value!r}"
        )
    return padding


def positive_int(value: Any, name: str, owner: str) -> int:
    """`value` as an int, checked to be >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"{owner}: invalid value for argument `{name}`. Expected a strictly positive "
            f"integer. Received: {name}={value!r}"
        )
    return int(value)


def dimension_numbers(rank: int, data_format: str) -> tuple[str, str, str]:
    """`(lhs, rhs, out)` specs for `lax.conv_general_dilated` in Keras's layouts.

    The kernel is always `(spatial..., in, out)` ('HWIO'); the input and output follow
    `data_format`, so channels_last inputs reach XLA without a transpose.
    """
    spatial = _SPATIAL[rank]
    image = "N" + spatial + "C" if data_format == "channels_last" else "NC" + spatial
    return image, spatial + "IO", image


def channel_axis(data_format: str) -> int:
    return -1 if data_format == "channels_last" else 1


def spatial_of(shape: tuple, data_format: str) -> tuple:
    return tuple(shape[1:-1]) if data_format == "channels_last" else tuple(shape[2:])


def assemble(batch, spatial: tuple, channels, data_format: str) -> tuple:
    """The full shape from its batch, spatial and channel parts."""
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def effective_kernel(kernel_size: tuple, dilation_rate: tuple) -> tuple:
    """The span of each dilated kernel axis: `(k - 1) * d + 1`."""
    return tuple((k - 1) * d + 1 for k, d in zip(kernel_size, dilation_rate))


def conv_pads(
    spatial: tuple, kernel_size: tuple, strides: tuple, dilation_rate: tuple, padding: str
) -> list:
    """Explicit `(low, high)` pads per spatial axis for a forward convolution.

    'causal' pads only on the left, by the dilated kernel span minus one (Keras's Conv1D pads
    the input that much and then runs a 'valid' convolution: the same numbers).
    """
    span = effective_kernel(kernel_size, dilation_rate)
    if padding == "causal":
        return [(s - 1, 0) for s in span]
    return lax.padtype_to_pads(spatial, span, strides, padding.upper())


def conv_output_spatial(
    spatial: tuple, kernel_size: tuple, strides: tuple, dilation_rate: tuple, padding: str
) -> tuple:
    """Spatial output sizes of a forward convolution (None stays None; may be <= 0)."""
    span = effective_kernel(kernel_size, dilation_rate)
    # Unknown sizes are computed at a harmless stand-in size, then reported as unknown again.
    known = tuple(span[i] if n is None else n for i, n in enumerate(spatial))
    pads = conv_pads(known, kernel_size, strides, dilation_rate, padding)
    # One image, one channel, in lax's default 'NC...' / 'OI...' layout.
    out = lax.conv_shape_tuple((1, 1) + known, (1, 1) + span, strides, pads)[2:]
    return tuple(None if n is None else int(o) for n, o in zip(spatial, out))


def transpose_pads(
    kernel_size: tuple, strides: tuple, dilation_rate: tuple, padding: str, output_padding
) -> list:
    """`(low, high)` pads for `lax.conv_transpose`, as Keras 3's JAX backend computes them.

    `lax.conv_transpose` pads the stride-dilated input by these amounts and then runs a 'valid'
    convolution. Keras's 'valid' yields `(n - 1) * s + max(k, s)` outputs (or
    `(n - 1) * s + k + output_padding`); 'same' yields `n * s` (or
    `(n - 1) * s + k % 2 + output_padding`), with `k` the dilated kernel span.
    """
    pads = []
    for i, (k, s) in enumerate(zip(effective_kernel(kernel_size, dilation_rate), strides)):
        extra = None if output_padding is None else output_padding[i]
        if padding == "valid":
            extra = max(k, s) - k if extra is None else extra
            pads.append((k - 1, k - 1 + extra))
            continue
        total = s + k - 2 if extra is None else k + k % 2 - 2 + extra
        low = min(total // 2 + total % 2, k - 1)
        pads.append((low, total - low))
    return pads


def transpose_output_spatial(
    spatial: tuple,
    kernel_size: tuple,
    strides: tuple,
    dilation_rate: tuple,
    padding: str,
    output_padding,
) -> tuple:
    """Spatial output sizes of `lax.conv_transpose` with `transpose_pads` (None stays None)."""
    pads = transpose_pads(kernel_size, strides, dilation_rate, padding, output_padding)
    span = effective_kernel(kernel_size, dilation_rate)
    out = []
    for n, s, k, (low, high) in zip(spatial, strides, span, pads):
        # The input dilated by the stride, padded, then a 'valid' window of span k.
        out.append(None if n is None else (n - 1) * s + 1 + low + high - (k - 1))
    return tuple(out)


# ---- the general layers ----------------------------------------------------------------------


_DEFAULT_INITIALIZERS = {"bias": "zeros"}  # every kernel defaults to 'glorot_uniform'


def _weight_arguments(prefix: str, kwargs: dict) -> tuple:
    """Pop and resolve `{prefix}_initializer`, `_regularizer` and `_constraint` from `kwargs`."""
    init = kwargs.pop(f"{prefix}_initializer", None)
    if init is None:  # Keras: None means the default initializer
        init = _DEFAULT_INITIALIZERS.get(prefix, "glorot_uniform")
    return (
        initializers.get(init),
        regularizers.get(kwargs.pop(f"{prefix}_regularizer", None)),
        constraints.get(kwargs.pop(f"{prefix}_constraint", None)),
    )


class _BaseConv(Layer):
    """What every convolution layer shares; subclasses say how kernels are shaped and applied.

    `_KERNELS` lists `(weight_name, prefix)` pairs: the layer creates each weight in that order
    (then `bias`), set up by the `{prefix}_initializer`, `{prefix}_regularizer` and
    `{prefix}_constraint` arguments (taken from `**kwargs`, like `bias_*`).
    """

    _KERNELS: tuple = (("kernel", "kernel"),)
    _ALLOW_CAUSAL = False  # 'causal' padding (rank 1 only)
    _STRIDES_XOR_DILATION = False  # Keras rejects strides > 1 with dilation_rate > 1

    def __init__(
        self,
        rank,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        owner = type(self).__name__
        kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
        strides = normalize_tuple(strides, rank, "strides", owner)
        dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
        if self._STRIDES_XOR_DILATION and max(strides) > 1 and max(dilation_rate) > 1:
            raise ValueError(
                f"{owner}: `strides > 1` is not supported together with `dilation_rate > 1`. "
                f"Received: strides={strides}, dilation_rate={dilation_rate}"
            )
        padding = normalize_padding(padding, owner, allow_causal=self._ALLOW_CAUSAL and rank == 1)
        data_format = _config.standardize_data_format(data_format)
        activation = activations.get(activation)
        weight_args = {p: _weight_arguments(p, kwargs) for _, p in self._all_weights()}
        super().__init__(**kwargs)
        self.rank = rank
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.data_format = data_format
        self.dilation_rate = dilation_rate
        self.activation = activation
        self.use_bias = as_bool(self, "use_bias", use_bias)
        for prefix, (init, reg, con) in weight_args.items():
            setattr(self, f"{prefix}_initializer", init)
            setattr(self, f"{prefix}_regularizer", reg)
            setattr(self, f"{prefix}_constraint", con)

    @classmethod
    def _all_weights(cls) -> tuple:
        return cls._KERNELS + (("bias", "bias"),)

    # ---- what each family defines --------------------------------------------------------------

    def _kernel_shapes(self, in_channels: int) -> dict:
        raise NotImplementedError

    def _out_channels(self, in_channels: int) -> int:
        raise NotImplementedError

    def _convolve(self, params, x):
        raise NotImplementedError

    def _out_spatial(self, spatial: tuple) -> tuple:
        return conv_output_spatial(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding
        )

    def _check_channels(self, channels: int, input_spec: TensorSpec) -> None:
        """Family-specific checks of the input's channel count (e.g. divisibility by groups)."""

    # ---- shared machinery ------------------------------------------------------------------------

    def _geometry(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, strides={self.strides}, padding={self.padding!r}, "
            f"dilation_rate={self.dilation_rate}"
        )

    def _describe(self) -> str:
        return f"Layer {self.name!r} ({type(self).__name__})"

    def _in_channels(self, input_spec, required: bool = False):
        """The input's channel count, after checking its rank (None if unknown and allowed)."""
        if not isinstance(input_spec, TensorSpec):
            raise ValueError(  # noqa: TRY004 (fkeras reports bad layer inputs as ValueError)
                f"{self._describe()} expects a single input tensor. "
                f"Received: {len(input_spec)} tensors."
            )
        if input_spec.ndim != self.rank + 2:
            layout = "(batch, *spatial, channels)"
            if self.data_format == "channels_first":
                layout = "(batch, channels, *spatial)"
            raise ValueError(
                f"{self._describe()} expects an input of rank {self.rank + 2}, {layout}. "
                f"Received: input shape={input_spec.shape}"
            )
        channels = input_spec.shape[channel_axis(self.data_format)]
        if channels is None and required:
            raise ValueError(
                f"{self._describe()} needs the channel axis of its input to be known. "
                f"Received: input shape={input_spec.shape}"
            )
        if channels is not None:
            self._check_channels(channels, input_spec)
        return channels

    def compute_output_spec(self, input_spec, **kwargs):
        channels = self._in_channels(input_spec)
        out = self._out_spatial(spatial_of(input_spec.shape, self.data_format))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(
                f"{self._describe()}: the input is too small for this layer: the output would "
                f"have spatial size(s) {out}, expected all >= 1. The dilated kernel spans "
                f"{effective_kernel(self.kernel_size, self.dilation_rate)}. Received: input "
                f"shape={input_spec.shape}, {self._geometry()}"
            )
        out_channels = None if channels is None else self._out_channels(channels)
        shape = assemble(input_spec.shape[0], out, out_channels, self.data_format)
        return TensorSpec(shape, self.dtype)

    def init(self, rng, input_spec):
        channels = self._in_channels(input_spec, required=True)
        self.compute_output_spec(input_spec)
        shapes = self._kernel_shapes(channels)
        shapes["bias"] = (self._out_channels(channels),)
        keys = jax.random.split(rng, len(self._all_weights()))
        params = {}
        for key, (name, prefix) in zip(keys, self._weight_settings()):
            params[name] = getattr(self, f"{prefix}_initializer")(shapes[name], self.dtype, key=key)
        return {"params": params, "state": {}}

    def check_input_spec(self, built_spec, input_spec):
        channels = self._in_channels(input_spec)
        axis = channel_axis(self.data_format)
        built = built_spec.shape[axis]
        if channels is not None and channels != built:
            raise ValueError(
                f"Input 0 of {self._describe()} is incompatible with the layer: expected axis "
                f"{axis} of input shape to have value {built}. "
                f"Received: input shape={input_spec.shape}"
            )

    def apply(self, variables, inputs, *, training=False, rng=None):
        del training, rng
        params = variables["params"]
        # Keras computes in the kernel's dtype (ints and other floats are cast to it).
        x = jnp.asarray(inputs).astype(params[self._KERNELS[0][0]].dtype)
        self.compute_output_spec(spec_of(x))  # a clear error for a wrong rank or a small input
        y = self._convolve(params, x)
        if self.use_bias:
            # Full-rank bias, so no implicit rank promotion (Keras reshapes it the same way).
            shape = assemble(1, (1,) * self.rank, -1, self.data_format)
            y = y + params["bias"].reshape(shape)
        return self.activation(y), {}

    def _weight_settings(self) -> tuple:
        """`(weight_name, prefix)` for every weight this layer has, in creation order."""
        return self._all_weights() if self.use_bias else self._KERNELS

    def penalty(self, params):
        total = 0.0
        for name, prefix in self._weight_settings():
            regularizer = getattr(self, f"{prefix}_regularizer")
            if regularizer is not None:
                total = total + regularizer(params[name])
        return total

    def constrain(self, params):
        params = dict(params)
        for name, prefix in self._weight_settings():
            constraint = getattr(self, f"{prefix}_constraint")
            if constraint is not None:
                params[name] = constraint(params[name])
        return params

    def get_config(self):
        config = {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }
        for _, prefix in self._all_weights():
            init = getattr(self, f"{prefix}_initializer")
            config[f"{prefix}_initializer"] = initializers.serialize(init)
            for what, module in (("regularizer", regularizers), ("constraint", constraints)):
                config[f"{prefix}_{what}"] = _serialize(module, getattr(self, f"{prefix}_{what}"))
        return config


class _Conv(_BaseConv):
    """General N-D convolution (Keras's `BaseConv`): `activation(conv(inputs, kernel) + bias)`.

    Args:
        rank: the number of spatial dimensions (1, 2 or 3).
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of `rank` ints, the window size.
        groups: positive int dividing both `filters` and the input's channel count; each group
            of `in_channels // groups` input channels makes `filters // groups` outputs.
        **kwargs: `strides`, `padding` ('valid', 'same', or for rank 1 'causal': left padding
            only), `data_format`, `dilation_rate`, `activation`, `use_bias`, `kernel_*` and
            `bias_*` initializer/regularizer/constraint, and the base layer's arguments.
    """

    _ALLOW_CAUSAL = True
    _STRIDES_XOR_DILATION = True

    def __init__(self, rank, filters, kernel_size, groups=1, **kwargs):
        owner = type(self).__name__
        filters = positive_int(filters, "filters", owner)
        groups = positive_int(groups, "groups", owner)
        if filters % groups:
            raise ValueError(
                f"{owner}: the number of filters must be evenly divisible by the number of "
                f"groups. Received: groups={groups}, filters={filters}"
            )
        super().__init__(rank, kernel_size, **kwargs)
        self.filters = filters
        self.groups = groups

    def _check_channels(self, channels, input_spec):
        if channels % self.groups:
            raise ValueError(
                f"{self._describe()}: the number of input channels must be evenly divisible by "
                f"the number of groups. Received: groups={self.groups}, input channels="
                f"{channels} (input shape={input_spec.shape})"
            )

    def _kernel_shapes(self, in_channels):
        return {"kernel": self.kernel_size + (in_channels // self.groups, self.filters)}

    def _out_channels(self, in_channels):
        return self.filters

    def _convolve(self, params, x):
        kernel = params["kernel"]
        spatial = spatial_of(x.shape, self.data_format)
        return lax.conv_general_dilated(
            x,
            kernel,
            window_strides=self.strides,
            padding=conv_pads(
                spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding
            ),
            rhs_dilation=self.dilation_rate,
            dimension_numbers=dimension_numbers(self.rank, self.data_format),
            feature_group_count=x.shape[channel_axis(self.data_format)] // kernel.shape[-2],
        )

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups}


class _ConvTranspose(_BaseConv):
    """General N-D transposed convolution (Keras's `BaseConvTranspose`).

    The kernel is `(*kernel_size, filters, in_channels)`; output sizes are given by
    `transpose_output_spatial`.

    Args:
        rank, filters, kernel_size: as `_Conv`.
        output_padding: None, or an int / tuple of `rank` ints, each in `[0, strides)`: extra
            rows added to the high side of the output.
        **kwargs: as `_Conv` (there is no `groups`, and no 'causal' padding).
    """

    _STRIDES_XOR_DILATION = True

    def __init__(self, rank, filters, kernel_size, output_padding=None, **kwargs):
        owner = type(self).__name__
        filters = positive_int(filters, "filters", owner)
        if output_padding is not None:
            output_padding = normalize_tuple(
                output_padding, rank, "output_padding", owner, allow_zero=True
            )
            strides = normalize_tuple(kwargs.get("strides", 1), rank, "strides", owner)
            if any(p >= s for p, s in zip(output_padding, strides)):
                raise ValueError(
                    f"{owner}: each value of `output_padding` must be strictly less than the "
                    f"matching `strides` value. Received: output_padding={output_padding}, "
                    f"strides={strides}"
                )
        super().__init__(rank, kernel_size, **kwargs)
        self.filters = filters
        self.output_padding = output_padding

    def _geometry(self):
        return f"{super()._geometry()}, output_padding={self.output_padding}"

    def _kernel_shapes(self, in_channels):
        return {"kernel": self.kernel_size + (self.filters, in_channels)}

    def _out_channels(self, in_channels):
        return self.filters

    def _out_spatial(self, spatial):
        return transpose_output_spatial(
            spatial,
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
            self.output_padding,
        )

    def _convolve(self, params, x):
        # Exactly Keras 3's JAX call: the kernel's 'IO' axes hold (filters, in_channels) and
        # transpose_kernel=True swaps them and flips the window.
        pads = transpose_pads(
            self.kernel_size, self.strides, self.dilation_rate, self.padding, self.output_padding
        )
        return lax.conv_transpose(
            x,
            params["kernel"],
            self.strides,
            padding=pads,
            rhs_dilation=self.dilation_rate,
            dimension_numbers=dimension_numbers(self.rank, self.data_format),
            transpose_kernel=True,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "output_padding": self.output_padding,
        }


def _depthwise(layer: _BaseConv, kernel, x):
    """One convolution per input channel, `depth_multiplier` outputs each (channel-major)."""
    channels = x.shape[channel_axis(layer.data_format)]
    kernel = kernel.reshape(kernel.shape[:-2] + (1, channels * kernel.shape[-1]))
    spatial = spatial_of(x.shape, layer.data_format)
    return lax.conv_general_dilated(
        x,
        kernel,
        window_strides=layer.strides,
        padding=conv_pads(
            spatial, layer.kernel_size, layer.strides, layer.dilation_rate, layer.padding
        ),
        rhs_dilation=layer.dilation_rate,
        dimension_numbers=dimension_numbers(layer.rank, layer.data_format),
        feature_group_count=channels,
    )


class _DepthwiseConv(_BaseConv):
    """General N-D depthwise convolution (Keras's `BaseDepthwiseConv`).

    Each input channel is convolved with its own `depth_multiplier` filters; output channel
    `c * depth_multiplier + m` comes from input channel `c`. The kernel, named `kernel` as in
    Keras 3 (Keras 2 called it `depthwise_kernel`) and set up by the `depthwise_*` arguments,
    is `(*kernel_size, in_channels, depth_multiplier)`; the bias has
    `in_channels * depth_multiplier` entries.
    """

    _KERNELS = (("kernel", "depthwise"),)

    def __init__(self, rank, kernel_size, depth_multiplier=1, **kwargs):
        owner = type(self).__name__
        depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", owner)
        super().__init__(rank, kernel_size, **kwargs)
        self.depth_multiplier = depth_multiplier

    def _kernel_shapes(self, in_channels):
        return {"kernel": self.kernel_size + (in_channels, self.depth_multiplier)}

    def _out_channels(self, in_channels):
        return in_channels * self.depth_multiplier

    def _convolve(self, params, x):
        return _depthwise(self, params["kernel"], x)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier}


class _SeparableConv(_BaseConv):
    """General N-D separable convolution (Keras's `BaseSeparableConv`).

    A depthwise convolution (`depthwise_kernel`, `(*kernel_size, in_channels,
    depth_multiplier)`) followed by a 1x1 convolution (`pointwise_kernel`, `(1, ..., 1,
    in_channels * depth_multiplier, filters)`) that mixes channels; then bias and activation.
    """

    _KERNELS = (("depthwise_kernel", "depthwise"), ("pointwise_kernel", "pointwise"))

    def __init__(self, rank, filters, kernel_size, depth_multiplier=1, **kwargs):
        owner = type(self).__name__
        filters = positive_int(filters, "filters", owner)
        depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", owner)
        super().__init__(rank, kernel_size, **kwargs)
        self.filters = filters
        self.depth_multiplier = depth_multiplier

    def _kernel_shapes(self, in_channels):
        mid = in_channels * self.depth_multiplier
        return {
            "depthwise_kernel": self.kernel_size + (in_channels, self.depth_multiplier),
            "pointwise_kernel": (1,) * self.rank + (mid, self.filters),
        }

    def _out_channels(self, in_channels):
        return self.filters

    def _convolve(self, params, x):
        y = _depthwise(self, params["depthwise_kernel"], x)
        # Keras passes dilation_rate to the 1x1 convolution too; it has no effect there.
        return lax.conv_general_dilated(
            y,
            params["pointwise_kernel"],
            window_strides=(1,) * self.rank,
            padding=[(0, 0)] * self.rank,
            rhs_dilation=self.dilation_rate,
            dimension_numbers=dimension_numbers(self.rank, self.data_format),
        )

    def get_config(self):
        config = super().get_config()
        return {**config, "filters": self.filters, "depth_multiplier": self.depth_multiplier}
