"""Keras 2's `keras.preprocessing` (Keras 3 keeps the path): `sequence.pad_sequences` and
`text.Tokenizer` with its helpers."""

from fkeras.preprocessing import sequence as sequence
from fkeras.preprocessing import text as text
