"""fkeras: the Keras API on JAX, with pure-function layers.

    import fkeras as keras
    model = keras.Sequential([keras.layers.Dense(10, activation="softmax", input_shape=(64,))])
"""

__version__ = "0.1.0"

from fkeras import activations as activations
from fkeras import backend as backend
from fkeras import callbacks as callbacks
from fkeras import config as config
from fkeras import constraints as constraints
from fkeras import datasets as datasets
from fkeras import distribution as distribution
from fkeras import dtype_policies as dtype_policies
from fkeras import initializers as initializers
from fkeras import layers as layers
from fkeras import losses as losses
from fkeras import metrics as metrics
from fkeras import mixed_precision as mixed_precision
from fkeras import models as models
from fkeras import ops as ops
from fkeras import optimizers as optimizers
from fkeras import preprocessing as preprocessing
from fkeras import regularizers as regularizers
from fkeras import saving as saving
from fkeras import utils as utils
from fkeras.layers import Input as Input
from fkeras.layers import InputSpec as InputSpec
from fkeras.layers import Layer as Layer
from fkeras.models import Model as Model
from fkeras.models import Sequential as Sequential
