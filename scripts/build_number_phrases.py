"""Number phrases, e.g. English -> French words for integers, made with `num2words`.

A tiny "does it learn" translation task with real reordering (French counts in twenties:
97 -> "quatre-vingt-dix-sept"), but a small vocabulary; not a benchmark. `number_phrases` is also
used by `build_speech_data.py` (spoken transcripts) and can be copied into tests, which may just as
well call num2words themselves (it is in the `dev` extra).

Writes `data/text/numbers_en_fr.tsv.gz`: `english<TAB>french` for every integer 0-9999, in order
(split it by number, e.g. `n % 10 == 0` for a test set).

Usage:
  python scripts/build_number_phrases.py [--target-lang fr] [--max-number 9999] [--out F]
"""

import argparse
import gzip
import logging
import re
from pathlib import Path

from num2words import num2words

REPO = Path(__file__).resolve().parents[1]


def number_phrases(numbers, target_lang="fr", source_lang="en"):
    """Returns [(source words, target words)] for each integer, as num2words writes them.

    >>> number_phrases([97, 1234])  # doctest: +NORMALIZE_WHITESPACE
    [('ninety-seven', 'quatre-vingt-dix-sept'),
     ('one thousand, two hundred and thirty-four', 'mille deux cent trente-quatre')]
    """
    return [(num2words(n, lang=source_lang), num2words(n, lang=target_lang)) for n in numbers]


def spoken_transcript(number, lang="en"):
    """Returns the words of a number in lower-case letters, spaces and apostrophes only.

    >>> spoken_transcript(1234)
    'one thousand two hundred and thirty four'
    """
    text = num2words(number, lang=lang).lower().replace("-", " ")
    text = re.sub(r"[^a-z' ]", "", text)
    return " ".join(text.split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-lang", default="en")
    parser.add_argument("--target-lang", default="fr")
    parser.add_argument("--max-number", type=int, default=9999)
    parser.add_argument("--out", type=Path, default=REPO / "data/text/numbers_en_fr.tsv.gz")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    pairs = number_phrases(range(args.max_number + 1), args.target_lang, args.source_lang)
    data = "".join(f"{source}\t{target}\n" for source, target in pairs).encode("utf-8")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9
    ) as f:
        f.write(data)
    logging.info("wrote %s: %d pairs, %d bytes", args.out, len(pairs), args.out.stat().st_size)


if __name__ == "__main__":
    main()
