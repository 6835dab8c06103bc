"""`SpeechEncoder`: Whisper's audio encoder, built from keras_attn blocks."""

import keras

from applications.speech.convolutional_subsampling import STRIDE, ConvolutionalSubsampling
from applications.speech.whisper_sinusoids import WhisperSinusoids
from keras_attn import masking
from keras_attn.layers import PositionEmbedding, TransformerEncoder


@keras.saving.register_keras_serializable(package="applications.speech")
class SpeechEncoder(keras.layers.Layer):
    """Transformer encoder over log-mel features, shaped like Whisper's.

    Stages: `ConvolutionalSubsampling` (two convolutions with GELU, stride 2),
    plus fixed sinusoidal positions (`WhisperSinusoids` in a non-trainable
    `PositionEmbedding`, so a Whisper checkpoint's table can be loaded into
    it), then a pre-norm `keras_attn.layers.TransformerEncoder` with a final
    layer norm. The front end (`keras_attn.layers.LogMelSpectrogram`) stays a
    separate layer.

    Any clip up to `max_frames` frames is accepted; `T` frames give
    `ceil(T / 2)` output steps.

    Masking: pass the frame mask (`LogMelSpectrogram.frame_padding_mask`) as
    `padding_mask`, or let the Keras implicit mask of `features` be used. It
    is carried through the stride (`output_padding_mask`), and padded frames
    never influence the real output steps: a clip padded with silence (or
    anything) and masked gives the same real outputs as the unpadded clip.
    Without a mask every frame is real (Whisper's behaviour).

    Args:
        hidden_dim: model width.
        num_layers: number of encoder blocks.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward hidden width.
        num_mel_bins: feature size of the input.
        max_frames: the longest input in frames (3000 = 30 s, Whisper's).
        dropout_rate: dropout after the positions and in every block.
        attention_dropout_rate: dropout on the attention weights.
        layer_norm_epsilon: epsilon of the layer norms.
        kernel_initializer: initializer of every kernel.
        **kwargs: base `Layer` arguments.

    Call arguments:
        features: `(batch, frames, num_mel_bins)`.
        padding_mask: optional `(batch, frames)` bool, `True` on real frames.
        training: enables dropout.

    Returns:
        `(batch, ceil(frames / 2), hidden_dim)`.

    References:
        Radford et al., "Robust Speech Recognition via Large-Scale Weak
        Supervision" (Whisper), 2022.

    Example:

    >>> import numpy as np
    >>> encoder = SpeechEncoder(hidden_dim=8, num_layers=1, num_heads=2,
    ...                         intermediate_dim=16, num_mel_bins=4, max_frames=20)
    >>> encoder(np.zeros((1, 9, 4), "float32")).shape
    TensorShape([1, 5, 8])
    """

    def __init__(
        self,
        hidden_dim,
        num_layers,
        num_heads,
        intermediate_dim,
        num_mel_bins=80,
        max_frames=3000,
        dropout_rate=0.0,
        attention_dropout_rate=0.0,
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("hidden_dim", hidden_dim),
            ("num_layers", num_layers),
            ("num_heads", num_heads),
            ("intermediate_dim", intermediate_dim),
            ("num_mel_bins", num_mel_bins),
            ("max_frames", max_frames),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        if hidden_dim % num_heads:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. "
                f"Received: hidden_dim={hidden_dim}, num_heads={num_heads}"
            )
        if hidden_dim % 2 or hidden_dim < 4:
            raise ValueError(f"`hidden_dim` must be even and at least 4 (sine/cosine halves). Received: hidden_dim={hidden_dim}")
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}")
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.num_mel_bins = num_mel_bins
        self.max_frames = max_frames
        self.dropout_rate = dropout_rate
        self.attention_dropout_rate = attention_dropout_rate
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

        self.subsampling = ConvolutionalSubsampling(
            hidden_dim, kernel_initializer=self.kernel_initializer, name="subsampling", dtype=self.dtype_policy
        )
        self.position_embedding = PositionEmbedding(
            sequence_length=self.max_steps,
            initializer=WhisperSinusoids(),
            trainable=False,  # fixed sinusoids, as in Whisper
            name="position_embedding",
            dtype=self.dtype_policy,
        )
        self.embeddings_dropout = keras.layers.Dropout(dropout_rate, dtype=self.dtype_policy)
        self.transformer = TransformerEncoder(
            num_layers=num_layers,
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            dropout_rate=dropout_rate,
            attention_dropout_rate=attention_dropout_rate,
            activation="gelu",
            norm_first=True,
            final_norm=True,
            layer_norm_epsilon=layer_norm_epsilon,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            name="transformer",
            dtype=self.dtype_policy,
        )

    @property
    def max_steps(self):
        """Output steps of the longest input, `ceil(max_frames / 2)`."""
        return (self.max_frames + STRIDE - 1) // STRIDE

    def build(self, features_shape):
        if features_shape[-1] != self.num_mel_bins:
            raise ValueError(
                f"`features` must have {self.num_mel_bins} mel bins (num_mel_bins). "
                f"Received: features.shape={tuple(features_shape)}"
            )
        self.subsampling.build(features_shape)
        steps_shape = self.subsampling.compute_output_shape(features_shape)
        self.position_embedding.build(steps_shape)
        self.transformer.build(steps_shape)
        self.built = True

    def _embed(self, features, padding_mask, training):
        """Subsampled steps plus positions, and the step mask."""
        if isinstance(features.shape[1], int) and features.shape[1] > self.max_frames:
            raise ValueError(
                f"The clip is longer than max_frames={self.max_frames}. "
                f"Received: features.shape={tuple(features.shape)}"
            )
        padding_mask = padding_mask if padding_mask is not None else masking.implicit_mask(features)
        features = masking.without_implicit_mask(features)
        x = self.subsampling(features, padding_mask=padding_mask)  # (B, S, C)
        step_mask = self.output_padding_mask(padding_mask)  # (B, S) or None
        x = x + self.position_embedding(x)
        return self.embeddings_dropout(x, training=training), step_mask

    def call(self, features, padding_mask=None, training=None):
        x, step_mask = self._embed(features, padding_mask, training)
        return self.transformer(x, padding_mask=step_mask, training=training)  # (B, S, C)

    def attention_weights(self, features, padding_mask=None, layer_index=-1):
        """Self-attention weights `(batch, num_heads, steps, steps)` of one block.

        Runs the blocks before `layer_index`, then that block's own attention
        sublayer on its normalised input (the blocks are pre-norm). For
        pictures and inspection; inference mode.
        """
        if not self.built:
            self.build(tuple(features.shape))
        blocks = self.transformer.blocks
        block = blocks[layer_index]
        x, step_mask = self._embed(features, padding_mask, training=False)
        for earlier in blocks[: blocks.index(block)]:
            x = earlier(x, padding_mask=step_mask)
        normed = block.self_attention_norm(x)
        _, weights = block.self_attention_layer(
            normed, normed, value_mask=step_mask, return_attention_scores=True
        )
        return weights

    def output_padding_mask(self, padding_mask):
        """The `(batch, steps)` mask of the output, from the `(batch, frames)` mask."""
        return masking.downsample_padding_mask(padding_mask, STRIDE)

    def output_lengths(self, frame_lengths):
        """`(batch,)` real frames -> `(batch,)` real output steps."""
        return self.subsampling.output_lengths(frame_lengths)

    def compute_mask(self, features, mask=None):
        return masking.downsample_padding_mask(mask, STRIDE)

    def compute_output_shape(self, features_shape):
        return self.subsampling.compute_output_shape(features_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "num_mel_bins": self.num_mel_bins,
                "max_frames": self.max_frames,
                "dropout_rate": self.dropout_rate,
                "attention_dropout_rate": self.attention_dropout_rate,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
