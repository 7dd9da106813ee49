"""Keras's small datasets, read from the files Keras caches, without network or pickle.

`fkeras.datasets.X.load_data(...)` has Keras's signature and returns Keras's arrays. Files are
read from `$FKERAS_DATA`, else `$KERAS_HOME/datasets`, else `~/.keras/datasets` (where Keras
caches them, under the same names). A missing file raises `DatasetNotFoundError` (a
`FileNotFoundError`) saying which file, where it was looked for and the URL to get it from;
nothing is downloaded unless a loader gets `download=True` or `FKERAS_DOWNLOAD=1` is set. Data
files are never unpickled by Python's or numpy's unrestricted unpickler (see `_files`).
"""

from fkeras.datasets import boston_housing as boston_housing
from fkeras.datasets import cifar10 as cifar10
from fkeras.datasets import cifar100 as cifar100
from fkeras.datasets import digits as digits
from fkeras.datasets import fashion_mnist as fashion_mnist
from fkeras.datasets import imdb as imdb
from fkeras.datasets import mnist as mnist
from fkeras.datasets import reuters as reuters
from fkeras.datasets._files import DatasetNotFoundError as DatasetNotFoundError
from fkeras.datasets._files import data_dir as data_dir
from fkeras.datasets._files import get_file as get_file
