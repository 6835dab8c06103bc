"""`CTCRecognizer`: character-level speech recognition with CTC."""

import keras

from applications.speech.audio_inputs import default_front_end, encode_audio
from applications.speech.character_vocabulary import DEFAULT_CHARACTERS, CharacterVocabulary
from applications.speech.ctc import CTCHead, ctc_beam_decode, ctc_greedy_decode
from applications.speech.sublayers import deserialize_sublayers


@keras.saving.register_keras_serializable(package="applications.speech")
class CTCRecognizer(keras.Model):
    """Audio clip -> per-step character log-probabilities, trained with `CTCLoss`.

    Log-mel front end, `SpeechEncoder`, `CTCHead` over `characters` plus the
    blank (class 0). Inputs are those of `SpeechClassifier` (`audio` padded
    to `max_samples`, `sample_lengths`); the output is `(batch, steps,
    len(characters) + 1)` float32 log-probabilities whose padded steps are
    certain blanks. `transcribe` decodes them greedily or by beam search.

    Args:
        encoder: a `SpeechEncoder`.
        characters: the character vocabulary (see `CharacterVocabulary`).
        max_samples: the padded clip length in samples (at 16 kHz).
        front_end: a `LogMelSpectrogram`; Whisper's by default.
        spec_augment: an optional `SpecAugment`, active in training only.
        feature_normalization: an optional `UtteranceNormalization` of the
            log-mels over each clip's real frames (before SpecAugment).
        dropout_rate: dropout before the output layer.
        **kwargs: `keras.Model` arguments.

    Example:

    >>> import numpy as np
    >>> from applications.speech import SpeechEncoder
    >>> encoder = SpeechEncoder(8, 1, 2, 16, num_mel_bins=8, max_frames=11)
    >>> model = CTCRecognizer(encoder, characters="ab ", max_samples=1600)
    >>> inputs = {"audio": np.zeros((1, 1600), "float32"), "sample_lengths": np.array([800])}
    >>> model(inputs).shape  # 11 frames -> 6 steps; blank + 3 characters
    TensorShape([1, 6, 4])
    >>> len(model.transcribe(inputs))
    1
    """

    def __init__(
        self,
        encoder,
        characters=DEFAULT_CHARACTERS,
        max_samples=16000,
        front_end=None,
        spec_augment=None,
        dropout_rate=0.0,
        feature_normalization=None,
        **kwargs,
    ):
        vocabulary = CharacterVocabulary(characters)
        front_end = front_end if front_end is not None else default_front_end(encoder)
        dropout = keras.layers.Dropout(dropout_rate, name="head_dropout")
        head = CTCHead(vocabulary.size, dtype="float32", name="ctc_head")  # float32 for the loss

        inputs, steps, step_mask = encode_audio(encoder, front_end, spec_augment, max_samples,
                                                   feature_normalization)
        log_probs = head(dropout(steps), padding_mask=step_mask)  # (B, S, V + 1)
        super().__init__(inputs=inputs, outputs=log_probs, **kwargs)

        self.encoder = encoder
        self.characters = characters
        self.vocabulary = vocabulary
        self.max_samples = max_samples
        self.front_end = front_end
        self.spec_augment = spec_augment
        self.dropout_rate = dropout_rate
        self.feature_normalization = feature_normalization

    def transcribe(self, inputs, beam_width=None, batch_size=32):
        """Transcripts of a batch of inputs: greedy decoding, or beam search with
        `beam_width` prefixes."""
        log_probs = self.predict(inputs, batch_size=batch_size, verbose=0)
        if beam_width:
            ids = ctc_beam_decode(log_probs, beam_width=beam_width)
        else:
            ids = ctc_greedy_decode(log_probs)
        # Spaces at the ends or doubled carry no word: normalise them as references are.
        texts = [self.vocabulary.decode(row) for row in ids]
        return [" ".join(text.split()) for text in texts] if " " in self.characters else texts

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "characters": self.characters,
            "max_samples": self.max_samples,
            "front_end": keras.saving.serialize_keras_object(self.front_end),
            "spec_augment": keras.saving.serialize_keras_object(self.spec_augment),
            "dropout_rate": self.dropout_rate,
            "feature_normalization": keras.saving.serialize_keras_object(self.feature_normalization),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config))
