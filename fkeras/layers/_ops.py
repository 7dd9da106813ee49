"""Arithmetic on symbolic tensors: `x + y`, `2 * x`, `x[:, 0]` build graph nodes.

Keras 3's symbolic tensors support Python's operators by recording an operation node; fkeras
does the same with one small layer, `TensorOperation`, whose config names the operation (a key of
`OPERATIONS`) and holds an optional constant operand, so models using operators serialize.
`==` and `!=` are deliberately not operators here: on symbolic tensors they answer identity, as
Keras 2 did (`assert lstm.output == encoded_a`).
"""

import jax.numpy as jnp
import numpy as np

from fkeras.layers._base import Layer

OPERATIONS = {
    "add": jnp.add,
    "subtract": jnp.subtract,
    "multiply": jnp.multiply,
    "divide": jnp.true_divide,
    "floor_divide": jnp.floor_divide,
    "mod": jnp.mod,
    "power": jnp.power,
    "matmul": jnp.matmul,
    "less": jnp.less,
    "less_equal": jnp.less_equal,
    "greater": jnp.greater,
    "greater_equal": jnp.greater_equal,
    "logical_and": jnp.logical_and,
    "logical_or": jnp.logical_or,
    "negative": jnp.negative,
    "absolute": jnp.abs,
    "logical_not": jnp.logical_not,
}

_UNARY = {"negative", "absolute", "logical_not"}


def _plain(value):
    """A JSON-friendly constant operand (Python scalars, nested lists)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _check_operand(operation: str, operand) -> None:
    """A constant operand must be a number or a (nested list / array of) numbers."""
    if operand is None:
        return
    try:
        arr = np.asarray(operand)
        ok = arr.dtype.kind in "biuf"
        if ok and arr.dtype.kind in "iu":
            ok = bool(np.all(np.abs(arr.astype(np.float64)) < 2**31))  # fits JAX's int32
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise TypeError(
            f"Operation {operation!r} on a symbolic tensor needs a tensor, a number or an array "
            f"of numbers as its other operand. Received: operand={operand!r}"
        )


class TensorOperation(Layer):
    """One operation on symbolic tensors, recorded as a graph node.

    Args:
        operation: the name of the operation (a key of `OPERATIONS`, or 'getitem').
        operand: a constant second operand (for `x + 2`), or None when both are tensors.
        reverse: whether the constant comes first (`2 - x`).
        index: for 'getitem', the index as a JSON-friendly description.
    """

    def __init__(self, operation, operand=None, reverse=False, index=None, **kwargs):
        known = isinstance(operation, str) and (operation in OPERATIONS or operation == "getitem")
        if not known:
            raise ValueError(
                f"TensorOperation: unknown operation. Expected one of {sorted(OPERATIONS) + ['getitem']}. "
                f"Received: operation={operation!r}"
            )
        _check_operand(operation, operand)
        super().__init__(**kwargs)
        self.operation = operation
        self.operand = _plain(operand)
        self.reverse = bool(reverse)
        self.index = index

    def compute_output_spec(self, input_spec, **kwargs):
        # shape inference traces `apply`; a JAX error there means the inputs do not fit the
        # operation (shapes that do not broadcast, a bad index): say so with the user's shapes
        try:
            return super().compute_output_spec(input_spec, **kwargs)
        except (TypeError, ValueError, IndexError, OverflowError) as err:
            specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
            shapes = [s.shape for s in specs]
            what = {"getitem": f"index={_decode_index(self.index)!r}"}.get(
                self.operation, f"operand={self.operand!r}" if self.operand is not None else ""
            )
            raise ValueError(
                f"Operation {self.operation!r} on symbolic tensors of shapes {shapes} is invalid "
                f"(layer {self.name!r}){': ' + what if what else ''}. "
                f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
            ) from None

    def apply(self, variables, inputs, *, training=False, rng=None):
        del variables, training, rng
        if self.operation == "getitem":
            return inputs[_decode_index(self.index)], {}
        fn = OPERATIONS[self.operation]
        if self.operation in _UNARY:
            return fn(inputs), {}
        if isinstance(inputs, (list, tuple)):
            a, b = inputs
        else:
            a, b = inputs, jnp.asarray(self.operand, dtype=_operand_dtype(inputs, self.operand))
            if self.reverse:
                a, b = b, a
        return fn(a, b), {}

    def get_config(self):
        return {
            **super().get_config(),
            "operation": self.operation,
            "operand": self.operand,
            "reverse": self.reverse,
            "index": self.index,
        }


def _operand_dtype(x, operand):
    # a Python scalar takes the tensor's dtype (JAX's weak typing), as Keras does
    if isinstance(operand, (bool, int, float)):
        return x.dtype if not (isinstance(operand, float) and jnp.issubdtype(x.dtype, jnp.integer)) else None
    return None


def _encode_index(index):
    if isinstance(index, tuple):
        return {"tuple": [_encode_index(i) for i in index]}
    if isinstance(index, slice):
        return {"slice": [index.start, index.stop, index.step]}
    if index is None:
        return {"newaxis": True}
    if index is Ellipsis:
        return {"ellipsis": True}
    if isinstance(index, int):
        return int(index)
    raise TypeError(
        "Symbolic tensors can be indexed with ints, slices, None and Ellipsis. "
        f"Received: index={index!r}"
    )


def _decode_index(index):
    if isinstance(index, dict):
        if "tuple" in index:
            return tuple(_decode_index(i) for i in index["tuple"])
        if "slice" in index:
            return slice(*index["slice"])
        if "newaxis" in index:
            return None
        if "ellipsis" in index:
            return Ellipsis
    return index


def _binary(name, reverse=False):
    def method(self, other):
        from fkeras.graph._tensor import KerasTensor

        if isinstance(other, KerasTensor):
            pair = [other, self] if reverse else [self, other]
            return TensorOperation(name)(pair)
        return TensorOperation(name, operand=other, reverse=reverse)(self)

    return method


def _unary(name):
    def method(self):
        return TensorOperation(name)(self)

    return method


def _getitem(self, index):
    return TensorOperation("getitem", index=_encode_index(index))(self)


def install_operators(cls) -> None:
    """Give the symbolic tensor class Python's arithmetic operators (not == or !=)."""
    pairs = {
        "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
        "floordiv": "floor_divide", "mod": "mod", "pow": "power", "matmul": "matmul",
    }
    for dunder, name in pairs.items():
        setattr(cls, f"__{dunder}__", _binary(name))
        setattr(cls, f"__r{dunder}__", _binary(name, reverse=True))
    for dunder, name in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"),
                         ("and", "logical_and"), ("or", "logical_or")):
        setattr(cls, f"__{dunder}__", _binary(name))
    setattr(cls, "__neg__", _unary("negative"))
    setattr(cls, "__abs__", _unary("absolute"))
    setattr(cls, "__invert__", _unary("logical_not"))
    setattr(cls, "__getitem__", _getitem)


def _install() -> None:
    from fkeras.graph._tensor import KerasTensor

    install_operators(KerasTensor)


_install()
