"""Callbacks for `fit`, `evaluate` and `predict` (`keras.callbacks`).

Not provided yet: `SwapEMAWeights`.
"""

from fkeras.callbacks._backup import BackupAndRestore as BackupAndRestore
from fkeras.callbacks._callback import Callback as Callback
from fkeras.callbacks._callback import CallbackList as CallbackList
from fkeras.callbacks._callback import History as History
from fkeras.callbacks._checkpoint import ModelCheckpoint as ModelCheckpoint
from fkeras.callbacks._misc import CSVLogger as CSVLogger
from fkeras.callbacks._misc import LambdaCallback as LambdaCallback
from fkeras.callbacks._misc import LearningRateScheduler as LearningRateScheduler
from fkeras.callbacks._misc import RemoteMonitor as RemoteMonitor
from fkeras.callbacks._misc import TerminateOnNaN as TerminateOnNaN
from fkeras.callbacks._monitor import EarlyStopping as EarlyStopping
from fkeras.callbacks._monitor import MonitorCallback as MonitorCallback
from fkeras.callbacks._monitor import ReduceLROnPlateau as ReduceLROnPlateau
from fkeras.callbacks._progbar_logger import ProgbarLogger as ProgbarLogger
from fkeras.callbacks._tensorboard import TensorBoard as TensorBoard

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "TensorBoard",
    "TerminateOnNaN",
]
