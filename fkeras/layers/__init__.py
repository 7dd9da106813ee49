"""Layer specs: immutable configs with pure `init`/`apply` (see `_base.py`)."""

from fkeras.layers._base import Layer as Layer
from fkeras.layers._core import Activation as Activation
from fkeras.layers._core import Dense as Dense
from fkeras.layers._core import Dropout as Dropout
from fkeras.layers._core import Flatten as Flatten
from fkeras.layers._core import Reshape as Reshape
from fkeras.layers._input import Input as Input
from fkeras.layers._input import InputLayer as InputLayer
from fkeras.layers._spec import TensorSpec as TensorSpec
from fkeras.layers._serialization import deserialize as deserialize
from fkeras.layers._serialization import serialize as serialize
