"""Convolution layers: Conv1D/2D/3D, their transposes, DepthwiseConv1D/2D, SeparableConv1D/2D.

Each class here is a thin rank variant with an explicit signature over one general N-D
implementation in `_conv_utils.py`; Keras 2's spellings (`Convolution2D`, `Deconvolution2D`,
`SeparableConvolution2D`, ...) are aliases of the same classes.
"""

from fkeras.layers._conv_utils import _Conv, _ConvTranspose, _DepthwiseConv, _SeparableConv

__all__ = [
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "Convolution1D",
    "Convolution1DTranspose",
    "Convolution2D",
    "Convolution2DTranspose",
    "Convolution3D",
    "Convolution3DTranspose",
    "Deconv2D",
    "Deconv3D",
    "Deconvolution2D",
    "Deconvolution3D",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
]


def _forward(local_vars: dict) -> dict:
    """A rank variant's `__init__` arguments, to hand on to its general class by keyword."""
    skip = ("self", "__class__", "kwargs")
    args = {k: v for k, v in local_vars.items() if k not in skip}
    return {**args, **local_vars.get("kwargs", {})}


class Conv1D(_Conv):
    """1D convolution (e.g. over time): `activation(conv(inputs, kernel) + bias)`.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 1 int, the length of the convolution window.
        strides: int or tuple of 1 int (`strides > 1` excludes `dilation_rate > 1`).
        padding: 'valid' (none), 'same' (output length `ceil(steps / strides)`) or 'causal'
            (left padding only, so `output[t]` never sees `inputs[t + 1:]`); case-insensitive.
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 1 int, the dilation of the window.
        groups: positive int dividing `filters` and the input channels: the channels are split
            into `groups` groups, each convolved with its own `filters // groups` filters.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: defaults 'glorot_uniform' and 'zeros'.
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.

    Output shape:
        `(batch, new_steps, filters)` (channels_last) or `(batch, filters, new_steps)`.

    Example:
        >>> layer = Conv1D(8, 3, padding="causal")
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 10, 4)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (8,), 'kernel': (3, 4, 8)}, 'state': {}}
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=1, **_forward(locals()))


class Conv2D(_Conv):
    """2D convolution (e.g. over images): `activation(conv(inputs, kernel) + bias)`.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 2 ints, the height and width of the window.
        strides: int or tuple of 2 ints (`strides > 1` excludes `dilation_rate > 1`).
        padding: 'valid' (none) or 'same' (output size `ceil(input / strides)`).
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 2 ints, the dilation of the window.
        groups: positive int dividing `filters` and the input channels: the channels are split
            into `groups` groups, each convolved with its own `filters // groups` filters.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: defaults 'glorot_uniform' and 'zeros'.
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        `(batch, height, width, channels)` (channels_last) or `(batch, channels, height, width)`.

    Output shape:
        `(batch, new_height, new_width, filters)` or `(batch, filters, new_height, new_width)`.

    Example:
        >>> layer = Conv2D(32, (3, 3), activation="relu")
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 28, 28, 1)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (32,), 'kernel': (3, 3, 1, 32)}, 'state': {}}
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=2, **_forward(locals()))


class Conv3D(_Conv):
    """3D convolution (e.g. over volumes or video): `activation(conv(inputs, kernel) + bias)`.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 3 ints, the depth, height and width of the window.
        strides: int or tuple of 3 ints (`strides > 1` excludes `dilation_rate > 1`).
        padding: 'valid' (none) or 'same' (output size `ceil(input / strides)`).
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 3 ints, the dilation of the window.
        groups: positive int dividing `filters` and the input channels: the channels are split
            into `groups` groups, each convolved with its own `filters // groups` filters.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: defaults 'glorot_uniform' and 'zeros'.
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        `(batch, dim1, dim2, dim3, channels)` (channels_last) or `(batch, channels, dim1, dim2,
        dim3)`.

    Output shape:
        `(batch, new_dim1, new_dim2, new_dim3, filters)` or `(batch, filters, new_dim1, ...)`.

    Example:
        >>> layer = Conv3D(4, 3)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 8, 8, 8, 2)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (4,), 'kernel': (3, 3, 3, 2, 4)}, 'state': {}}
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=3, **_forward(locals()))


_TRANSPOSE_SIZES = """
    Each spatial size `n` becomes `(n - 1) * s + max(k, s)` with 'valid' padding and `n * s`
    with 'same' (`s` the stride, `k` the dilated kernel span `(kernel_size - 1) * dilation + 1`);
    with `output_padding` `p` it is `(n - 1) * s + k + p` ('valid') or `(n - 1) * s + k % 2 + p`
    ('same'), as in Keras 3 on JAX.
"""


class Conv1DTranspose(_ConvTranspose):
    """1D transposed convolution ("deconvolution"): the gradient of `Conv1D` w.r.t. its input.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 1 int, the length of the window.
        strides: int or tuple of 1 int, the upsampling factor (excludes `dilation_rate > 1`).
        padding: 'valid' or 'same' (case-insensitive).
        output_padding: None, or an int / tuple of 1 int in `[0, strides)`: extra output steps.
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 1 int, the dilation of the window.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: defaults 'glorot_uniform' and 'zeros'.
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.

    Output shape:
        `(batch, new_steps, filters)` (channels_last) or `(batch, filters, new_steps)`.

    Example:
        >>> layer = Conv1DTranspose(8, 3, strides=2)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 10, 4)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (8,), 'kernel': (3, 8, 4)}, 'state': {}}
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=1, **_forward(locals()))


class Conv2DTranspose(_ConvTranspose):
    """2D transposed convolution ("deconvolution"): the gradient of `Conv2D` w.r.t. its input.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 2 ints, the height and width of the window.
        strides: int or tuple of 2 ints, the upsampling factors (excludes `dilation_rate > 1`).
        padding: 'valid' or 'same' (case-insensitive).
        output_padding: None, or an int / tuple of 2 ints, each in `[0, strides)`.
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 2 ints, the dilation of the window.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: defaults 'glorot_uniform' and 'zeros'.
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        `(batch, height, width, channels)` (channels_last) or `(batch, channels, height, width)`.

    Output shape:
        `(batch, new_height, new_width, filters)` or `(batch, filters, new_height, new_width)`.

    Example:
        >>> layer = Conv2DTranspose(16, 3, strides=2, padding="same")
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 7, 7, 32)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (16,), 'kernel': (3, 3, 16, 32)}, 'state': {}}
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=2, **_forward(locals()))


class Conv3DTranspose(_ConvTranspose):
    """3D transposed convolution ("deconvolution"): the gradient of `Conv3D` w.r.t. its input.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 3 ints, the depth, height and width of the window.
        strides: int or tuple of 3 ints, the upsampling factors (excludes `dilation_rate > 1`).
        padding: 'valid' or 'same' (case-insensitive).
        output_padding: None, or an int / tuple of 3 ints, each in `[0, strides)`. Keras 2's
            position (before `data_format`); Keras 3 swapped the two, so pass both by keyword.
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 3 ints, the dilation of the window.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: defaults 'glorot_uniform' and 'zeros'.
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        `(batch, dim1, dim2, dim3, channels)` (channels_last) or `(batch, channels, dim1, dim2,
        dim3)`.

    Output shape:
        `(batch, new_dim1, new_dim2, new_dim3, filters)` or `(batch, filters, new_dim1, ...)`.

    Example:
        >>> layer = Conv3DTranspose(4, 2, strides=2)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 4, 4, 4, 8)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (4,), 'kernel': (2, 2, 2, 4, 8)}, 'state': {}}
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=3, **_forward(locals()))


for _cls in (Conv1DTranspose, Conv2DTranspose, Conv3DTranspose):
    _cls.__doc__ = _cls.__doc__.replace("\n    Args:", _TRANSPOSE_SIZES + "\n    Args:", 1)


class DepthwiseConv1D(_DepthwiseConv):
    """1D depthwise convolution: each input channel convolved with its own filters.

    Input channel `c` gives output channels `c * depth_multiplier + m`, `m < depth_multiplier`.
    The kernel is named `kernel` as in Keras 3 (Keras 2: `depthwise_kernel`).

    Args:
        kernel_size: int or tuple of 1 int, the length of the window.
        strides: int or tuple of 1 int.
        padding: 'valid' or 'same' (case-insensitive).
        depth_multiplier: positive int, the number of outputs per input channel.
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 1 int, the dilation of the window.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector (of `channels * depth_multiplier` entries).
        depthwise_initializer, bias_initializer: defaults 'glorot_uniform' and 'zeros'.
        depthwise_regularizer, bias_regularizer: penalties added to the training loss.
        depthwise_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.

    Output shape:
        `(batch, new_steps, channels * depth_multiplier)` or the channels_first equivalent.

    Example:
        >>> layer = DepthwiseConv1D(3, depth_multiplier=2)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 10, 4)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (8,), 'kernel': (3, 4, 2)}, 'state': {}}
    """

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=1, **_forward(locals()))


class DepthwiseConv2D(_DepthwiseConv):
    """2D depthwise convolution: each input channel convolved with its own filters.

    Input channel `c` gives output channels `c * depth_multiplier + m`, `m < depth_multiplier`.
    The kernel is named `kernel` as in Keras 3 (Keras 2: `depthwise_kernel`).

    Args:
        kernel_size: int or tuple of 2 ints, the height and width of the window.
        strides: int or tuple of 2 ints.
        padding: 'valid' or 'same' (case-insensitive).
        depth_multiplier: positive int, the number of outputs per input channel.
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 2 ints, the dilation of the window.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector (of `channels * depth_multiplier` entries).
        depthwise_initializer, bias_initializer: defaults 'glorot_uniform' and 'zeros'.
        depthwise_regularizer, bias_regularizer: penalties added to the training loss.
        depthwise_constraint, bias_constraint: projections applied after each optimizer update.

    Input shape:
        `(batch, height, width, channels)` (channels_last) or `(batch, channels, height, width)`.

    Output shape:
        `(batch, new_height, new_width, channels * depth_multiplier)` or the channels_first
        equivalent.

    Example:
        >>> layer = DepthwiseConv2D(3, depth_multiplier=2)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 8, 8, 4)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (8,), 'kernel': (3, 3, 4, 2)}, 'state': {}}
    """

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=2, **_forward(locals()))


class SeparableConv1D(_SeparableConv):
    """1D separable convolution: a depthwise convolution, then a 1x1 one mixing the channels.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 1 int, the length of the depthwise window.
        strides: int or tuple of 1 int.
        padding: 'valid' or 'same' (case-insensitive).
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 1 int, the dilation of the depthwise window.
        depth_multiplier: positive int, the depthwise outputs per input channel.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector.
        depthwise_initializer, pointwise_initializer, bias_initializer: defaults
            'glorot_uniform', 'glorot_uniform' and 'zeros'.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer: loss penalties.
        depthwise_constraint, pointwise_constraint, bias_constraint: projections applied after
            each optimizer update.

    Input shape:
        `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.

    Output shape:
        `(batch, new_steps, filters)` (channels_last) or `(batch, filters, new_steps)`.

    Example:
        >>> layer = SeparableConv1D(8, 3, depth_multiplier=2)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 10, 4)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (8,), 'depthwise_kernel': (3, 4, 2), 'pointwise_kernel': (1, 8, 8)},
         'state': {}}
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=1, **_forward(locals()))


class SeparableConv2D(_SeparableConv):
    """2D separable convolution: a depthwise convolution, then a 1x1 one mixing the channels.

    Args:
        filters: positive int, the number of output channels.
        kernel_size: int or tuple of 2 ints, the height and width of the depthwise window.
        strides: int or tuple of 2 ints.
        padding: 'valid' or 'same' (case-insensitive).
        data_format: 'channels_last' or 'channels_first' (default: `image_data_format()`).
        dilation_rate: int or tuple of 2 ints, the dilation of the depthwise window.
        depth_multiplier: positive int, the depthwise outputs per input channel.
        activation: activation function or its name (default: none).
        use_bias: whether to add a bias vector.
        depthwise_initializer, pointwise_initializer, bias_initializer: defaults
            'glorot_uniform', 'glorot_uniform' and 'zeros'.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer: loss penalties.
        depthwise_constraint, pointwise_constraint, bias_constraint: projections applied after
            each optimizer update.

    Input shape:
        `(batch, height, width, channels)` (channels_last) or `(batch, channels, height, width)`.

    Output shape:
        `(batch, new_height, new_width, filters)` or `(batch, filters, new_height, new_width)`.

    Example:
        >>> layer = SeparableConv2D(16, 3)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 8, 8, 4)))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'bias': (16,), 'depthwise_kernel': (3, 3, 4, 1),
         'pointwise_kernel': (1, 1, 4, 16)}, 'state': {}}
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(rank=2, **_forward(locals()))


# Keras 2 (and Keras 3) alternative names.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
