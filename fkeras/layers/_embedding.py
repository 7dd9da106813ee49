"""Embedding: integer indices to dense vectors, with Keras's `mask_zero` padding mask."""

import jax.numpy as jnp
import numpy as np

from fkeras import constraints, initializers, regularizers
from fkeras.layers._base import Layer
from fkeras.layers._core import _serialize
from fkeras.layers._spec import TensorSpec, as_bool


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r} "
            f"(of type {type(value).__name__})."
        )
    return int(value)


class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors: `outputs = embeddings[inputs]`.

    Args:
        input_dim: the vocabulary size (largest index + 1).
        output_dim: the size of each embedding vector.
        embeddings_initializer: default 'uniform' (`RandomUniform(-0.05, 0.05)`).
        embeddings_regularizer: penalty on the embeddings matrix.
        embeddings_constraint: projection of the embeddings matrix after each update.
        mask_zero: index 0 is padding: the layer outputs the mask `inputs != 0` for the
            layers after it (RNNs skip those steps). Index 0 is then not a word, so
            `input_dim` should be the vocabulary size + 1.
        weights: Keras 2's initial weights: `[matrix]` (or the matrix itself).
        input_length: Keras 2: the length of the input sequences; on a first layer it sets
            the input shape `(input_length,)`.

    Float indices are cast to int32 (as Keras 3 does); out-of-range indices give NaN rows
    (`jnp.take`'s fill mode, as in Keras 3 on JAX).

    Input shape: `(batch, ...)` integer indices. Output shape: `(batch, ..., output_dim)`.

    Example:
        >>> layer = Embedding(1000, 64)
        >>> v = layer.init(jax.random.key(0), TensorSpec((None, 10), "int32"))
        >>> jax.tree.map(jnp.shape, v)
        {'params': {'embeddings': (1000, 64)}, 'state': {}}
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        input_length=None,
        **kwargs,
    ):
        input_dim = _positive(input_dim, "input_dim")
        output_dim = _positive(output_dim, "output_dim")
        if input_length is not None:
            lengths = input_length if isinstance(input_length, (list, tuple)) else (input_length,)
            if not all(n is None or (isinstance(n, (int, np.integer)) and n > 0) for n in lengths):
                raise ValueError(
                    "`input_length` must be a positive integer (or None). "
                    f"Received: input_length={input_length!r}"
                )
            if not any(k in kwargs for k in ("input_shape", "batch_input_shape", "batch_shape")):
                kwargs["input_shape"] = tuple(lengths)
        if weights is not None and not (isinstance(weights, (list, tuple)) and len(weights) == 1):
            weights = [weights]
        # `input_dim` is the vocabulary size here, never the base class's input shape.
        super().__init__(weights=weights, **kwargs)
        self.autocast = False  # indices stay as given: a float16 cast would round 2049.0 to 2048
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get_or_default(embeddings_initializer, "uniform")
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = as_bool(self, "mask_zero", mask_zero)

    @property
    def supports_masking(self) -> bool:
        return self.mask_zero

    def _check(self, spec) -> None:
        if not isinstance(spec, TensorSpec):
            raise TypeError(
                f"Layer {self.name!r} (Embedding) expects a single tensor of indices. "
                f"Received: {spec!r}"
            )

    def init(self, rng, input_spec):
        self._check(input_spec)
        shape = (self.input_dim, self.output_dim)
        return {
            "params": {"embeddings": self.embeddings_initializer(shape, self.dtype, key=rng)},
            "state": {},
        }

    def compute_output_spec(self, input_spec, **kwargs):
        self._check(input_spec)
        return TensorSpec(tuple(input_spec.shape) + (self.output_dim,), self.dtype)

    def apply(self, variables, inputs, *, training=False, rng=None):
        del training, rng
        x = jnp.asarray(inputs)
        if x.dtype not in (jnp.int32, jnp.int64):
            x = x.astype(jnp.int32)
        out = jnp.take(variables["params"]["embeddings"], x, axis=0)
        return out.astype(self.dtype), {}

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return jnp.not_equal(jnp.asarray(inputs), 0)

    def penalty(self, params):
        if self.embeddings_regularizer is None:
            return 0.0
        return self.embeddings_regularizer(params["embeddings"])

    def constrain(self, params):
        if self.embeddings_constraint is None:
            return params
        return {**params, "embeddings": self.embeddings_constraint(params["embeddings"])}

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": _serialize(regularizers, self.embeddings_regularizer),
            "embeddings_constraint": _serialize(constraints, self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }
