"""The speech family's serialisable classes (registered under the package `applications.speech`).

Importing this module registers them for Keras' loader; `CLASSES` also maps the names
keras-attn 0.1 saved them under (`keras_attn>SpeechClassifier`) for its run folders.
"""

from applications.speech.classifier import SpeechClassifier
from applications.speech.convolutional_subsampling import ConvolutionalSubsampling
from applications.speech.ctc import CTCHead, CTCLoss
from applications.speech.ctc_recognizer import CTCRecognizer
from applications.speech.masked_mean_pooling import MaskedMeanPooling
from applications.speech.speech_encoder import SpeechEncoder
from applications.speech.speech_to_text import SpeechToText
from applications.speech.utterance_normalization import UtteranceNormalization
from applications.speech.whisper_sinusoids import WhisperSinusoids

CLASSES = (SpeechClassifier, ConvolutionalSubsampling, CTCHead, CTCLoss, CTCRecognizer, MaskedMeanPooling,
           SpeechEncoder, SpeechToText, UtteranceNormalization, WhisperSinusoids)
