"""Utilities: `to_categorical`, `normalize`, `pad_sequences`, `Progbar`, `set_random_seed`, the
custom-object registry (`get_custom_objects`, `custom_object_scope`, ...), `Sequence`."""

from fkeras._custom_objects import CustomObjectScope as CustomObjectScope
from fkeras._custom_objects import custom_object_scope as custom_object_scope
from fkeras._custom_objects import get_custom_objects as get_custom_objects
from fkeras._custom_objects import get_registered_name as get_registered_name
from fkeras._custom_objects import get_registered_object as get_registered_object
from fkeras._custom_objects import register_keras_serializable as register_keras_serializable
from fkeras._random import set_random_seed as set_random_seed
from fkeras.utils._get_file import get_file as get_file
from fkeras.utils._np_utils import normalize as normalize
from fkeras.utils._np_utils import to_categorical as to_categorical
from fkeras.utils._image import array_to_img as array_to_img
from fkeras.utils._image import img_to_array as img_to_array
from fkeras.utils._image import load_img as load_img
from fkeras.utils._image import save_img as save_img
from fkeras.utils._padding import pad_sequences as pad_sequences
from fkeras.utils._progbar import Progbar as Progbar
from fkeras._traceback import disable_traceback_filtering as disable_traceback_filtering
from fkeras._traceback import enable_traceback_filtering as enable_traceback_filtering
from fkeras._traceback import is_traceback_filtering_enabled as is_traceback_filtering_enabled
from fkeras.utils._sequence import PyDataset as PyDataset
from fkeras.utils._sequence import Sequence as Sequence
from fkeras.utils._plot_model import model_to_dot as model_to_dot
from fkeras.utils._plot_model import plot_model as plot_model
