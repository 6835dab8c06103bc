"""Transcripts <-> token ids for the speech-to-text decoder: characters or SentencePiece.

Both tokenizers share Whisper's layout of a decoder sequence: a prompt of special tokens
(`<|startoftranscript|>`, then the task token `<|transcribe|>`), the transcript's tokens,
and `<|endoftext|>`; id 0 pads. Training feeds `prompt + tokens` and predicts
`tokens + end` (the prompt's own positions are not scored); decoding starts from the
prompt (`keras_attn.generation`'s prompt support, prefilled in one pass) and stops at the
end token.

- `CharacterTokenizer` (`--tokenizer characters`, the default): ids 0-3 are `<|pad|>`,
  `<|startoftranscript|>`, `<|endoftext|>`, `<|transcribe|>`, then one id per character.
  Transcripts are normalised as for CTC (`CharacterVocabulary`: NFKC, lower case, spaces
  collapsed); a character outside the vocabulary raises `OutOfVocabularyError` naming it
  (the task adds the clip), or is dropped with `unknown="drop"`
  (`--drop-unknown-characters`).
- `SentencePieceTokenizer` (`--tokenizer sentencepiece --vocabulary-size N`): a unigram
  SentencePiece model trained on the training transcripts (`applications.text.tokenizer`,
  ids 0 pad, 1 unknown, 2 start, 3 end), plus one more id, `<|transcribe|>`. Transcripts
  are normalised the same way (NFKC, lower case, spaces collapsed); a character the
  vocabulary never saw becomes the unknown piece (id 1), which decodes to nothing: it is
  mapped, not refused (documented; training transcripts are all covered).

- `WhisperTokens`: keras-hub's `WhisperTokenizer` (byte-level BPE) of a Whisper preset, for
  `--init keras_hub:<whisper preset>`: Whisper's own prompt (`<|startoftranscript|>`,
  `<|en|>` for a multilingual model, `<|transcribe|>`, `<|notimestamps|>`) and end token.
  Training pads and scores as for the others (id 0 pads and is left out of the loss;
  in Whisper's vocabulary id 0 is "!", which such fine-tuning never learns to write).

A run folder keeps the tokenizer as an asset: `tokenizer.json` (characters),
`tokenizer.model` (SentencePiece) or `whisper_tokenizer.json`; `load_tokenizer(kind, data)`
reads it back.

Example:

>>> tokenizer = CharacterTokenizer("abc ")
>>> tokenizer.prompt_ids, tokenizer.encode("A cab")
((1, 3), [4, 7, 6, 4, 5])
>>> tokenizer.decode([1, 3, 4, 7, 6, 4, 5, 2, 0, 0])
'a cab'
>>> tokenizer.vocabulary_size
8
"""

import json
import unicodedata

from applications.speech.character_vocabulary import DEFAULT_CHARACTERS, CharacterVocabulary

SPECIAL_TOKENS = ("<|pad|>", "<|startoftranscript|>", "<|endoftext|>", "<|transcribe|>")
PAD_ID, START_ID, END_ID, TRANSCRIBE_ID = 0, 1, 2, 3
CHARACTERS_FILE, SENTENCEPIECE_FILE, WHISPER_FILE = "tokenizer.json", "tokenizer.model", "whisper_tokenizer.json"
KINDS = ("characters", "sentencepiece")  # --tokenizer; "whisper" comes with a Whisper preset


def _before_end(ids, end_id):
    """The ids before the first `end_id`."""
    ids = [int(i) for i in ids]
    return ids[: ids.index(end_id)] if end_id in ids else ids


class CharacterTokenizer:
    """Characters plus Whisper-style special tokens (see the module doc).

    Args:
        characters: the vocabulary, distinct characters.
        unknown: `"error"` (default) or `"drop"`: what happens to other characters.
    """

    kind = "characters"
    file_name = CHARACTERS_FILE
    pad_id, start_id, end_id = PAD_ID, START_ID, END_ID

    def __init__(self, characters=DEFAULT_CHARACTERS, unknown="error"):
        self.vocabulary = CharacterVocabulary(characters, unknown=unknown)
        self.characters = characters
        self.unknown = unknown
        self.offset = len(SPECIAL_TOKENS) - 1  # CharacterVocabulary's ids start at 1

    @property
    def vocabulary_size(self):
        return len(SPECIAL_TOKENS) + len(self.characters)

    @property
    def prompt_ids(self):
        """The decoder prompt: start of transcript, then the task token."""
        return (START_ID, TRANSCRIBE_ID)

    def normalize(self, text):
        """The transcript as it is encoded (and as references are scored)."""
        return self.vocabulary.normalize(text)

    def encode(self, text):
        """Transcript -> ids of its characters (no prompt, no end)."""
        return [index + self.offset for index in self.vocabulary.encode(text)]

    def decode(self, ids):
        """Ids (prompt, transcript, end, padding) -> the text before the first end token."""
        kept = [i - self.offset for i in _before_end(ids, END_ID) if i >= len(SPECIAL_TOKENS)]
        return " ".join(self.vocabulary.decode(kept).split()) if " " in self.characters else \
            self.vocabulary.decode(kept)

    def id_strings(self):
        """The text of every id (`""` for the special tokens), for the SavedModel's table."""
        return [""] * len(SPECIAL_TOKENS) + list(self.characters)

    def to_bytes(self):
        return json.dumps({"kind": self.kind, "characters": self.characters, "unknown": self.unknown,
                           "special_tokens": list(SPECIAL_TOKENS)}).encode("utf-8")

    @classmethod
    def from_bytes(cls, data):
        config = json.loads(data.decode("utf-8"))
        return cls(config["characters"], unknown=config.get("unknown", "error"))


class SentencePieceTokenizer:
    """A SentencePiece vocabulary plus the `<|transcribe|>` id (see the module doc).

    Args:
        proto: the serialized SentencePiece model.
    """

    kind = "sentencepiece"
    file_name = SENTENCEPIECE_FILE

    def __init__(self, proto):
        from applications.text.tokenizer import END_ID as SP_END
        from applications.text.tokenizer import PAD_ID as SP_PAD
        from applications.text.tokenizer import START_ID as SP_START
        from applications.text.tokenizer import SubwordTokenizer

        self.subwords = SubwordTokenizer(proto)
        self.pad_id, self.start_id, self.end_id = SP_PAD, SP_START, SP_END
        self.transcribe_id = self.subwords.vocabulary_size  # one id past the pieces

    @classmethod
    def train(cls, transcripts, vocabulary_size):
        from applications.text.tokenizer import train_sentencepiece

        return cls(train_sentencepiece([normalize_text(text) for text in transcripts], vocabulary_size))

    @property
    def vocabulary_size(self):
        return self.subwords.vocabulary_size + 1

    @property
    def prompt_ids(self):
        return (self.start_id, self.transcribe_id)

    def normalize(self, text):
        return normalize_text(text)

    def encode(self, text):
        return [int(i) for i in self.subwords.tokenize([self.normalize(text)]).numpy()[0]]

    def decode(self, ids):
        kept = [i for i in _before_end(ids, self.end_id) if 3 < i < self.transcribe_id]  # pieces only
        if not kept:
            return ""
        return " ".join(self.subwords.detokenize([kept]).numpy()[0].decode("utf-8").split())

    def to_bytes(self):
        return self.subwords.proto

    @classmethod
    def from_bytes(cls, data):
        return cls(data)


class WhisperTokens:
    """A keras-hub `WhisperTokenizer` as a transcript tokenizer (see the module doc).

    Args:
        tokenizer: a `keras_hub.models.WhisperTokenizer`.
        language: the language token of a multilingual tokenizer (`"<|en|>"`); ignored by an
            English-only one.
    """

    kind = "whisper"
    file_name = WHISPER_FILE
    pad_id = PAD_ID

    def __init__(self, tokenizer, language="<|en|>"):
        self.tokenizer = tokenizer
        self.language = language
        self.start_id, self.end_id = int(tokenizer.bos_token_id), int(tokenizer.eos_token_id)
        languages = tokenizer.language_tokens or {}
        prompt = [self.start_id] + ([int(languages[language])] if language in languages else [])
        self._prompt = tuple(prompt + [int(tokenizer.transcribe_token_id), int(tokenizer.no_timestamps_token_id)])
        self._special = set(int(i) for i in tokenizer.special_token_ids) | {int(i) for i in languages.values()}

    @classmethod
    def from_preset(cls, preset):
        import keras_hub

        return cls(keras_hub.models.WhisperTokenizer.from_preset(preset))

    @property
    def vocabulary_size(self):
        return int(self.tokenizer.vocabulary_size())

    @property
    def prompt_ids(self):
        return self._prompt

    def normalize(self, text):
        return normalize_text(text)

    def encode(self, text):
        import numpy as np

        return [int(i) for i in np.asarray(self.tokenizer(" " + self.normalize(text)))]  # Whisper: a leading space

    def decode(self, ids):
        kept = [i for i in _before_end(ids, self.end_id) if i not in self._special]
        if not kept:
            return ""
        text = self.tokenizer.detokenize(kept)
        text = text if isinstance(text, str) else bytes(getattr(text, "numpy", lambda: text)()).decode("utf-8")
        return " ".join(text.split())

    def to_bytes(self):
        tokenizer = self.tokenizer
        return json.dumps({"kind": self.kind, "language": self.language, "vocabulary": tokenizer._initial_vocabulary,
                           "merges": list(tokenizer.merges), "special_tokens": tokenizer._special_token_dict,
                           "language_tokens": tokenizer.language_tokens}).encode("utf-8")

    @classmethod
    def from_bytes(cls, data):
        import keras_hub

        config = json.loads(data.decode("utf-8"))
        tokenizer = keras_hub.models.WhisperTokenizer(
            vocabulary=config["vocabulary"], merges=config["merges"], special_tokens=config["special_tokens"],
            language_tokens=config["language_tokens"])
        return cls(tokenizer, config.get("language", "<|en|>"))


def normalize_text(text):
    """NFKC, lower case, whitespace collapsed: how SentencePiece transcripts are compared."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def load_tokenizer(kind, data):
    """The tokenizer of a run folder's asset (`kind` from run.json's preprocessing)."""
    if kind == "characters":
        return CharacterTokenizer.from_bytes(data)
    if kind == "sentencepiece":
        return SentencePieceTokenizer.from_bytes(data)
    if kind == "whisper":
        return WhisperTokens.from_bytes(data)
    raise ValueError(f"`kind` must be one of {KINDS + ('whisper',)}. Received: kind={kind!r}")
