"""Keras 2's `keras.preprocessing` (Keras 3 keeps the path): `sequence.pad_sequences`,
`text.Tokenizer` with its helpers, and `image.ImageDataGenerator` with the image functions."""

from fkeras.preprocessing import image as image
from fkeras.preprocessing import sequence as sequence
from fkeras.preprocessing import text as text
