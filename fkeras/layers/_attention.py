"""Attention layers: Attention (Luong-style dot-product) and MultiHeadAttention.

Both take their tensors as one list, `[query, value]` or `[query, value, key]` (key defaults
to value), and one mask per tensor (`(batch, steps)` booleans). `MultiHeadAttention` can also be
called Keras-style with separate arguments, `mha(query, value, key=None, ...)`.
"""

import math
import string

import jax
import jax.numpy as jnp
import jax.scipy.special
import numpy as np

from fkeras import constraints, initializers, regularizers
from fkeras.graph._tensor import KerasTensor
from fkeras.layers._base import Layer
from fkeras.layers._core import _serialize
from fkeras.layers._spec import TensorSpec, as_bool

MSG_ATTENTION_NEEDS_RNG = (
    "{cls} layer {name!r} has dropout={rate} and was applied with training=True but no `rng`. "
    "Pass a PRNG key:\n"
    "    outputs, state = layer.apply(\n"
    "        variables, [query, value], training=True, rng=jax.random.key(0))\n"
    "or apply with training=False (no dropout at inference)."
)


def _dropout(layer: Layer, weights, rate: float, training: bool, rng):
    """Inverted dropout on the attention weights (Keras's `backend.random.dropout` rule)."""
    if not training or rate == 0:
        return weights
    if rng is None:
        raise ValueError(
            MSG_ATTENTION_NEEDS_RNG.format(cls=type(layer).__name__, name=layer.name, rate=rate)
        )
    if rate == 1:
        return jnp.zeros_like(weights)
    keep = jax.random.bernoulli(rng, 1.0 - rate, weights.shape)
    return jnp.where(keep, weights / (1.0 - rate), jnp.zeros_like(weights))


def _check_rate(cls: str, rate) -> float:
    ok = isinstance(rate, (int, float, np.integer, np.floating)) and not isinstance(rate, bool)
    if not ok or not 0 <= rate <= 1:
        raise ValueError(f"{cls}: `dropout` must be a float in [0, 1]. Received: dropout={rate!r}")
    return float(rate)


def _qvk(layer: Layer, inputs, what: str = "inputs") -> tuple:
    """`(query, value, key)` from a list `[q, v]`/`[q, v, k]` (key None when absent)."""
    if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
        if isinstance(inputs, (list, tuple)):
            got = f"a list of {len(inputs)} with shapes {[_shape(t) for t in inputs]}"
        else:
            got = f"a single tensor of shape {_shape(inputs)}"
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) must be called on a list of "
            f"[query, value] or [query, value, key]. Received: {what}={got}"
        )
    for t in inputs:
        if not hasattr(t, "shape"):
            raise ValueError(
                f"Layer {layer.name!r} ({type(layer).__name__}): query, value and key must each be "
                f"one tensor. Received: {what} with shapes {[_shape(t) for t in inputs]}"
            )
    return inputs[0], inputs[1], (inputs[2] if len(inputs) == 3 else None)


def _shape(t):
    return tuple(t.shape) if hasattr(t, "shape") else type(t).__name__


def _bool(m):
    return None if m is None else jnp.asarray(m).astype(bool)


# ---- Attention ----------------------------------------------------------------------------


class Attention(Layer):
    """Dot-product attention (Luong style): `softmax(query @ key^T) @ value`.

    Args:
        use_scale: learn a scalar `scale` multiplying the scores (default False).
        score_mode: 'dot' (`query @ key^T`) or 'concat' (`sum(tanh(query + key))`, scaled by
            the learned scalar `concat_score_weight`).
        dropout: fraction of the attention weights dropped while training.
        seed: accepted for Keras compatibility; randomness comes from the `rng` of `apply`.
        causal: Keras 2's spelling of `use_causal_mask=True` on every call.

    Call arguments:
        inputs: `[query (B, Tq, dim), value (B, Tv, dim_v)]` or `[query, value, key (B, Tv, dim)]`.
        mask: `[query_mask (B, Tq), value_mask (B, Tv)]` (entries may be None): masked values
            get no attention, masked query steps give zeros.
        return_attention_scores: also return the attention weights `(B, Tq, Tv)`.
        use_causal_mask: query step `i` attends only to value steps `j <= i`.

    Output shape: `(B, Tq, dim_v)` (and `(B, Tq, Tv)` for the scores).
    """

    supports_masking = True

    def __init__(
        self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, causal=False, **kwargs
    ):
        if not isinstance(score_mode, str) or score_mode not in ("dot", "concat"):
            raise ValueError(
                "Attention: invalid value for argument `score_mode`, expected one of "
                f"{{'dot', 'concat'}}. Received: score_mode={score_mode!r}"
            )
        dropout = _check_rate("Attention", dropout)
        super().__init__(**kwargs)
        self.use_scale = as_bool(self, "use_scale", use_scale)
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        # Keras 2's constructor form of `use_causal_mask=True`
        self.causal = as_bool(self, "causal", causal)

    def _check(self, input_spec) -> tuple:
        q, v, k = _qvk(self, input_spec)
        k = v if k is None else k
        shapes = [s.shape for s in (q, v, k)]
        ok = all(s.ndim >= 3 for s in (q, v, k)) and q.ndim == v.ndim == k.ndim
        known = [
            (a, b)
            for a, b in ((q.shape[-1], k.shape[-1]), (v.shape[-2], k.shape[-2]))
            if None not in (a, b)
        ]
        if not ok or any(a != b for a, b in known):
            raise ValueError(
                f"Layer {self.name!r} (Attention) expects query (B, Tq, dim), value (B, Tv, dim_v) "
                f"and key (B, Tv, dim) of equal rank >= 3. "
                f"Received: shapes [query, value, key]={shapes}"
            )
        return q, v, k

    def init(self, rng, input_spec):
        self._check(input_spec)
        params = {}
        if self.use_scale:
            params["scale"] = jnp.ones((), self.dtype)
        if self.score_mode == "concat":
            params["concat_score_weight"] = jnp.ones((), self.dtype)
        return {"params": params, "state": {}}

    def compute_output_spec(self, input_spec, return_attention_scores=False, **kwargs):
        q, v, k = self._check(input_spec)
        out = TensorSpec(q.shape[:-1] + v.shape[-1:], self.dtype)
        if return_attention_scores:
            return out, TensorSpec(q.shape[:-1] + (k.shape[-2],), self.dtype)
        return out

    def check_input_spec(self, built_spec, input_spec):
        self._check(input_spec)

    def _scores(self, params, q, k):
        scale = params.get("scale")
        if self.score_mode == "dot":
            scores = jnp.matmul(q, jnp.swapaxes(k, -2, -1))
            return scores if scale is None else scores * scale
        total = q[..., :, None, :] + k[..., None, :, :]
        if scale is not None:
            total = scale * total
        return params["concat_score_weight"] * jnp.sum(jnp.tanh(total), axis=-1)

    def apply(
        self,
        variables,
        inputs,
        *,
        training=False,
        rng=None,
        mask=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        q, v, k = (None if t is None else jnp.asarray(t) for t in _qvk(self, inputs))
        k = v if k is None else k
        self._check([TensorSpec(t.shape, str(t.dtype)) for t in (q, v, k)])
        q_mask, v_mask = (None, None) if not mask else (_bool(mask[0]), _bool(mask[1]))
        scores = self._scores(variables["params"], q, k)
        score_mask = None if v_mask is None else v_mask[..., None, :]
        if use_causal_mask or self.causal:
            tq, tv = scores.shape[-2:]
            causal = jnp.arange(tq)[:, None] >= jnp.arange(tv)[None, :]
            score_mask = causal if score_mask is None else jnp.logical_and(score_mask, causal)
        if score_mask is not None:
            # Keras biases padded positions by -1e9 (65504, float16's max, in float16).
            big = 65504.0 if scores.dtype == jnp.float16 else 1.0e9
            scores = jnp.where(score_mask, scores, scores - big)
        weights = jax.nn.softmax(scores, axis=-1)
        dropped = _dropout(self, weights, self.dropout, training, rng)
        out = jnp.matmul(dropped, v)
        if q_mask is not None:
            out = jnp.where(q_mask[..., None], out, jnp.zeros((), out.dtype))
        return ((out, weights) if return_attention_scores else out), {}

    def compute_mask(self, inputs, mask=None):
        if not mask or mask[0] is None:
            return None
        return _bool(mask[0])

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
            **({"causal": True} if self.causal else {}),
        }


# ---- MultiHeadAttention -------------------------------------------------------------------


def _proj_equation(free: int, bound: int, out: int) -> str:
    """Einsum of a projection: `free` axes kept, `bound` contracted, `out` new axes."""
    letters = string.ascii_lowercase
    f, b, o = (
        letters[:free],
        letters[free : free + bound],
        letters[free + bound : free + bound + out],
    )
    return f"{f}{b},{b}{o}->{f}{o}"


def _attention_equations(rank: int, attn_axes: tuple) -> tuple[str, str, int]:
    """Einsums for scores `(key, query) -> scores` and output `(scores, value) -> output`.

    Projected tensors are `(batch, <other axes>, <attention axes>, heads, channels)`; every
    axis but the attention axes and channels is a batch axis of the product, as in Keras.
    """
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    extra = iter(letters[rank:])
    source = "".join(
        target[i] if (i in batch or i == rank - 1) else next(extra) for i in range(rank)
    )
    product = "".join(
        [target[i] for i in batch] + [target[i] for i in attn_axes] + [source[i] for i in attn_axes]
    )
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _fused_attention(q, k, v, mask, scale: float, is_causal: bool):
    """Keras 3's fused path (`jax.nn.dot_product_attention`, XLA form) on `(B, T, N, H)`.

    Differs from the explicit path in how it masks: logits are filled with -0.7 * dtype max
    and a fully masked query row attends uniformly (the explicit path gives it zeros).
    """
    logits_dtype = jnp.promote_types(q.dtype, jnp.float32)
    logits = jnp.einsum("BTNH,BSNH->BNTS", q, k, preferred_element_type=logits_dtype)
    logits = logits * jnp.asarray(scale, logits.dtype)
    if mask is not None or is_causal:
        keep = jnp.ones(logits.shape, bool)
        if mask is not None:
            keep = jnp.logical_and(keep, mask)
        if is_causal:
            keep = jnp.logical_and(keep, jnp.tril(jnp.ones(logits.shape[-2:], bool)))
        big = -0.7 * float(min(jnp.finfo(logits.dtype).max, jnp.finfo(jnp.float32).max))
        logits = jnp.where(keep, logits, jnp.asarray(big, logits.dtype))
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(k.dtype)
    return jnp.einsum("BNTS,BSNH->BTNH", probs, v)


def _positive_int(arg: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        tail = " or None" if allow_none else ""
        raise ValueError(
            f"MultiHeadAttention: invalid value for argument `{arg}`, expected a positive "
            f"integer{tail}. Received: {arg}={value!r}"
        )
    return int(value)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), with Keras 3's weights and numerics.

    Query, key and value are projected to `num_heads` heads (`EinsumDense` kernels
    `(dim, num_heads, key_dim)`), attend with `softmax(q k^T / sqrt(key_dim))`, and the heads
    are projected back to `output_shape` (default: the query's last axis).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default `key_dim`).
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        output_shape: int or tuple, the trailing output shape (default: query's last axis).
        attention_axes: axes attention runs over (default: all but batch, heads, features).
        sliding_window: each query step attends only to keys less than this many steps away.
        use_gate: gate the attention output by `sigmoid(gate(query))` before projecting it.
        flash_attention: accepted for Keras compatibility; JAX picks the kernel.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: for every projection.
        seed: accepted for Keras compatibility; randomness comes from the `rng` of `apply`.

    Call arguments (`mha(query, value, key=None, ...)` or `apply(v, [query, value, key], ...)`):
        mask: `[query_mask, value_mask(, key_mask)]`, each `(B, T)` or None.
        attention_mask: boolean `(B, T, S)`, which query steps attend to which key steps.
        return_attention_scores: also return the weights `(B, num_heads, T, S)`.
        use_causal_mask: query step `i` attends only to key steps `j <= i`.

    Variables (Keras's order), e.g. query `(B, T, 16)`, `num_heads=2, key_dim=4`:
        `query/kernel (16, 2, 4)`, `query/bias (2, 4)`, `key/kernel`, `key/bias`,
        (`gate/kernel`, `gate/bias`), `value/kernel`, `value/bias`,
        `attention_output/kernel (2, 4, 16)`, `attention_output/bias (16,)`.
    """

    supports_masking = True

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        num_heads = _positive_int("num_heads", num_heads)
        key_dim = _positive_int("key_dim", key_dim)
        value_dim = _positive_int("value_dim", value_dim, allow_none=True)
        sliding_window = _positive_int("sliding_window", sliding_window, allow_none=True)
        dropout = _check_rate("MultiHeadAttention", dropout)
        if output_shape:
            output_shape = (
                (output_shape,) if isinstance(output_shape, (int, np.integer)) else output_shape
            )
            try:
                output_shape = tuple(_positive_int("output_shape", d) for d in output_shape)
            except TypeError:
                raise ValueError(
                    "MultiHeadAttention: `output_shape` must be an int or a tuple of ints. "
                    f"Received: output_shape={output_shape!r}"
                ) from None
        if isinstance(attention_axes, (int, np.integer)):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and (
            not isinstance(attention_axes, (list, tuple))
            or not all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in attention_axes
            )
        ):
            raise ValueError(
                "MultiHeadAttention: `attention_axes` must be an int, or a list or tuple of ints. "
                f"Received: attention_axes={attention_axes!r}"
            )
        if activity_regularizer is not None:
            raise ValueError(
                "MultiHeadAttention: `activity_regularizer` is not supported. "
                f"Received: activity_regularizer={activity_regularizer!r}"
            )
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim or key_dim
        self.dropout = dropout
        self.use_bias = as_bool(self, "use_bias", use_bias)
        self._output_shape = output_shape or None
        self.attention_axes = (
            None if attention_axes is None else tuple(int(a) for a in attention_axes)
        )
        self.sliding_window = sliding_window
        self.flash_attention = flash_attention
        self.use_gate = as_bool(self, "use_gate", use_gate)
        self.kernel_initializer = initializers.get_or_default(kernel_initializer, "glorot_uniform")
        self.bias_initializer = initializers.get_or_default(bias_initializer, "zeros")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed

    # -- calling: Keras's `mha(query, value, key=None, ...)` --------------------------------

    def __call__(self, query, value=None, key=None, **kwargs):
        if value is None:  # `mha([query, value])`: already one list (fkeras/functional style)
            inputs = query
        else:
            inputs = [query, value] + ([key] if key is not None else [])
        if isinstance(kwargs.get("attention_mask"), KerasTensor) and isinstance(
            inputs, (list, tuple)
        ):
            # A symbolic mask is a graph input of this node, not a constant keyword.
            q, v, k = _qvk(self, inputs)
            inputs = {"query": q, "value": v, "attention_mask": kwargs.pop("attention_mask")}
            if k is not None:
                inputs["key"] = k
        return super().__call__(inputs, **kwargs)

    def _unpack(self, inputs) -> tuple:
        """`(query, value, key or None, attention_mask or None)` from a list or a dict."""
        if isinstance(inputs, dict):
            return (
                inputs.get("query"),
                inputs.get("value"),
                inputs.get("key"),
                inputs.get("attention_mask"),
            )
        return (*_qvk(self, inputs), None)

    # -- shapes -----------------------------------------------------------------------------

    def _specs(self, input_spec) -> tuple:
        q, v, k, _ = self._unpack(input_spec)
        k = v if k is None else k
        shapes = {"query": q.shape, "value": v.shape, "key": k.shape}
        if not (q.ndim >= 3 and q.ndim == v.ndim == k.ndim) or v.shape[1:-1] != k.shape[1:-1]:
            raise ValueError(
                f"Layer {self.name!r} (MultiHeadAttention) expects query, value and key of equal "
                "rank >= 3, with value and key equal on every axis but the batch and last axes. "
                f"Received: shapes={shapes}"
            )
        if None in (q.shape[-1], v.shape[-1], k.shape[-1]):
            raise ValueError(
                f"Layer {self.name!r} (MultiHeadAttention) needs the last axis of query, value "
                f"and key to be known. Received: shapes={shapes}"
            )
        return q, v, k

    def _attn_axes(self, rank: int) -> tuple:
        """Attention axes of the projected tensors, of rank `rank + 1`."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = tuple(a if a >= 0 else rank + a for a in self.attention_axes)
        if not all(1 <= a < rank - 1 for a in axes):
            raise ValueError(
                f"Layer {self.name!r} (MultiHeadAttention): attention axes must lie between the "
                f"batch and feature axes of inputs of rank {rank}. "
                f"Received: attention_axes={self.attention_axes}"
            )
        return axes

    def compute_output_spec(self, input_spec, return_attention_scores=False, **kwargs):
        q, _, k = self._specs(input_spec)
        axes = self._attn_axes(q.ndim)
        tail = self._output_shape or q.shape[-1:]
        out = TensorSpec(q.shape[:-1] + tuple(tail), self.dtype)
        if not return_attention_scores:
            return out
        batch = [q.shape[i] for i in range(q.ndim - 1) if i not in axes]
        scores = batch + [self.num_heads] + [q.shape[a] for a in axes] + [k.shape[a] for a in axes]
        return out, TensorSpec(tuple(scores), self.dtype)

    def check_input_spec(self, built_spec, input_spec):
        built = self._specs(built_spec)
        got = self._specs(input_spec)
        if [(s.ndim, s.shape[-1]) for s in built] != [(s.ndim, s.shape[-1]) for s in got]:
            raise ValueError(
                f"Inputs of layer {self.name!r} (MultiHeadAttention) are incompatible with the "
                f"layer: expected query, value, key like {[s.shape for s in built]}. "
                f"Received: {[s.shape for s in got]}"
            )

    # -- variables --------------------------------------------------------------------------

    def _weight_shapes(self, q, v, k) -> dict:
        heads = self.num_heads
        out_tail = tuple(self._output_shape or (q.shape[-1],))
        shapes = {
            "query": ((q.shape[-1], heads, self.key_dim), (heads, self.key_dim)),
            "key": ((k.shape[-1], heads, self.key_dim), (heads, self.key_dim)),
        }
        if self.use_gate:
            shapes["gate"] = ((q.shape[-1], heads, self.value_dim), (heads, self.value_dim))
        shapes["value"] = ((v.shape[-1], heads, self.value_dim), (heads, self.value_dim))
        shapes["attention_output"] = ((heads, self.value_dim) + out_tail, out_tail)
        return shapes

    def init(self, rng, input_spec):
        q, v, k = self._specs(input_spec)
        self._attn_axes(q.ndim)
        params = {}
        shapes = self._weight_shapes(q, v, k)
        keys = jax.random.split(rng, 2 * len(shapes))
        for i, (name, (kernel, bias)) in enumerate(shapes.items()):
            params[f"{name}/kernel"] = self.kernel_initializer(kernel, self.dtype, key=keys[2 * i])
            if self.use_bias:
                params[f"{name}/bias"] = self.bias_initializer(
                    bias, self.dtype, key=keys[2 * i + 1]
                )
        return {"params": params, "state": {}}

    def _project(self, params, name, x, equation):
        y = jnp.einsum(equation, x, params[f"{name}/kernel"])
        return y + params[f"{name}/bias"] if self.use_bias else y

    # -- the computation --------------------------------------------------------------------

    def _mask(self, q, v, masks, attention_mask, use_causal_mask):
        """Keras's `_compute_attention_mask`: AND of query/value/key, causal, window, explicit."""
        q_mask, v_mask, k_mask = masks
        parts = []
        if q_mask is not None:
            parts.append(q_mask[..., :, None])
        parts += [m[..., None, :] for m in (v_mask, k_mask) if m is not None]
        t, s = q.shape[1], v.shape[1]
        if use_causal_mask:
            parts.append((jnp.arange(t)[:, None] >= jnp.arange(s)[None, :])[None])
        if self.sliding_window is not None:
            parts.append(
                (jnp.abs(jnp.arange(t)[:, None] - jnp.arange(s)[None, :]) < self.sliding_window)[
                    None
                ]
            )
        if attention_mask is not None:
            parts.insert(0, attention_mask)
        if not parts:
            return None
        out = parts[0]
        for p in parts[1:]:
            out = out & p
        return out

    def _masks(self, inputs, mask, explicit) -> tuple:
        entries = [None, None, None]
        if isinstance(mask, dict):
            entries = [mask.get("query"), mask.get("value"), mask.get("key")]
        elif mask:
            entries = list(mask) + [None] * (3 - len(mask))
        entries = [e if x is None else x for e, x in zip(entries, explicit)]
        if self._unpack(inputs)[2] is None:
            entries[2] = None  # Keras: no key tensor, no key mask
        return tuple(_bool(e) for e in entries)

    def apply(
        self,
        variables,
        inputs,
        *,
        training=False,
        rng=None,
        mask=None,
        attention_mask=None,
        return_attention_scores=False,
        use_causal_mask=False,
        query_mask=None,
        value_mask=None,
        key_mask=None,
    ):
        query, value, key, graph_mask = self._unpack(inputs)
        query, value = jnp.asarray(query), jnp.asarray(value)
        key = value if key is None else jnp.asarray(key)
        attention_mask = graph_mask if attention_mask is None else attention_mask
        attention_mask = _bool(attention_mask)
        self._specs([TensorSpec(t.shape, str(t.dtype)) for t in (query, value, key)])
        masks = self._masks(inputs, mask, (query_mask, value_mask, key_mask))
        rank = query.ndim + 1
        axes = self._attn_axes(query.ndim)
        if use_causal_mask and len(axes) != 1:
            raise ValueError(
                f"Layer {self.name!r} (MultiHeadAttention): `use_causal_mask` needs a single "
                f"attention axis. Received: attention_axes={self.attention_axes}, "
                f"query shape={query.shape}"
            )
        if len(axes) != 1 and any(m is not None for m in masks):
            raise ValueError(
                f"Layer {self.name!r} (MultiHeadAttention): query/value/key masks need a single "
                f"attention axis; pass an `attention_mask` instead. Received: "
                f"attention_axes={self.attention_axes}, query shape={query.shape}"
            )
        causal_only = (
            use_causal_mask
            and attention_mask is None
            and self.sliding_window is None
            and all(m is None for m in masks)
        )
        full_mask = (
            None
            if causal_only
            else self._mask(query, value, masks, attention_mask, use_causal_mask)
        )
        params = variables["params"]
        proj = _proj_equation(query.ndim - 1, 1, 2)
        gate = self._project(params, "gate", query, proj) if self.use_gate else None
        q = self._project(params, "query", query, proj)
        k = self._project(params, "key", key, _proj_equation(key.ndim - 1, 1, 2))
        v = self._project(params, "value", value, _proj_equation(value.ndim - 1, 1, 2))
        scale = 1.0 / math.sqrt(float(self.key_dim))
        if self.dropout == 0 and not return_attention_scores and rank == 4:
            # Keras 3 routes this case through the fused `dot_product_attention` kernel.
            fused_mask = full_mask
            while fused_mask is not None and fused_mask.ndim < 4:
                fused_mask = jnp.expand_dims(fused_mask, -3)  # (B, T, S) -> (B, 1, T, S)
            out = _fused_attention(q, k, v, fused_mask, scale, use_causal_mask)
            weights = None
        else:
            if causal_only:
                full_mask = self._mask(query, value, (None, None, None), None, True)
            dot_eq, combine_eq, _ = _attention_equations(rank, axes)
            scores = jnp.einsum(dot_eq, k, q * jnp.asarray(scale, q.dtype))
            weights = self._masked_softmax(scores, full_mask, len(axes))
            dropped = _dropout(self, weights, self.dropout, training, rng)
            out = jnp.einsum(combine_eq, dropped, v)
        if gate is not None:
            out = out * jax.nn.sigmoid(gate)
        out = self._project(
            params,
            "attention_output",
            out,
            _proj_equation(query.ndim - 1, 2, len(self._output_shape or (1,))),
        )
        return ((out, weights) if return_attention_scores else out), {}

    def _masked_softmax(self, scores, mask, n_axes: int):
        """Keras's `Softmax(axis=<attention axes>)(scores, mask)` over the score tensor."""
        norm_axes = tuple(range(scores.ndim - n_axes, scores.ndim))
        if mask is not None:
            while mask.ndim < scores.ndim:
                mask = jnp.expand_dims(mask, -2 * n_axes - 1)
            big = -3e4 if scores.dtype == jnp.float16 else -1e9
            scores = jnp.where(mask, scores, jnp.asarray(big, scores.dtype))
        if n_axes > 1:
            weights = jnp.exp(
                scores - jax.scipy.special.logsumexp(scores, axis=norm_axes, keepdims=True)
            )
        else:
            weights = jax.nn.softmax(scores, axis=norm_axes[0])
        return weights if mask is None else jnp.where(mask, weights, jnp.zeros((), weights.dtype))

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, dict):
            return _bool(mask.get("query"))
        return _bool(mask[0]) if mask else None

    # -- weights penalties, constraints, config ----------------------------------------------

    def penalty(self, params):
        total = 0.0
        for name, value in params.items():
            reg = self.kernel_regularizer if name.endswith("/kernel") else self.bias_regularizer
            if reg is not None:
                total = total + reg(value)
        return total

    def constrain(self, params):
        out = {}
        for name, value in params.items():
            con = self.kernel_constraint if name.endswith("/kernel") else self.bias_constraint
            out[name] = value if con is None else con(value)
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window,
            "flash_attention": self.flash_attention,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _serialize(regularizers, self.kernel_regularizer),
            "bias_regularizer": _serialize(regularizers, self.bias_regularizer),
            "kernel_constraint": _serialize(constraints, self.kernel_constraint),
            "bias_constraint": _serialize(constraints, self.bias_constraint),
            "seed": self.seed,
        }
