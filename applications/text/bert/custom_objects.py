"""The BERT family's serialisable classes (registered under the package `applications.text.bert`);
importing this module registers them for Keras' loader."""

from applications.text.bert.activations import gelu_approximate
from applications.text.bert.bert_encoder import BertEncoder
from applications.text.bert.classifier import BertClassifier, BertPooler
from applications.text.bert.masked_lm import BertMaskedLM, MaskedLMHead

CLASSES = (BertEncoder, BertMaskedLM, MaskedLMHead, BertClassifier, BertPooler, gelu_approximate)
