"""Build the English-Spanish Bible verse pairs shipped in `data/text/`.

Source: the Debian packages `sword-text-web` (World English Bible, module `engWEB2015eb`) and
`sword-text-sparv` (Reina-Valera 1909, module `spaRV1909eb`), both public domain, read with
`pysword` from `/usr/share/sword`. Needs `pip install pysword` (a build-time tool only: the
shipped files need nothing but gzip).

Markup is stripped by hand (pysword's `clean=True` glues words together around footnotes):
  1. cut anything after the end of the book (the WEB appends its glossary to Revelation 22:21);
  2. drop `<note ...>...</note>` blocks (footnotes) and `<speaker>...</speaker>` labels (an
     editorial "Beloved" / "Lover" in the Song of Songs, absent from the Spanish), each leaving
     a space;
  3. drop all other tags; a run of tags that ends or starts a `<w>` word element *between two
     letters* becomes a space (the RV1909 writes
     `allí</w><transChange>también</transChange><w>bdelio`), any other run becomes nothing (so
     `preguntándo<transChange>le</transChange>` stays one word);
  4. unescape XML entities, collapse whitespace, remove the space before closing punctuation.
The RV1909 prints the opening word of each chapter in capitals ("EN el principio", "Y ACONTECIÓ"):
in verse 1 the first all-capital word is re-cased ("En el principio", "Y Aconteció").

Alignment is by book, chapter and verse. A verse missing or empty on either side is skipped (the
modules use different versifications, NRSVA and KJV, and the WEB has extra books). Where the two
differ the Spanish is often shifted by a verse or more for the rest of the chapter or into the
next one (Numbers 12-13, Job 38-41, Jonah 1-2, ...), so two more filters drop likely misaligned
pairs:
  - a whole chapter whose number of non-empty verses differs between the modules, and the
    chapter after it;
  - a pair whose Spanish/English character-length ratio lies outside
    [MIN_LENGTH_RATIO, MAX_LENGTH_RATIO] (the middle 99.4% of the remaining pairs; most pairs
    outside are different verse splits, some are free translations).

Outputs (UTF-8, `english<TAB>spanish` per line, Bible order, gzip files with a fixed timestamp so
a rebuild is byte-identical):
  bible_en_es_test.tsv       TEST_SIZE held-out pairs with <= SHORT_WORDS English words, chosen by
                             a hash of the verse reference (e.g. "Gen.1.1"); neither their English
                             nor their Spanish text occurs in the two files below.
  bible_en_es.tsv.gz         every other aligned pair (less the repeats of a test sentence).
  bible_en_es_short.tsv.gz   the pairs of bible_en_es.tsv.gz with <= SHORT_WORDS English words.

Usage:
  python scripts/build_bible_en_es.py [--sword-dir /usr/share/sword] [--out-dir data/text]
"""

import argparse
import collections
import gzip
import hashlib
import html
import logging
import re
import time
from pathlib import Path

ENGLISH_MODULE = "engWEB2015eb"
SPANISH_MODULE = "spaRV1909eb"
SHORT_WORDS = 12  # an English side of at most 12 words counts as "short"
TEST_SIZE = 300
MIN_LENGTH_RATIO = 0.55  # Spanish characters / English characters; the median pair is ~0.96
MAX_LENGTH_RATIO = 1.6

_BOOK_END = re.compile(r'<div\b[^>]*\beID="[^"]*"[^>]*\btype="book"[^>]*/>.*', re.S)
_NOTE = re.compile(r"<note\b[^>]*>.*?</note>", re.S)
_SPEAKER = re.compile(r"<speaker\b[^>]*>.*?</speaker>", re.S)
# A run of tags, capturing the letter just before and just after it when there is one.
_TAG_RUN = re.compile(r"(?<=(\w))?(?:<[^>]*>)+(?=(\w))?")
_W_TAG = re.compile(r"</?w\b")
_SPACE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r" +(?=[.,;:!?)\]”’»])")
# Two or more letters, all capitals, then any all-capital words right after it.
_CAPITALS = re.compile(r"\b([^\W\d_a-zß-ÿ]{2,})((?: [^\W\d_a-zß-ÿ]+\b)*)")


def _replace_tag_run(match):
    between_letters = match.group(1) is not None and match.group(2) is not None
    return " " if between_letters and _W_TAG.search(match.group(0)) else ""


def clean_osis(text):
    """Returns the plain text of one verse of OSIS markup (see the module docstring).

    >>> clean_osis('<w>God</w><note placement="foot">Elohim</note><w>created</w> it .')
    'God created it.'
    >>> clean_osis('<w>hay allí</w><transChange>también</transChange><w>bdelio</w>')
    'hay allí también bdelio'
    >>> clean_osis('preguntándo<transChange>le</transChange>, “<w>Oh</w>”')
    'preguntándole, “Oh”'
    """
    text = _BOOK_END.sub("", text)
    text = _NOTE.sub(" ", text)
    text = _SPEAKER.sub(" ", text)
    text = _TAG_RUN.sub(_replace_tag_run, text)
    text = html.unescape(text)
    text = _SPACE.sub(" ", text).strip()
    return _SPACE_BEFORE_PUNCT.sub("", text)


def recase_chapter_opening(text):
    """Re-cases the capitals that open a chapter in the RV1909.

    >>> recase_chapter_opening("Y ACONTECIÓ que Dios")
    'Y Aconteció que Dios'
    >>> recase_chapter_opening("Salmo de David. YO DIJE: Atenderé")
    'Salmo de David. Yo dije: Atenderé'
    """
    return _CAPITALS.sub(lambda m: m.group(1).capitalize() + m.group(2).lower(), text, count=1)


def read_verses(sword_dir, module_name):
    """Returns {(osis_book, chapter, verse): clean text} for every non-empty verse of a module."""
    from pysword.modules import SwordModules  # build-time dependency only

    modules = SwordModules(str(sword_dir))
    modules.parse_modules()
    bible = modules.get_bible_from_module(module_name)
    books = bible.get_structure().get_books()
    verses = {}
    for book in books.get("ot", []) + books.get("nt", []):
        for chapter in range(1, book.num_chapters + 1):
            raw = bible.get_iter(books=[book.osis_name], chapters=[chapter], clean=False)
            for verse, text in enumerate(raw, start=1):
                text = clean_osis(text)
                if text:
                    verses[(book.osis_name, chapter, verse)] = text
    return verses


def _mismatched_chapters(english, spanish):
    """Chapters whose verse counts differ between the modules, and the chapter after each."""
    english_counts = collections.Counter(key[:2] for key in english)
    spanish_counts = collections.Counter(key[:2] for key in spanish)
    differ = {ch for ch in spanish_counts if english_counts[ch] != spanish_counts[ch]}
    return differ | {(book, chapter + 1) for book, chapter in differ}


def align(english, spanish):
    """Returns ([(reference, english, spanish)] in English Bible order, {reason: pairs skipped})."""
    mismatched = _mismatched_chapters(english, spanish)
    pairs, skipped = [], collections.Counter()
    for key, english_text in english.items():
        spanish_text = spanish.get(key)
        if spanish_text is None:
            skipped["missing in Spanish"] += 1
        elif key[:2] in mismatched:
            skipped["chapter verse counts differ"] += 1
        elif not MIN_LENGTH_RATIO <= len(spanish_text) / len(english_text) <= MAX_LENGTH_RATIO:
            skipped["length ratio"] += 1
        else:
            pairs.append(("%s.%d.%d" % key, english_text, spanish_text))
    skipped["missing in English"] = len(spanish.keys() - english.keys())
    return pairs, skipped


def is_short(english_text):
    return len(english_text.split()) <= SHORT_WORDS


def split_test(pairs):
    """Returns (test, rest): TEST_SIZE short pairs picked by the SHA-1 of their reference, and the
    pairs sharing neither side's text with any test pair (formula verses such as "Yahweh spoke to
    Moses, saying," recur, so a reference split alone would leak test sentences)."""
    short = [pair for pair in pairs if is_short(pair[1])]
    ranked = sorted(short, key=lambda pair: hashlib.sha1(pair[0].encode()).hexdigest())
    test_references = {pair[0] for pair in ranked[:TEST_SIZE]}
    test = [pair for pair in pairs if pair[0] in test_references]
    test_english = {english for _, english, _ in test}
    test_spanish = {spanish for _, _, spanish in test}
    rest = [
        pair for pair in pairs
        if pair[1] not in test_english and pair[2] not in test_spanish
        and pair[0] not in test_references
    ]
    return test, rest


def write_tsv(path, pairs):
    data = "".join(f"{english}\t{spanish}\n" for _, english, spanish in pairs).encode("utf-8")
    if path.suffix == ".gz":
        # mtime=0 and no file name in the header: the same pairs give the same bytes.
        with open(path, "wb") as raw, gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9
        ) as f:
            f.write(data)
    else:
        path.write_bytes(data)
    logging.info("wrote %s: %d pairs, %d bytes", path, len(pairs), path.stat().st_size)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sword-dir", type=Path, default=Path("/usr/share/sword"))
    parser.add_argument(
        "--out-dir", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "text"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    start = time.time()
    english = read_verses(args.sword_dir, ENGLISH_MODULE)
    spanish = read_verses(args.sword_dir, SPANISH_MODULE)
    for key in spanish:
        if key[2] == 1:
            spanish[key] = recase_chapter_opening(spanish[key])
    pairs, skipped = align(english, spanish)
    logging.info(
        "%d English verses, %d Spanish verses, %d aligned pairs, skipped %s (%.0f s)",
        len(english), len(spanish), len(pairs), dict(skipped), time.time() - start,
    )
    test, rest = split_test(pairs)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_tsv(args.out_dir / "bible_en_es_test.tsv", test)
    write_tsv(args.out_dir / "bible_en_es.tsv.gz", rest)
    write_tsv(args.out_dir / "bible_en_es_short.tsv.gz", [p for p in rest if is_short(p[1])])


if __name__ == "__main__":
    main()
