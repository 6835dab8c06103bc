"""Speech: keyword classification, CTC recognition and Whisper-style transcription (`keras-attn speech`).

    from applications import speech
    speech.train(data="clips/", out="runs/kw")                          # classify: one subfolder per word
    speech.train(data="train.tsv", out="runs/asr")                      # ctc: a manifest path<TAB>transcript
    speech.train(data="train.tsv", out="runs/s2t", task="transcribe")   # encoder-decoder
    predictor = applications.load("runs/kw")

Built from `keras_attn` (front end, masks, encoder and decoder blocks, caches, generation,
training). The family's parts: `data` (clips -> arrays and tf.data) and `augmentation`
(waveform augmentation in tf.data), the models (`speech_encoder`, `classifier`,
`ctc_recognizer`, `speech_to_text`), `transcriber` (cached decoding), `long_recordings`,
`task` (the recipes), `predictor`, `export` and `commands`. Importing this package imports
no TensorFlow; the names below load on first use.
"""

import importlib

_EXPORTS = {
    "SpeechClassifier": "applications.speech.classifier",
    "CharacterVocabulary": "applications.speech.character_vocabulary",
    "OutOfVocabularyError": "applications.speech.character_vocabulary",
    "ConvolutionalSubsampling": "applications.speech.convolutional_subsampling",
    "CTCHead": "applications.speech.ctc",
    "CTCLoss": "applications.speech.ctc",
    "ctc_beam_decode": "applications.speech.ctc",
    "ctc_greedy_decode": "applications.speech.ctc",
    "CTCRecognizer": "applications.speech.ctc_recognizer",
    "character_error_rate": "applications.speech.error_rates",
    "edit_distance": "applications.speech.error_rates",
    "word_error_rate": "applications.speech.error_rates",
    "from_keras_hub_whisper": "applications.speech.keras_hub_conversion",
    "MaskedMeanPooling": "applications.speech.masked_mean_pooling",
    "SIZES": "applications.speech.sizes",
    "SpeechEncoder": "applications.speech.speech_encoder",
    "SpeechToText": "applications.speech.speech_to_text",
    "Transcriber": "applications.speech.transcriber",
    "CharacterTokenizer": "applications.speech.transcript_tokenizer",
    "SentencePieceTokenizer": "applications.speech.transcript_tokenizer",
    "UtteranceNormalization": "applications.speech.utterance_normalization",
    "Augmentation": "applications.speech.augmentation",
    "transcribe_long": "applications.speech.long_recordings",
    "WhisperSinusoids": "applications.speech.whisper_sinusoids",
}


def train(task=None, **settings):
    """Train a speech model: `speech.train(data=..., out=..., task="classify"|"ctc"|"transcribe", ...)`; the
    keywords are the flags of `keras-attn speech train`. Returns the summary."""
    from applications.skeleton.settings import resolve_settings
    from applications.skeleton.training import train as train_task
    from applications.speech.task import task_for

    recipe = task_for(settings.get("data"), task)
    return train_task(recipe, resolve_settings(recipe, **settings), command_line=["applications.speech.train"])


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'applications.speech' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
