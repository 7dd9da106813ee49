"""Metrics: pure `init`/`update`/`compute` triples behind Keras's stateful `Metric` API."""

from fkeras.losses import binary_crossentropy as binary_crossentropy
from fkeras.losses import binary_focal_crossentropy as binary_focal_crossentropy
from fkeras.losses import categorical_crossentropy as categorical_crossentropy
from fkeras.losses import categorical_focal_crossentropy as categorical_focal_crossentropy
from fkeras.losses import categorical_hinge as categorical_hinge
from fkeras.losses import hinge as hinge
from fkeras.losses import huber as huber
from fkeras.losses import kl_divergence as kl_divergence
from fkeras.losses import log_cosh as log_cosh
from fkeras.losses import mean_absolute_error as mean_absolute_error
from fkeras.losses import mean_absolute_percentage_error as mean_absolute_percentage_error
from fkeras.losses import mean_squared_error as mean_squared_error
from fkeras.losses import mean_squared_logarithmic_error as mean_squared_logarithmic_error
from fkeras.losses import poisson as poisson
from fkeras.losses import sparse_categorical_crossentropy as sparse_categorical_crossentropy
from fkeras.losses import squared_hinge as squared_hinge
from fkeras.metrics._accuracy import Accuracy as Accuracy
from fkeras.metrics._accuracy import BinaryAccuracy as BinaryAccuracy
from fkeras.metrics._accuracy import CategoricalAccuracy as CategoricalAccuracy
from fkeras.metrics._accuracy import SparseCategoricalAccuracy as SparseCategoricalAccuracy
from fkeras.metrics._accuracy import SparseTopKCategoricalAccuracy as SparseTopKCategoricalAccuracy
from fkeras.metrics._accuracy import TopKCategoricalAccuracy as TopKCategoricalAccuracy
from fkeras.metrics._accuracy import accuracy as accuracy
from fkeras.metrics._accuracy import binary_accuracy as binary_accuracy
from fkeras.metrics._accuracy import categorical_accuracy as categorical_accuracy
from fkeras.metrics._accuracy import sparse_categorical_accuracy as sparse_categorical_accuracy
from fkeras.metrics._accuracy import (
    sparse_top_k_categorical_accuracy as sparse_top_k_categorical_accuracy,
)
from fkeras.metrics._accuracy import top_k_categorical_accuracy as top_k_categorical_accuracy
from fkeras.metrics._auc import AUC as AUC
from fkeras.metrics._base import Mean as Mean
from fkeras.metrics._base import MeanMetricWrapper as MeanMetricWrapper
from fkeras.metrics._base import Metric as Metric
from fkeras.metrics._base import State as State
from fkeras.metrics._base import Sum as Sum
from fkeras.metrics._confusion import FalseNegatives as FalseNegatives
from fkeras.metrics._confusion import FalsePositives as FalsePositives
from fkeras.metrics._confusion import Precision as Precision
from fkeras.metrics._confusion import PrecisionAtRecall as PrecisionAtRecall
from fkeras.metrics._confusion import Recall as Recall
from fkeras.metrics._confusion import RecallAtPrecision as RecallAtPrecision
from fkeras.metrics._confusion import SensitivityAtSpecificity as SensitivityAtSpecificity
from fkeras.metrics._confusion import SpecificityAtSensitivity as SpecificityAtSensitivity
from fkeras.metrics._confusion import TrueNegatives as TrueNegatives
from fkeras.metrics._confusion import TruePositives as TruePositives
from fkeras.metrics._iou import IoU as IoU
from fkeras.metrics._iou import BinaryIoU as BinaryIoU
from fkeras.metrics._iou import MeanIoU as MeanIoU
from fkeras.metrics._iou import OneHotIoU as OneHotIoU
from fkeras.metrics._iou import OneHotMeanIoU as OneHotMeanIoU
from fkeras.metrics._probabilistic import BinaryCrossentropy as BinaryCrossentropy
from fkeras.metrics._probabilistic import CategoricalCrossentropy as CategoricalCrossentropy
from fkeras.metrics._probabilistic import CategoricalHinge as CategoricalHinge
from fkeras.metrics._probabilistic import Hinge as Hinge
from fkeras.metrics._probabilistic import KLDivergence as KLDivergence
from fkeras.metrics._probabilistic import Poisson as Poisson
from fkeras.metrics._probabilistic import (
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
)
from fkeras.metrics._probabilistic import SquaredHinge as SquaredHinge
from fkeras.metrics._regression import CosineSimilarity as CosineSimilarity
from fkeras.metrics._regression import LogCoshError as LogCoshError
from fkeras.metrics._regression import MeanAbsoluteError as MeanAbsoluteError
from fkeras.metrics._regression import MeanAbsolutePercentageError as MeanAbsolutePercentageError
from fkeras.metrics._regression import MeanSquaredError as MeanSquaredError
from fkeras.metrics._regression import MeanSquaredLogarithmicError as MeanSquaredLogarithmicError
from fkeras.metrics._regression import RootMeanSquaredError as RootMeanSquaredError
from fkeras.metrics._regression import cosine_similarity as cosine_similarity
from fkeras.metrics._resolve import deserialize as deserialize
from fkeras.metrics._resolve import get as get
from fkeras.metrics._resolve import get_compile_metric as get_compile_metric
from fkeras.metrics._resolve import serialize as serialize

# Keras 2 short names of the functions (`metrics=[keras.metrics.mae]`).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
acc = accuracy
