"""`Sequential`: a linear stack of layers, built as a functional model for you.

The graph is built as soon as the input shape is known: from `input_shape`/`input_dim`/
`batch_input_shape` on the first layer, an `Input`/`InputLayer` added first, or (deferred build)
the first data it sees in `fit`/`predict`/`evaluate` or a call. Each `add` calls only the new layer
on the current output, so a layer keeps one node per model it belongs to.
"""

from fkeras.graph import _graph
from fkeras.graph._tensor import KerasTensor, pop_node
from fkeras.layers._base import Layer
from fkeras.layers._input import InputLayer
from fkeras.layers._spec import TensorSpec
from fkeras.models._functional import Model


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: optional list of layers to add.
        name: the model's name.

    Example:
        >>> model = Sequential([Dense(32, input_shape=(784,)), Activation("relu"), Dense(10)])
        >>> model.output_shape
        (None, 10)
    """

    def __init__(self, layers=None, name=None, *, trainable=True, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._graph = None
        self._output_tensor = None
        self._init_trainer()
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError(
                    f"Sequential: `layers` must be a list of layers. Received: layers={layers!r}"
                )
            for layer in layers:
                self.add(layer)

    # ---- building -------------------------------------------------------------------------

    def add(self, layer) -> None:
        """Add a layer on top of the stack (a layer instance, or an `Input(...)` tensor first)."""
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                "The added layer must be an instance of class Layer. "
                f"Received: layer={layer!r} of type {type(layer).__name__}."
            )
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    f"Sequential model {self.name!r}: an InputLayer can only be the first layer."
                )
            self._input_layer = layer
            self._output_tensor = layer._output_tensor
            self._rebuild_graph()
            return
        if any(existing is layer for existing in self._layers):
            raise ValueError(f"Sequential model {self.name!r} already contains layer {layer.name!r}.")
        self._layers.append(layer)
        if self._output_tensor is None and len(self._layers) == 1:
            shape = getattr(layer, "batch_input_shape", None)
            if shape is not None:
                self._start_graph(shape, layer.dtype)
                return
        if self._output_tensor is not None:
            self._output_tensor = self._call_layer(layer, self._output_tensor)
            self._rebuild_graph()

    def _call_layer(self, layer, tensor):
        out = layer(tensor)
        if not isinstance(out, KerasTensor):
            raise ValueError(
                "All layers in a Sequential model should have a single output tensor. For "
                f"multi-output layers, use the functional API. Layer {layer.name!r} returned "
                f"{len(out) if isinstance(out, (list, tuple)) else out!r} outputs."
            )
        return out

    def _start_graph(self, batch_shape, dtype) -> None:
        from fkeras import _naming

        self._input_layer = InputLayer(
            batch_shape=tuple(batch_shape), dtype=dtype, name=_naming.uniquify(f"{self.name}_input")
        )
        tensor = self._input_layer._output_tensor
        for layer in self._layers:
            tensor = self._call_layer(layer, tensor)
        self._output_tensor = tensor
        self._rebuild_graph()

    def _rebuild_graph(self) -> None:
        inputs = self._input_layer._output_tensor
        self._inputs_struct = inputs
        self._outputs_struct = self._output_tensor
        self._graph = _graph.map_graph([inputs], [self._output_tensor])

    def build(self, input_shape=None) -> None:
        """Build the model for inputs of `input_shape` (including the batch axis)."""
        if self._graph is not None and self._layers:
            return
        if input_shape is None:
            raise ValueError(f"Sequential model {self.name!r}: `build` needs an `input_shape`.")
        if not self._layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers to build.")
        self._start_graph(tuple(input_shape), "float32")

    def _build_from_data(self, arrays) -> None:
        """Deferred build: the first data decides the input shape (any batch size)."""
        if self._graph is not None and self._layers:
            return
        if not self._layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers: add some before using it.")
        self._start_graph((None,) + tuple(arrays[0].shape[1:]), self._layers[0].dtype)

    def _require_graph(self, what: str) -> None:
        if self._graph is None or not self._layers:
            raise ValueError(
                f"Sequential model {self.name!r} has not been built yet, so `{what}` is not "
                "available. Give the first layer an `input_shape` (e.g. "
                "`Dense(32, input_shape=(784,))`), call `model.build(input_shape)`, or fit/call "
                "the model on data first."
            )

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        if self._graph is not None:
            pop_node(layer)
            if self._layers:
                self._output_tensor = self._layers[-1].output if len(self._layers[-1]._inbound_nodes) == 1 else self._layers[-1].get_output_at(-1)
                self._rebuild_graph()
            else:
                self._output_tensor = self._input_layer._output_tensor
                self._graph = None
        return layer

    # ---- structure: InputLayer is not listed (Keras's historical behaviour) ----------------

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def _weight_layers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def built(self) -> bool:
        return self._graph is not None and bool(self._layers)

    def _ensure_built(self, input_spec) -> None:
        if self._graph is None or not self._layers:
            if isinstance(input_spec, TensorSpec):
                self._start_graph((None,) + tuple(input_spec.shape[1:]), self._layers[0].dtype)
                return
        self._require_graph("call")
        super()._ensure_built(input_spec)

    def _call_eager(self, inputs, kwargs):
        if not self.built:
            import jax.numpy as jnp

            self._build_from_data([jnp.asarray(inputs)])
        return super()._call_eager(inputs, kwargs)

    @property
    def inputs(self):
        self._require_graph("inputs")
        return super().inputs

    @property
    def outputs(self):
        self._require_graph("outputs")
        return super().outputs

    @property
    def input_shape(self):
        self._require_graph("input_shape")
        return self._graph.inputs[0].shape

    @property
    def output_shape(self):
        self._require_graph("output_shape")
        return self._graph.outputs[0].shape

    @property
    def input(self):
        self._require_graph("input")
        return self._graph.inputs[0]

    @property
    def output(self):
        self._require_graph("output")
        return self._graph.outputs[0]

    def get_config(self) -> dict:
        from fkeras.models import _config_graph

        return _config_graph.sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from fkeras.models import _config_graph

        return _config_graph.sequential_from_config(cls, config, custom_objects)

