"""`model.summary()`: Keras 3's box table of layers, output shapes and parameter counts."""

import numpy as np

_SEQ_WIDTHS = (31, 22, 13)
_FUNC_WIDTHS = (31, 22, 11, 24)


def _fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(" "), [], ""
    for word in words:
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _row(cells: list[list[str]], widths, aligns) -> list[str]:
    height = max(len(c) for c in cells)
    out = []
    for i in range(height):
        parts = []
        for cell, w, align in zip(cells, widths, aligns):
            text = cell[i] if i < len(cell) else ""
            parts.append(" " + (text.rjust(w) if align == "r" else text.ljust(w)) + " ")
        out.append("│" + "│".join(parts) + "│")
    return out


def _rule(widths, left, mid, right, fill) -> str:
    return left + mid.join(fill * (w + 2) for w in widths) + right


def _shape_str(layer) -> str:
    try:
        shape = layer.output_shape
    except (AttributeError, ValueError):
        return "?"
    return str(shape).replace(",)", ")") if isinstance(shape, tuple) and len(shape) == 1 else str(shape)


def _connections(layer, model) -> str:
    from fkeras.graph._tensor import nodes_of

    ids = {id(n) for n in model._graph.nodes}
    links = []
    for node in nodes_of(layer):
        if id(node) not in ids:
            continue
        for t in node.inputs:
            links.append(f"{t.node.layer.name}[{t.node.index}][{t._index}]")
    return ", ".join(links) if links else "-"


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False, **kwargs):
    del line_length, positions, expand_nested, show_trainable, kwargs
    from fkeras.models._sequential import Sequential

    print_fn = print_fn or print
    if isinstance(model, Sequential):
        model._require_graph("summary")
    functional = not isinstance(model, Sequential)
    widths = _FUNC_WIDTHS if functional else _SEQ_WIDTHS
    aligns = ("l", "l", "r", "l")[: len(widths)]
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    lines = [f'Model: "{model.name}"', _rule(widths, "┏", "┳", "┓", "━")]
    lines.append("┃" + "┃".join(
        " " + (h.rjust(w) if a == "r" else h.ljust(w)) + " " for h, w, a in zip(header, widths, aligns)
    ) + "┃")
    lines.append(_rule(widths, "┡", "╇", "┩", "━"))
    layers = model.layers
    for i, layer in enumerate(layers):
        params = layer.count_params() if layer.built else 0
        cells = [
            _wrap(f"{layer.name} ({type(layer).__name__})", widths[0]),
            _wrap(_shape_str(layer), widths[1]),
            [f"{params:,}"],
        ]
        if functional:
            cells.append(_wrap(_connections(layer, model), widths[3]))
        lines.extend(_row(cells, widths, aligns))
        if i < len(layers) - 1:
            lines.append(_rule(widths, "├", "┼", "┤", "─"))
    lines.append(_rule(widths, "└", "┴", "┘", "─"))
    views = model.weights
    total = sum(int(np.prod(w.shape)) for w in views)
    trainable = sum(int(np.prod(w.shape)) for w in views if w.trainable)
    itemsize = {w.path: np.dtype(w.dtype).itemsize for w in views}
    nbytes = sum(int(np.prod(w.shape)) * itemsize[w.path] for w in views)
    tbytes = sum(int(np.prod(w.shape)) * itemsize[w.path] for w in views if w.trainable)
    lines.append(f" Total params: {total:,} ({_fmt_bytes(nbytes)})")
    lines.append(f" Trainable params: {trainable:,} ({_fmt_bytes(tbytes)})")
    lines.append(f" Non-trainable params: {total - trainable:,} ({_fmt_bytes(nbytes - tbytes)})")
    for line in lines:
        print_fn(line)
