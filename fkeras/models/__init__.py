"""Models: the functional `Model`, `Sequential`, saving, loading and cloning."""

from fkeras.models._functional import Model as Model
from fkeras.models._sequential import Sequential as Sequential
from fkeras.models._json import model_from_config as model_from_config
from fkeras.models._json import model_from_json as model_from_json
from fkeras.saving import load_model as load_model
from fkeras.saving import save_model as save_model
from fkeras.models._cloning import clone_model as clone_model
