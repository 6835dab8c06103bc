"""`SpeechToText`: Whisper's encoder-decoder: audio in, transcript tokens out."""

import keras

from applications.speech.audio_inputs import default_front_end, encode_audio
from applications.speech.character_vocabulary import CharacterVocabulary
from applications.speech.ctc import CTCHead
from applications.speech.sublayers import deserialize_sublayers
from keras_attn.layers import TokenAndPositionEmbedding, TransformerDecoder

DECODER_EMBEDDING, DECODER, CTC_HEAD = "decoder_embedding", "decoder", "ctc_head"


@keras.saving.register_keras_serializable(package="applications.speech")
class SpeechToText(keras.Model):
    """Audio clip + decoder tokens -> next-token logits: a `SpeechEncoder` and a decoder.

    Stages (Whisper's, Radford et al. 2022): the log-mel front end with the
    clip's frame mask, the `SpeechEncoder`, then a token embedding with
    learned positions (`TokenAndPositionEmbedding`), a pre-norm
    `keras_attn.layers.TransformerDecoder` (causal self-attention,
    cross-attention to the encoder steps with the encoder's padding mask, a
    final norm) and the output projection tied to the token embedding. The
    decoder sequence is right-padded; its causal mask alone keeps the padding
    from influencing real positions, so no token id is reserved for masking
    (Whisper pads with its end token).

    Two input layouts:
    - `audio_input=True` (trained models): `{"audio": (batch, max_samples)
      float32, "sample_lengths": (batch,) int32, "decoder_token_ids":
      (batch, length) int32}`, the clips zero-padded to `max_samples`;
    - `audio_input=False` (an imported Whisper, `from_keras_hub_whisper(...,
      decoder=True)`): `{"encoder_features": (batch, frames, num_mel_bins),
      "decoder_token_ids": (batch, length)}`: log-mels computed outside,
      every frame real (Whisper's 30 s windows).

    Returns `(batch, length, vocabulary_size)` float32 logits; with
    `ctc_characters` (hybrid CTC/attention training) a dict `{"logits": ...,
    "ctc": (batch, steps, len(ctc_characters) + 1) log-probabilities}` of a
    `CTCHead` on the encoder steps. `applications.speech.transcriber.
    Transcriber` decodes with the caches (the encoder once per batch, its
    cross-attention keys and values once per clip).

    Args:
        encoder: a `SpeechEncoder`.
        vocabulary_size: decoder vocabulary, special tokens included.
        max_target_length: the longest decoder sequence (prompt, transcript,
            end), the size of the position table.
        decoder_layers: decoder blocks; default the encoder's count.
        decoder_intermediate_dim: decoder feed-forward width; default the
            encoder's. Width and heads are the encoder's.
        max_samples: the padded clip length in samples (at 16 kHz).
        front_end: a `LogMelSpectrogram`; Whisper's by default.
        spec_augment: an optional `SpecAugment`, active in training only.
        feature_normalization: an optional `UtteranceNormalization`.
        dropout_rate: dropout after the token embedding and in the decoder.
        ctc_characters: characters of an extra CTC head, or `None`.
        audio_input: the input layout (see above).
        **kwargs: `keras.Model` arguments.

    Example:

    >>> import numpy as np
    >>> from applications.speech import SpeechEncoder
    >>> encoder = SpeechEncoder(8, 1, 2, 16, num_mel_bins=8, max_frames=11)
    >>> model = SpeechToText(encoder, vocabulary_size=10, max_target_length=6, max_samples=1600)
    >>> logits = model({"audio": np.zeros((2, 1600), "float32"), "sample_lengths": np.array([1600, 800]),
    ...                 "decoder_token_ids": np.array([[1, 3, 5, 0], [1, 3, 0, 0]])})
    >>> logits.shape
    TensorShape([2, 4, 10])
    """

    def __init__(
        self,
        encoder,
        vocabulary_size,
        max_target_length,
        decoder_layers=None,
        decoder_intermediate_dim=None,
        max_samples=16000,
        front_end=None,
        spec_augment=None,
        feature_normalization=None,
        dropout_rate=0.0,
        ctc_characters=None,
        audio_input=True,
        **kwargs,
    ):
        for name, value in (("vocabulary_size", vocabulary_size), ("max_target_length", max_target_length)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"`{name}` must be an int >= 2. Received: {name}={value!r}")
        decoder_layers = encoder.num_layers if decoder_layers is None else decoder_layers
        decoder_intermediate_dim = decoder_intermediate_dim or encoder.intermediate_dim
        if audio_input:
            front_end = front_end if front_end is not None else default_front_end(encoder)
            inputs, steps, step_mask = encode_audio(encoder, front_end, spec_augment, max_samples,
                                                    feature_normalization)
        else:
            features = keras.Input((None, encoder.num_mel_bins), dtype="float32", name="encoder_features")
            inputs, steps, step_mask = {"encoder_features": features}, encoder(features), None
        decoder_ids = keras.Input((None,), dtype="int32", name="decoder_token_ids")
        inputs["decoder_token_ids"] = decoder_ids

        embedding = TokenAndPositionEmbedding(
            vocabulary_size, max_target_length, encoder.hidden_dim, mask_zero=False, tie_weights=True,
            name=DECODER_EMBEDDING,
        )
        decoder = TransformerDecoder(
            num_layers=decoder_layers, num_heads=encoder.num_heads, intermediate_dim=decoder_intermediate_dim,
            dropout_rate=dropout_rate, activation="gelu", norm_first=True, final_norm=True,
            layer_norm_epsilon=encoder.layer_norm_epsilon, name=DECODER,
        )
        x = embedding(decoder_ids)  # (B, T, C)
        x = keras.layers.Dropout(dropout_rate, name="decoder_embedding_dropout")(x)
        x = decoder(x, steps, encoder_padding_mask=step_mask)  # (B, T, C)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(embedding(x, reverse=True))
        outputs = logits  # (B, T, V)
        if ctc_characters:
            head = CTCHead(CharacterVocabulary(ctc_characters).size, dtype="float32", name=CTC_HEAD)
            ctc = head(keras.layers.Dropout(dropout_rate, name="ctc_dropout")(steps), padding_mask=step_mask)
            outputs = {"logits": logits, "ctc": ctc}  # (B, S, C + 1)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        self.encoder = encoder
        self.vocabulary_size = vocabulary_size
        self.max_target_length = max_target_length
        self.decoder_layers = decoder_layers
        self.decoder_intermediate_dim = decoder_intermediate_dim
        self.max_samples = max_samples
        self.front_end = front_end
        self.spec_augment = spec_augment
        self.feature_normalization = feature_normalization
        self.dropout_rate = dropout_rate
        self.ctc_characters = ctc_characters
        self.audio_input = audio_input
        self.decoder_embedding = embedding
        self.decoder = decoder

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "vocabulary_size": self.vocabulary_size,
            "max_target_length": self.max_target_length,
            "decoder_layers": self.decoder_layers,
            "decoder_intermediate_dim": self.decoder_intermediate_dim,
            "max_samples": self.max_samples,
            "front_end": keras.saving.serialize_keras_object(self.front_end),
            "spec_augment": keras.saving.serialize_keras_object(self.spec_augment),
            "feature_normalization": keras.saving.serialize_keras_object(self.feature_normalization),
            "dropout_rate": self.dropout_rate,
            "ctc_characters": self.ctc_characters,
            "audio_input": self.audio_input,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config))
