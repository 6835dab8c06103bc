"""`BahdanauDecoder`: a recurrent decoder with additive attention over the encoder at every step."""

import keras
from keras import ops

from keras_attn import masking
from keras_attn.layers import AdditiveAttention

CELLS = {"gru": keras.layers.GRUCell, "lstm": keras.layers.LSTMCell}


def scan_carries(step, initial, sequence):
    """`step(carry, x) -> carry` over axis 0 of `sequence`; returns every step's carry, stacked.

    On TensorFlow this is `tf.scan`, which bounds its loop (`maximum_iterations`): XLA needs
    that to compile the gradient, and `keras.ops.scan`'s TensorFlow version (Keras 3.15)
    does not set it ("XLA compilation requires a fixed tensor list size").
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.scan(step, sequence, initializer=initial)
    return ops.scan(lambda carry, x: (step(carry, x),) * 2, initial, sequence)[1]


@keras.saving.register_keras_serializable(package="applications.text")
class BahdanauDecoder(keras.layers.Layer):
    """A GRU or LSTM decoder that attends over the encoder states at every step.

    Step `t` reads the target embedding `e_t` and the previous step's context `c_{t-1}`
    (the context fed back into the next input: Luong et al.'s input feeding), updates the
    recurrent state, and attends with Bahdanau's additive scores from the new state:

        s_t       = cell([e_t; c_{t-1}], s_{t-1})             # GRU or LSTM
        c_t, a_t  = AdditiveAttention(s_t, H)                  # a_t: (S,) weights over the source
        o_t       = tanh(W_o [s_t; c_t; e_t])                  # (output_dim,)

    with `s_0 = tanh(W_s mean(H))` over the real source positions (dl4mt / Nematus) and
    `c_0 = 0`. The keys `U_a H` are projected once per source (`AdditiveAttention`'s
    `key_cache`). Training runs the recurrence over the whole teacher-forced target
    (`call`, a scan over the steps); decoding runs it one token at a time (`initial_cache`,
    `step`), the recurrent state and the last context being the cache, so the searches of
    `keras_attn.generation` drive it unchanged. Both paths use the same step.

    Args:
        units: the recurrent state's size, and the additive attention's units.
        cell: `"gru"` (default) or `"lstm"`.
        output_dim: width of `o_t` (the target embedding width when logits go through the
            tied token table).
        dropout_rate: dropout on `[s_t; c_t; e_t]` before the output layer while training.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        target_sequence: `(batch, T, E)` embedded decoder inputs (start token first).
        encoder_sequence: `(batch, S, D)` encoder states `H`.
        encoder_padding_mask: `(batch, S)`, `True` on real source tokens; defaults to the
            implicit mask of `encoder_sequence`.
        return_attention_scores: also return the weights `a`, `(batch, T, S)`.
        training: enables dropout.

    Returns:
        `(batch, T, output_dim)`, or `(outputs, weights)` with `return_attention_scores=True`.

    Masking: padded source positions get no attention weight and do not enter `s_0`. The
    recurrence runs over target padding too; those steps come after the real ones, so they
    change no real output (the loss ignores them). The outputs carry the target's implicit
    mask.

    References:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473)
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025) (input feeding)

    Example:

    >>> import numpy as np
    >>> decoder = BahdanauDecoder(units=8, output_dim=6)
    >>> target, source = np.ones((2, 3, 6), "float32"), np.ones((2, 5, 10), "float32")
    >>> outputs, weights = decoder(target, source, return_attention_scores=True)
    >>> outputs.shape, weights.shape
    (TensorShape([2, 3, 6]), TensorShape([2, 3, 5]))
    >>> cache = decoder.initial_cache(source)
    >>> first, cache = decoder.step(target[:, :1], cache)
    >>> bool(np.allclose(first, outputs[:, :1], atol=1e-5))
    True
    """

    def __init__(self, units, cell="gru", output_dim=None, dropout_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be a positive int. Received: units={units}")
        if cell not in CELLS:
            raise ValueError(f"`cell` must be one of {tuple(CELLS)}. Received: cell={cell!r}")
        if output_dim is not None and (not isinstance(output_dim, int) or output_dim < 1):
            raise ValueError(f"`output_dim` must be a positive int or None. Received: output_dim={output_dim}")
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}")
        self.units = units
        self.cell = cell
        self.output_dim = output_dim
        self.dropout_rate = dropout_rate
        self.recurrent_cell = CELLS[cell](units, dtype=self.dtype_policy, name=f"{cell}_cell")
        self.attention = AdditiveAttention(units, dtype=self.dtype_policy, name="attention")
        self.initial_state_dense = keras.layers.Dense(units, activation="tanh", dtype=self.dtype_policy,
                                                      name="initial_state_dense")
        self.output_dropout = keras.layers.Dropout(dropout_rate, dtype=self.dtype_policy, name="output_dropout")
        self._output_width = output_dim or units
        self.output_dense = keras.layers.Dense(self._output_width, activation="tanh", dtype=self.dtype_policy,
                                               name="output_dense")
        self.supports_masking = True

    def build(self, target_sequence_shape, encoder_sequence_shape):
        embedding_dim, source_dim = target_sequence_shape[-1], encoder_sequence_shape[-1]
        self.recurrent_cell.build((None, embedding_dim + source_dim))
        self.attention.build((None, 1, self.units), (None, None, source_dim))
        self.initial_state_dense.build((None, source_dim))
        self.output_dense.build((None, None, self.units + source_dim + embedding_dim))
        self.built = True

    # -- the cached path -----------------------------------------------------------------

    def initial_cache(self, encoder_sequence, encoder_padding_mask=None):
        """The decoding state before the first step: a dict of tensors, batch on axis 0:
        `state` (the cell's states, a tuple), `context` `(B, D)`, and the source: `encoded`
        `(B, S, D)`, its projected `keys` `(B, S, units)` and `mask` `(B, S)`."""
        if encoder_padding_mask is None:
            encoder_padding_mask = masking.implicit_mask(encoder_sequence)
        encoded = masking.without_implicit_mask(encoder_sequence)
        batch, length = ops.shape(encoded)[0], ops.shape(encoded)[1]
        mask = ops.ones((batch, length), "bool") if encoder_padding_mask is None else ops.cast(
            encoder_padding_mask, "bool")
        weights = ops.cast(mask, encoded.dtype)[:, :, None]  # (B, S, 1)
        mean = ops.sum(encoded * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)  # (B, D)
        hidden = self.initial_state_dense(mean)  # (B, units)
        state = (hidden,) if self.cell == "gru" else (hidden, ops.zeros_like(hidden))  # LSTM: (h, c)
        return {
            "state": state,
            "context": ops.zeros_like(encoded[:, 0]),  # (B, D)
            "encoded": encoded,
            "keys": self.attention.compute_key_cache(encoded),  # (B, S, units)
            "mask": mask,
        }

    def step(self, target_step, cache, training=False):
        """One step: `(B, 1, E)` embedded token -> `(B, 1, output_dim)` output and the new cache."""
        embedded = masking.without_implicit_mask(target_step)
        state, context = self._recur(embedded[:, 0], cache["state"], cache["context"], cache)
        outputs = self._output(state[0][:, None], context[:, None], embedded, training)
        return outputs, dict(cache, state=state, context=context)

    # -- the teacher-forced path ---------------------------------------------------------

    def call(self, target_sequence, encoder_sequence, encoder_padding_mask=None, return_attention_scores=False,
             training=None):
        embedded = masking.without_implicit_mask(target_sequence)  # (B, T, E)
        cache = self.initial_cache(encoder_sequence, encoder_padding_mask)

        states, contexts = scan_carries(  # (T, B, units) per state, (T, B, D)
            lambda carry, embedded_step: self._recur(embedded_step, *carry, cache),
            (cache["state"], cache["context"]), ops.transpose(embedded, (1, 0, 2)),
        )
        hidden = ops.transpose(states[0], (1, 0, 2))  # (B, T, units)
        contexts = ops.transpose(contexts, (1, 0, 2))  # (B, T, D)
        outputs = self._output(hidden, contexts, embedded, training)
        if not return_attention_scores:
            return outputs
        # The step's weights, recomputed for all steps at once from the same states.
        _, weights = self.attention(hidden, cache["encoded"], key_cache=cache["keys"], value_mask=cache["mask"],
                                    return_attention_scores=True)
        return outputs, weights  # (B, T, output_dim), (B, T, S)

    # -- the step both paths share -------------------------------------------------------

    def _recur(self, embedded_step, state, context, cache):
        """`s_t = cell([e_t; c_{t-1}], s_{t-1})`, `c_t = attention(s_t, H)`."""
        inputs = ops.concatenate([embedded_step, ops.cast(context, embedded_step.dtype)], axis=-1)  # (B, E + D)
        hidden, new_state = self.recurrent_cell(inputs, list(state))
        context = self.attention(hidden[:, None], cache["encoded"], key_cache=cache["keys"],
                                 value_mask=cache["mask"])[:, 0]  # (B, D)
        return tuple(new_state), context

    def _output(self, hidden, contexts, embedded, training):
        """`o = tanh(W_o [s; c; e])` for `(B, T, .)` inputs."""
        features = ops.concatenate([hidden, ops.cast(contexts, hidden.dtype), ops.cast(embedded, hidden.dtype)],
                                   axis=-1)
        return self.output_dense(self.output_dropout(features, training=training))

    def compute_output_spec(self, target_sequence, encoder_sequence, encoder_padding_mask=None,
                            return_attention_scores=False, training=None):
        batch, length = target_sequence.shape[0], target_sequence.shape[1]
        outputs = keras.KerasTensor((batch, length, self._output_width), dtype=self.compute_dtype)
        if not return_attention_scores:
            return outputs
        return outputs, keras.KerasTensor((batch, length, encoder_sequence.shape[1]), dtype=self.compute_dtype)

    def compute_mask(self, target_sequence, previous_mask=None):
        return previous_mask  # the outputs keep the target's mask

    def compute_output_shape(self, target_sequence_shape, encoder_sequence_shape=None):
        return tuple(target_sequence_shape[:-1]) + (self._output_width,)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "cell": self.cell, "output_dim": self.output_dim,
                       "dropout_rate": self.dropout_rate})
        return config
