"""The tracer: symbolic tensors, nodes and the graph a functional model is built from."""

from fkeras.graph._tensor import KerasTensor as KerasTensor
from fkeras.graph._tensor import Node as Node
