"""Characters <-> ids for CTC, with id 0 reserved for the CTC blank (and padding)."""

import unicodedata

DEFAULT_CHARACTERS = "abcdefghijklmnopqrstuvwxyz' "
BLANK_ID = 0


class OutOfVocabularyError(ValueError):
    """A transcript holds characters that the vocabulary does not."""


class CharacterVocabulary:
    """A character vocabulary: id 0 is the CTC blank, characters are ids 1..N.

    Transcripts are normalised before encoding: Unicode NFKC, lower case (when
    the vocabulary has no upper-case letters), runs of whitespace collapsed to
    one space, ends stripped. A character still outside the vocabulary raises
    `OutOfVocabularyError` naming the characters and the transcript, unless
    `unknown="drop"`, which removes such characters (and collapses the spaces
    left behind). Digits are not spelled out: write numbers as words in the
    manifest, or add digits to `characters`.

    Args:
        characters: the vocabulary, a string of distinct characters.
        unknown: `"error"` (default) or `"drop"`.

    Example:

    >>> vocabulary = CharacterVocabulary("abc ")
    >>> vocabulary.encode("A  cab")
    [1, 4, 3, 1, 2]
    >>> vocabulary.decode([1, 4, 3, 1, 2])
    'a cab'
    >>> vocabulary.size  # with the blank
    5
    """

    def __init__(self, characters=DEFAULT_CHARACTERS, unknown="error"):
        if not characters or len(set(characters)) != len(characters):
            raise ValueError(f"`characters` must be non-empty and distinct. Received: characters={characters!r}")
        if unknown not in ("error", "drop"):
            raise ValueError(f"`unknown` must be 'error' or 'drop'. Received: unknown={unknown!r}")
        self.characters = characters
        self.unknown = unknown
        self._ids = {character: index + 1 for index, character in enumerate(characters)}
        self._lower = not any(character.isupper() for character in characters)

    @property
    def size(self):
        """Number of classes of the CTC output: characters plus the blank."""
        return len(self.characters) + 1

    def normalize(self, text):
        """The transcript as it is encoded (see the class doc)."""
        text = unicodedata.normalize("NFKC", text)
        if self._lower:
            text = text.lower()
        if " " in self._ids:
            text = " ".join(text.split())
        unknown = sorted({character for character in text if character not in self._ids})
        if unknown:
            if self.unknown == "error":
                raise OutOfVocabularyError(
                    f"Transcript {text!r} has characters outside the vocabulary: {unknown}. "
                    f"Vocabulary: {self.characters!r}. Remove them, or drop them with unknown='drop' "
                    "(--drop-unknown-characters)."
                )
            text = "".join(character for character in text if character in self._ids)
            if " " in self._ids:
                text = " ".join(text.split())
        return text

    def encode(self, text):
        """Transcript -> list of ids (1..N)."""
        return [self._ids[character] for character in self.normalize(text)]

    def decode(self, ids):
        """Ids -> text; the blank (0) and negative padding ids are skipped."""
        return "".join(self.characters[i - 1] for i in ids if 0 < i <= len(self.characters))

    def get_config(self):
        return {"characters": self.characters, "unknown": self.unknown}
