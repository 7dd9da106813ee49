"""`plot_model` and `model_to_dot`: a model's layer graph in Graphviz's DOT language.

The graph is written as DOT text by fkeras itself, from the nodes the tracer recorded: one box
per layer of the model (Keras 2's record-shaped boxes, `name: ClassName`, optionally with the
input and output shapes and the dtype), one arrow per connection between layers, each drawn
once however many tensors flow along it. `expand_nested=True` draws a nested model as a dashed
cluster of its own layers, with the arrows going to its input layers and leaving from the
layers that produce its outputs.

Rendering needs Graphviz: a `.dot` (or `.gv`) file is the DOT text itself and needs nothing;
`.png`, `.svg`, `.pdf` and the other Graphviz formats are drawn by the `dot` program when it is
on the PATH, else through the `pydot` package (which finds Graphviz its own ways), else
`plot_model` raises ImportError saying what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from fkeras.graph._tensor import KerasTensor, nodes_of

_NO_RENDERER = (
    "You must install {what} for `plot_model` to render {fmt!r} files. Without Graphviz, "
    "write the graph as DOT source instead: `plot_model(model, to_file='model.dot')`."
)
_PYDOT_AND_GRAPHVIZ = (
    "pydot (`pip install pydot`) and graphviz (see instructions at "
    "https://graphviz.gitlab.io/download/)"
)
_GRAPHVIZ = "graphviz (see instructions at https://graphviz.gitlab.io/download/)"
_NOT_BUILT = (
    "This model has not yet been built. Build the model first by calling `build()` or by "
    "calling the model on a batch of data. Received: model={name!r}"
)
_TEXT_FORMATS = ("dot", "gv")
_RECORD_SPECIAL = str.maketrans({c: "\\" + c for c in '{}|<>"\\'})


def _shapes(struct):
    """The shapes in a call structure: one tuple, or a list/dict of them."""
    if isinstance(struct, KerasTensor):
        return struct.shape
    if isinstance(struct, dict):
        return {k: _shapes(v) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        shapes = [_shapes(v) for v in struct]
        return shapes[0] if len(shapes) == 1 else shapes
    return None


def _graph_of(model):
    graph = getattr(model, "_graph", None)
    if graph is None:
        raise ValueError(_NOT_BUILT.format(name=getattr(model, "name", model)))
    return graph


def _is_model(layer) -> bool:
    return getattr(layer, "_graph", None) is not None and hasattr(layer, "_flatten_inputs")


class _DotBuilder:
    """Collects the DOT lines of a model and its expanded nested models."""

    def __init__(self, show_shapes, show_dtype, show_layer_names, expand_nested,
                 show_layer_activations):
        self.show_shapes = show_shapes
        self.show_dtype = show_dtype
        self.show_layer_names = show_layer_names
        self.expand_nested = expand_nested
        self.show_layer_activations = show_layer_activations
        self._ids: dict[int, str] = {}  # id(layer) -> DOT node id
        self._taken: set[str] = set()
        self._clusters: set[str] = set()

    def node_id(self, layer) -> str:
        """The layer's DOT id: its name, suffixed if another layer object already has it."""
        key = id(layer)
        if key not in self._ids:
            name, n = layer.name, 1
            while name in self._taken:
                n += 1
                name = f"{layer.name}_{n}"
            self._taken.add(name)
            self._ids[key] = name
        return self._ids[key]

    def model_lines(self, model, indent: str) -> list[str]:
        """Node and edge statements for `model`'s graph (clusters for nested models)."""
        graph = _graph_of(model)
        lines: list[str] = []
        for layer in graph.layers:
            if self.expand_nested and _is_model(layer):
                lines.extend(self.cluster_lines(layer, indent))
            else:
                label = self.label(layer, self._nodes_in(model, layer))
                lines.append(f'{indent}{_quote(self.node_id(layer))} [label={_quote(label)}];')
        edges: list[tuple[str, str]] = []
        for node in graph.nodes:
            for tensor in node.inputs:
                src = self._source(tensor)
                dst = self._destination(node, tensor)
                edge = (self.node_id(src), self.node_id(dst))
                if edge not in edges:
                    edges.append(edge)
        lines.extend(f"{indent}{_quote(a)} -> {_quote(b)};" for a, b in edges)
        return lines

    def cluster_lines(self, model, indent: str) -> list[str]:
        name, n = f"cluster_{model.name}", 1
        while name in self._clusters:
            n += 1
            name = f"cluster_{model.name}_{n}"
        self._clusters.add(name)
        inner = indent + "  "
        return [
            f"{indent}subgraph {_quote(name)} {{",
            f"{inner}label={_quote(model.name)};",
            f'{inner}labeljust="l";',
            f'{inner}style="dashed";',
            *self.model_lines(model, inner),
            f"{indent}}}",
        ]

    def _source(self, tensor):
        """The layer that produced `tensor`, looking inside nested models when expanded."""
        layer, index = tensor.node.layer, tensor._index
        while self.expand_nested and _is_model(layer):
            inner = _graph_of(layer).outputs[_output_position(layer, index)]
            layer, index = inner.node.layer, inner._index
        return layer

    def _destination(self, node, tensor):
        """The box the edge from `tensor` into `node` ends at (a nested model's InputLayer)."""
        layer = node.layer
        while self.expand_nested and _is_model(layer):
            flat = layer._flatten_inputs(node.args)
            matches = [k for k, t in enumerate(flat) if t is tensor]
            k = matches[0] if matches else 0
            node = _graph_of(layer).inputs[k].node
            layer = node.layer
        return layer

    @staticmethod
    def _nodes_in(model, layer) -> list:
        graph = _graph_of(model)
        members = {id(n) for n in graph.nodes} | {id(t.node) for t in graph.inputs}
        return [n for n in nodes_of(layer) if id(n) in members]

    def label(self, layer, nodes) -> str:
        class_name = type(layer).__name__
        layer_name = layer.name
        inner = getattr(layer, "layer", None)
        if inner is not None and hasattr(inner, "name"):  # wrappers: TimeDistributed(Dense)
            layer_name = f"{layer_name}({inner.name})"
            class_name = f"{class_name}({type(inner).__name__})"
        label = _escape(f"{layer_name}: {class_name}" if self.show_layer_names else class_name)
        activation = getattr(layer, "activation", None)
        if self.show_layer_activations and activation is not None:
            label = f"{{{label}|{_escape(_activation_name(activation))}}}"
        if self.show_dtype:
            label = f"{label}|{_escape(str(layer.dtype))}"
        if self.show_shapes:
            outputs = _format_over_nodes([_shapes(n.outputs) for n in nodes])
            if nodes and not nodes[0].inputs:  # an InputLayer: its input is its output
                inputs = outputs
            else:
                inputs = _format_over_nodes([_shapes(n.args) for n in nodes])
            label = (f"{{{label}}}|{{input:|output:}}|"
                     f"{{{{{_escape(inputs)}}}|{{{_escape(outputs)}}}}}")
        return label


def _output_position(model, index: int) -> int:
    """Where the `index`-th output tensor of a call of `model` is among its graph's outputs.

    A call's outputs are flattened as a pytree, so outputs given as a dict come in key order.
    """
    struct = getattr(model, "_outputs_struct", None)
    if isinstance(struct, dict):
        return list(struct).index(sorted(struct)[index])
    return index


def _format_over_nodes(shapes: list) -> str:
    """One shape for all of a layer's calls in the model, 'multiple' if they differ."""
    if not shapes:
        return "?"
    if any(s != shapes[0] for s in shapes[1:]):
        return "multiple"
    return str(shapes[0])


def _activation_name(activation) -> str:
    from fkeras import activations

    try:
        name = activations.serialize(activation)
    except (TypeError, ValueError):
        name = None
    if isinstance(name, str):
        return name
    return getattr(activation, "__name__", str(activation))


def _escape(text: str) -> str:
    """Escapes the characters a record label gives meaning to (and the DOT string quote)."""
    return text.translate(_RECORD_SPECIAL)


def _quote(text: str) -> str:
    """A DOT string literal. Record labels arrive already escaped, so only bare quotes remain."""
    if "\\" in text or '"' in text:
        out, i = [], 0
        while i < len(text):
            if text[i] == "\\" and i + 1 < len(text):
                out.append(text[i:i + 2])  # keep the label's own escapes as they are
                i += 2
                continue
            out.append('\\"' if text[i] == '"' else text[i])
            i += 1
        text = "".join(out)
    return f'"{text}"'


def _check_kwargs(kwargs: dict) -> None:
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is not supported by fkeras's plot_model.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {sorted(kwargs)}")


def dot_source(
    model,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 96,
    subgraph: bool = False,
    show_layer_activations: bool = False,
) -> str:
    """The DOT text of the model's graph (what `model_to_dot` returns without pydot)."""
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(
            f"`rankdir` must be one of 'TB', 'LR', 'BT', 'RL'. Received: rankdir={rankdir!r}"
        )
    builder = _DotBuilder(show_shapes, show_dtype, show_layer_names, expand_nested,
                          show_layer_activations)
    _graph_of(model)
    if subgraph:
        return "\n".join(builder.cluster_lines(model, "")) + "\n"
    lines = [
        "digraph G {",
        f"  rankdir={_quote(rankdir)};",
        "  concentrate=true;",
        f"  dpi={int(dpi)};",
        "  node [shape=record];",
        *builder.model_lines(model, "  "),
        "}",
    ]
    return "\n".join(lines) + "\n"


def model_to_dot(
    model,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 96,
    subgraph: bool = False,
    show_layer_activations: bool = False,
    **kwargs: Any,
):
    """Converts a model to DOT format (Keras's `keras.utils.model_to_dot`).

    Args:
        model: a built functional or Sequential model.
        show_shapes: show each layer's input and output shapes ('multiple' for a layer called
            several times in the model with different shapes).
        show_dtype: show each layer's dtype.
        show_layer_names: show each layer's name beside its class name.
        rankdir: Graphviz's layout direction: 'TB' (vertical) or 'LR' (horizontal), or 'BT',
            'RL'.
        expand_nested: draw nested models as dashed clusters of their layers.
        dpi: the image resolution in dots per inch.
        subgraph: return the model as a cluster (a `subgraph cluster_...` block) to be put
            inside another graph.
        show_layer_activations: show the activation of layers that have one.
        **kwargs: `layer_range=None` only (Keras 2.9's option is not supported).

    Returns:
        A `pydot.Dot` when the `pydot` package is installed (`pydot.Subgraph` with
        `subgraph=True`), as Keras returns; otherwise the DOT source as a string.

    Raises:
        ValueError: the model is not built (a Sequential without an input shape), or a bad
            argument.
    """
    _check_kwargs(kwargs)
    text = dot_source(model, show_shapes, show_dtype, show_layer_names, rankdir,
                      expand_nested, dpi, subgraph, show_layer_activations)
    pydot = _import_pydot()
    if pydot is None:
        return text
    if subgraph:
        return pydot.graph_from_dot_data("digraph G {\n" + text + "}\n")[0].get_subgraph_list()[0]
    return pydot.graph_from_dot_data(text)[0]


def plot_model(
    model,
    to_file: str | os.PathLike = "model.png",
    show_shapes: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 96,
    *,
    show_dtype: bool = False,
    show_layer_activations: bool = False,
    **kwargs: Any,
):
    """Converts a model to DOT format and saves it to a file (Keras's `keras.utils.plot_model`).

    The positional order is Keras 2's (`model, to_file, show_shapes, show_layer_names, rankdir,
    expand_nested, dpi`); `show_dtype` and `show_layer_activations` are keyword-only.

    Args:
        model: a built functional or Sequential model.
        to_file: the file to write. Its extension picks the format: `.dot`/`.gv` write the DOT
            text (no Graphviz needed); `.png`, `.svg`, `.pdf`, `.jpg`, ... are rendered by
            Graphviz. No extension means PNG.
        show_shapes, show_layer_names, rankdir, expand_nested, dpi, show_dtype,
        show_layer_activations: as in `model_to_dot`.
        **kwargs: `layer_range=None` only.

    Returns:
        An `IPython.display.Image` of a PNG/JPEG/GIF file when IPython is installed (so a
        notebook shows the plot), else None.

    Raises:
        ImportError: the format needs Graphviz and neither the `dot` program nor pydot is
            available.
        OSError: Graphviz failed to render the file.
        ValueError: the model is not built, or a bad argument.

    Example:
        >>> plot_model(model, to_file="model.dot", show_shapes=True)  # needs no Graphviz
    """
    _check_kwargs(kwargs)
    text = dot_source(model, show_shapes, show_dtype, show_layer_names, rankdir,
                      expand_nested, dpi, False, show_layer_activations)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    if extension in _TEXT_FORMATS:
        with open(to_file, "w", encoding="utf-8") as f:
            f.write(text)
        return None
    _render(text, to_file, extension)
    if extension in ("png", "jpg", "jpeg", "gif"):
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None


def _import_pydot():
    try:
        import pydot
    except ImportError:
        return None
    return pydot


def _render(text: str, to_file: str, fmt: str) -> None:
    """Draws DOT `text` into `to_file` with Graphviz: its `dot` program, else pydot."""
    program = shutil.which("dot")
    if program is not None:
        result = subprocess.run(  # a fixed program and arguments, no shell
            [program, f"-T{fmt}", "-o", to_file], input=text.encode("utf-8"),
            capture_output=True, check=False,
        )
        if result.returncode != 0:
            raise OSError(
                f"Graphviz's `dot` could not render {to_file!r} as {fmt!r}: "
                f"{result.stderr.decode('utf-8', 'replace').strip()}"
            )
        return
    pydot = _import_pydot()
    if pydot is None:
        raise ImportError(_NO_RENDERER.format(what=_PYDOT_AND_GRAPHVIZ, fmt=fmt))
    graph = pydot.graph_from_dot_data(text)[0]
    failures = (AssertionError,) + tuple(  # how pydot versions report a failed `dot` run
        e for e in (getattr(pydot, "PydotException", None),) if isinstance(e, type))
    try:
        graph.write(to_file, format=fmt)
    except FileNotFoundError as err:  # pydot found no Graphviz program
        raise ImportError(_NO_RENDERER.format(what=_GRAPHVIZ, fmt=fmt)) from err
    except failures as err:
        raise OSError(f"Graphviz could not render {to_file!r} as {fmt!r}: {err}") from err
