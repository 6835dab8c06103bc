"""Speech application: keyword classification and CTC recognition from audio clips.

Built from `keras_attn` (front end, masks, encoder blocks, training); see
`tutorials/04_speech.ipynb` and `keras-attn speech --help`.
"""

from applications.speech.classifier import SpeechClassifier
from applications.speech.character_vocabulary import CharacterVocabulary, OutOfVocabularyError
from applications.speech.convolutional_subsampling import ConvolutionalSubsampling
from applications.speech.ctc import CTCHead, CTCLoss, ctc_beam_decode, ctc_greedy_decode
from applications.speech.ctc_recognizer import CTCRecognizer
from applications.speech.error_rates import character_error_rate, edit_distance, word_error_rate
from applications.speech.keras_hub_conversion import from_keras_hub_whisper
from applications.speech.masked_mean_pooling import MaskedMeanPooling
from applications.speech.sizes import SIZES, speech_encoder_config
from applications.speech.speech_encoder import SpeechEncoder
from applications.speech.whisper_sinusoids import WhisperSinusoids
