"""Keras 2's `keras.preprocessing.sequence`: `pad_sequences` (also `fkeras.utils.pad_sequences`)."""

from fkeras.utils._padding import pad_sequences as pad_sequences
