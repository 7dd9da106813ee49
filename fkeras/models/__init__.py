"""Models: the functional `Model`, `Sequential`, and (later) loading and cloning."""

from fkeras.models._functional import Model as Model
from fkeras.models._sequential import Sequential as Sequential
