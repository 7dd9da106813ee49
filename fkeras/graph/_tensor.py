"""Symbolic tensors and the nodes that connect them.

A `Node` records one call event: layer `L` was called on these symbolic tensors and produced
those. Nodes are not layers: a layer called three times (a shared layer) has three nodes and one
set of weights. The tracer owns the nodes (a weak map from layer to its node list); calling a
layer never mutates the layer spec.

Each `KerasTensor` carries a tiny history record `(node, tensor_index)` naming the node that
produced it, which is all a `Model` needs to walk the graph back from its outputs.
"""

import weakref

_NUMERIC_USE = (
    "A symbolic tensor (the output of `Input(...)` or of a layer called on one) has no value: "
    "it only describes shape {shape} and dtype {dtype}. It cannot be converted to a NumPy array, "
    "a Python number or iterated. To compute with it, call a layer on it, or build a Model and "
    "call `model.predict(data)`."
)


class KerasTensor:
    """A symbolic tensor: read-only shape and dtype, plus the node that produced it.

    `==` and `bool()` answer identity (as Keras 2 did, so `layer.output == t` is a plain check).
    """

    __slots__ = ("_shape", "_dtype", "name", "_node", "_index", "__weakref__")

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0):
        self._shape = tuple(shape)
        self._dtype = str(dtype)
        self.name = name
        self._node = node
        self._index = index

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def spec(self):
        from fkeras.layers._spec import TensorSpec

        return TensorSpec(self._shape, self._dtype)

    @property
    def node(self):
        return self._node

    @property
    def _keras_history(self):
        """(layer, node_index, tensor_index), as Keras names it."""
        return (self._node.layer, self._node.index, self._index)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __hash__(self):
        return id(self)

    def __bool__(self):
        return True

    def _refuse(self, *_args, **_kwargs):
        raise TypeError(_NUMERIC_USE.format(shape=self._shape, dtype=self._dtype))

    __array__ = __iter__ = __float__ = __int__ = __index__ = __len__ = _refuse

    def __repr__(self) -> str:
        producer = f", name={self.name}" if self.name else ""
        return f"<KerasTensor shape={self._shape}, dtype={self._dtype}{producer}>"


class Node:
    """One call of `layer` on symbolic `args` (a nested structure with KerasTensor leaves)."""

    __slots__ = ("layer", "args", "kwargs", "inputs", "outputs", "index", "__weakref__")

    def __init__(self, layer, args, kwargs, inputs, outputs, index):
        self.layer = layer
        self.args = args  # call structure, KerasTensor leaves
        self.kwargs = kwargs  # non-tensor call keywords (e.g. training=False)
        self.inputs = inputs  # flat list of KerasTensors
        self.outputs = outputs  # flat list of KerasTensors
        self.index = index

    @property
    def parent_nodes(self) -> list["Node"]:
        return [t.node for t in self.inputs if t.node is not None]

    def __repr__(self) -> str:
        return f"<Node {self.layer.name}#{self.index}>"


_nodes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def nodes_of(layer) -> list[Node]:
    """The layer's inbound nodes, in call order."""
    return _nodes.get(layer, [])


def add_node(layer, args, kwargs, inputs, output_specs, output_names) -> Node:
    nodes = _nodes.setdefault(layer, [])
    node = Node(layer, args, kwargs, list(inputs), [], len(nodes))
    node.outputs = [
        KerasTensor(spec.shape, spec.dtype, name=name, node=node, index=i)
        for i, (spec, name) in enumerate(zip(output_specs, output_names))
    ]
    nodes.append(node)
    return node


def pop_node(layer) -> None:
    """Forget the layer's latest node (Sequential.pop)."""
    nodes = _nodes.get(layer)
    if nodes:
        nodes.pop()
