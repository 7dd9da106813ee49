"""From recorded nodes to one pure program: the graph between a model's inputs and outputs.

`map_graph` walks back from the outputs once (iteratively) when a `Model` is built, checks the
graph (disconnected outputs, cycles, duplicate layer names) and orders the nodes by depth the
way Keras does, so `model.layers` and `model.get_weights()` come in Keras's order. `run` then
executes that fixed order; no graph walking happens per call.
"""

import jax

from fkeras.graph._tensor import KerasTensor, Node


def _is_kt(x) -> bool:
    return isinstance(x, KerasTensor)


class GraphMap:
    """The result of `map_graph`: nodes in execution order and layers in Keras's order."""

    def __init__(self, inputs, outputs, nodes, layers):
        self.inputs = inputs  # flat list of KerasTensor
        self.outputs = outputs  # flat list of KerasTensor
        self.nodes = nodes  # execution order (inputs' nodes excluded)
        self.layers = layers  # Keras order, InputLayers first


def map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> GraphMap:
    """Order the nodes between `inputs` and `outputs`; raise a ValueError for a bad graph."""
    input_ids = {id(t) for t in inputs}
    for t in inputs:
        if t.node is None or t.node.inputs:
            producer = t.node.layer.name if t.node else "nothing"
            raise ValueError(
                "Model inputs must come from `Input(...)` (an InputLayer). Received a tensor "
                f"produced by layer {producer!r}: {t!r}"
            )
    post_order: list[Node] = []  # nodes, parents before children
    layer_index: dict[int, int] = {}  # id(layer) -> first-visit order, as Keras numbers them
    layer_of: dict[int, object] = {}
    finished: set[int] = set()
    in_progress: set[int] = set()
    for out in outputs:
        stack = [(out.node, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in finished:
                continue
            if expanded:
                in_progress.discard(id(node))
                finished.add(id(node))
                post_order.append(node)
                continue
            if id(node) in in_progress:
                raise ValueError(f"The graph has a cycle through layer {node.layer.name!r}.")
            in_progress.add(id(node))
            if id(node.layer) not in layer_index:
                layer_index[id(node.layer)] = len(layer_index)
                layer_of[id(node.layer)] = node.layer
            stack.append((node, True))
            for t in reversed(node.inputs):
                if id(t) in input_ids:
                    if id(t.node) not in finished:
                        stack.append((t.node, False))
                    continue
                if not t.node.inputs:  # an Input that is not a model input
                    raise ValueError(
                        "Graph disconnected: cannot obtain value for tensor "
                        f"{t!r} at layer {t.node.layer.name!r}, which feeds layer "
                        f"{node.layer.name!r}. Add this Input to the model's `inputs`. "
                        f"Model inputs: {[x.node.layer.name for x in inputs]}"
                    )
                if id(t.node) not in finished:
                    stack.append((t.node, False))

    model_input_nodes = {id(t.node) for t in inputs}
    for node in post_order:
        if not node.inputs and id(node) not in model_input_nodes:
            raise ValueError(
                f"Graph disconnected: the output comes from Input {node.layer.name!r}, which is "
                f"not among the model's inputs {[x.node.layer.name for x in inputs]}."
            )
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:  # unused model inputs still belong to the model
        if id(t.node) not in node_depth:
            node_depth[id(t.node)] = 0
            layer_depth[id(t.node.layer)] = 0
            layer_index[id(t.node.layer)] = -1  # Keras 3 lists an unused input first at its depth
            layer_of[id(t.node.layer)] = t.node.layer
            post_order.append(t.node)

    by_depth: dict[int, list] = {}
    for lid, depth in layer_depth.items():
        by_depth.setdefault(depth, []).append(layer_of[lid])
    layers = []
    for depth in sorted(by_depth, reverse=True):
        layers.extend(sorted(by_depth[depth], key=lambda layer: layer_index[id(layer)]))
    names: dict[str, object] = {}
    for layer in layers:
        if layer.name in names and names[layer.name] is not layer:
            raise ValueError(
                f"The name {layer.name!r} is used 2 times in the model. All layer names should "
                "be unique."
            )
        names[layer.name] = layer

    order = {id(n): i for i, n in enumerate(post_order)}
    nodes = sorted(
        (n for n in post_order if n.inputs), key=lambda n: (-node_depth[id(n)], order[id(n)])
    )
    return GraphMap(list(inputs), list(outputs), nodes, layers)


def run(graph: GraphMap, call_layer, input_values: list, input_masks=None):
    """Execute the graph: `call_layer(node, args, kwargs, masks) -> (outputs, output_masks)`.

    `args` and `kwargs` are the node's call arguments with symbolic tensors replaced by values
    (a call keyword may hold a tensor, e.g. `initial_state=` or `mask=`); `masks` has the
    structure of `args` (None where a tensor has no mask). Returns the flat lists of output
    values and output masks.
    """
    values = {id(t): v for t, v in zip(graph.inputs, input_values)}
    masks = {id(t): m for t, m in zip(graph.inputs, input_masks or [None] * len(graph.inputs))}
    for node in graph.nodes:
        value_of = lambda t: values[id(t)] if isinstance(t, KerasTensor) else t  # noqa: E731
        args = jax.tree_util.tree_map(value_of, node.args, is_leaf=_is_kt)
        kwargs = {k: jax.tree_util.tree_map(value_of, v, is_leaf=_is_kt) for k, v in node.kwargs.items()}
        in_masks = jax.tree_util.tree_map(lambda t: _Box(masks.get(id(t))), node.args, is_leaf=_is_kt)
        outs, out_masks = call_layer(
            node, args, kwargs, jax.tree_util.tree_map(lambda b: b.value, in_masks, is_leaf=_is_box)
        )
        flat = jax.tree_util.tree_leaves(outs)
        flat_masks = _flat_masks(out_masks, len(flat))
        for t, v, m in zip(node.outputs, flat, flat_masks):
            values[id(t)] = v
            masks[id(t)] = m
    return [values[id(t)] for t in graph.outputs], [masks.get(id(t)) for t in graph.outputs]


class _Box:
    """Holds a possibly-None mask so tree_map keeps None entries in place."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _is_box(x) -> bool:
    return isinstance(x, _Box)


def _flat_masks(out_masks, n: int) -> list:
    if out_masks is None:
        return [None] * n
    if isinstance(out_masks, (list, tuple)):
        flat = list(out_masks)
        return flat + [None] * (n - len(flat))
    return [out_masks] + [None] * (n - 1)
