"""Keras 3's `keras.dtype_policies`: a layer's variable and compute dtypes, by name.

See `fkeras.mixed_precision` for the global policy and loss scaling.
"""

from fkeras.mixed_precision._policy import DTypePolicy as DTypePolicy
from fkeras.mixed_precision._policy import FloatDTypePolicy as FloatDTypePolicy
from fkeras.mixed_precision._policy import deserialize as deserialize
from fkeras.mixed_precision._policy import get as get
from fkeras.mixed_precision._policy import serialize as serialize
