"""`Input` and `InputLayer`: where a functional graph starts."""

import numpy as np

from fkeras.graph import _tensor
from fkeras.layers._base import Layer
from fkeras.layers._spec import TensorSpec, standardize_dtype, standardize_shape


class InputLayer(Layer):
    """The layer behind `Input(...)`: no variables, one node with no inbound tensors.

    Args:
        shape: the shape of one sample, without the batch axis (Keras 2: `input_shape`).
        batch_size: optional fixed batch size.
        dtype: the dtype of the tensor (default `floatx()`).
        batch_shape: the full shape including the batch axis (Keras 2: `batch_input_shape`).
        name: the layer's name, which is also the input's name in dict-keyed data.
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        batch_shape=None,
        name=None,
        input_tensor=None,
        *,
        input_shape=None,
        batch_input_shape=None,
        **kwargs,
    ):
        if sparse is not None and not (isinstance(sparse, (bool, int, np.bool_)) and not sparse):
            raise ValueError(f"InputLayer: sparse inputs are not supported. Received: sparse={sparse!r}")
        if input_tensor is not None:
            raise ValueError(
                "InputLayer: `input_tensor` is not supported; pass the symbolic tensor to the "
                f"next layer instead. Received: input_tensor={input_tensor!r}"
            )
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape
        if shape is not None and batch_shape is not None:
            raise ValueError(
                "InputLayer: give `shape` or `batch_shape`, not both. "
                f"Received: shape={shape!r}, batch_shape={batch_shape!r}"
            )
        if shape is None and batch_shape is None:
            raise ValueError(
                "InputLayer needs a `shape` (one sample's shape, e.g. `Input(shape=(784,))`) "
                "or a `batch_shape`. Received: shape=None, batch_shape=None"
            )
        if batch_shape is None:
            from fkeras.models._fit_args import check_optional_positive_int  # no import cycle at load

            batch_size = check_optional_positive_int("batch_size", batch_size)
            batch_shape = (batch_size,) + standardize_shape(shape, "shape")
        elif isinstance(batch_shape, (int, np.integer, str)):
            raise TypeError(
                "InputLayer: `batch_shape` must be a tuple with the batch dimension first, e.g. "
                f"(None, 784). Received: batch_shape={batch_shape!r}"
            )
        batch_shape = standardize_shape(batch_shape, "batch_shape")
        if name is None:
            from fkeras import _naming

            name = _naming.uniquify("input_layer")
        super().__init__(name=name, dtype=standardize_dtype(dtype), batch_input_shape=batch_shape, **kwargs)
        self.sparse = False
        node = _tensor.add_node(self, None, {}, [], [TensorSpec(batch_shape, self.dtype)], [self.name])
        object.__setattr__(self, "_output_tensor", node.outputs[0])

    @property
    def batch_shape(self) -> tuple:
        return self.batch_input_shape

    @property
    def spec(self) -> TensorSpec:
        return TensorSpec(self.batch_input_shape, self.dtype)

    def compute_output_spec(self, input_spec, **kwargs):
        return self.spec

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        return inputs, {}

    def get_config(self) -> dict:
        return {
            "batch_shape": self.batch_input_shape,
            "dtype": self.dtype,
            "sparse": False,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("trainable", None)
        return cls(**config)


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None, batch_shape=None, **kwargs):
    """A symbolic tensor that starts a functional graph.

    Example:
        >>> x = Input(shape=(784,))
        >>> x.shape
        (None, 784)
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        name=name,
        input_tensor=tensor,
        **kwargs,
    )
    return layer._output_tensor
