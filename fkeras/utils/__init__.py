"""Utilities: `to_categorical`, `normalize`, `Progbar`, `set_random_seed`."""

from fkeras._random import set_random_seed as set_random_seed
from fkeras.utils._np_utils import normalize as normalize
from fkeras.utils._np_utils import to_categorical as to_categorical
from fkeras.utils._progbar import Progbar as Progbar
