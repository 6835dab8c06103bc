"""Long recordings: cut at pauses, overlapping windows merged by word alignment, checked with a
deterministic fake recogniser that "hears" tone bursts as words (the real models are checked in
test_transcription.py)."""

import numpy as np
import pytest

from applications.speech import long_recordings as long

RATE = 16000
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"]
WORD_SECONDS, GAP_SECONDS = 0.3, 0.05


def _frequency(index):
    return 300.0 + 150.0 * index


def tone_recording(word_indices, gap=GAP_SECONDS, pause_after=()):
    """Each word a 0.3 s tone of its own frequency, `gap` seconds apart (a 0.6 s pause after
    the positions in `pause_after`)."""
    parts = []
    t = np.arange(int(WORD_SECONDS * RATE)) / RATE
    for position, index in enumerate(word_indices):
        parts.append(0.5 * np.sin(2 * np.pi * _frequency(index) * t))
        parts.append(np.zeros(int((0.6 if position in pause_after else gap) * RATE)))
    return np.concatenate(parts).astype("float32")


def fake_recogniser(pieces):
    """A word for every whole tone burst in a piece; a burst cut by the piece's edge is heard
    as a garbled word, as a real model would mishear half a word."""
    texts = []
    for piece in pieces:
        loud = np.convolve(np.abs(piece) > 1e-3, np.ones(80), mode="same") > 0  # bridges zero crossings
        edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(int), [0]])))
        words = []
        for start, end in zip(edges[::2], edges[1::2]):
            if end - start < 0.9 * WORD_SECONDS * RATE:
                words.append("mumble")
                continue
            burst = piece[start:end]
            spectrum = np.abs(np.fft.rfft(burst))
            frequency = np.argmax(spectrum) * RATE / len(burst)
            words.append(WORDS[int(round((frequency - 300.0) / 150.0))])
        texts.append(" ".join(words))
    return texts


def test_merge_joins_at_the_common_words():
    assert long.merge_overlapping(["one two three fo", "ee three four five six"]) == "one two three four five six"
    assert long.merge_overlapping(["a b c d", "c d e", "d e f g"]) == "a b c d e f g"
    assert long.merge_overlapping(["a b", "c d"]) == "a b c d"  # nothing in common: concatenated
    assert long.merge_overlapping(["only"]) == "only" and long.merge_overlapping([]) == ""


def test_short_clips_are_one_piece():
    assert long.plan_pieces(np.ones(100), 200) == [long.Piece(0, 100, 0)]


def test_pauses_cut_the_recording_into_whole_utterances():
    indices = [1, 2, 3, 4, 5, 6]
    audio = tone_recording(indices, pause_after=(1, 3))  # three utterances of two words
    pieces = long.plan_pieces(audio, max_samples=RATE)
    assert [piece.stretch for piece in pieces] == [0, 1, 2]
    assert all(piece.end - piece.start <= RATE for piece in pieces)
    [text] = long.transcribe_long([audio], RATE, fake_recogniser)
    assert text == " ".join(WORDS[i] for i in indices)


@pytest.mark.parametrize("overlap", [1.0, 0.8])
def test_overlapping_windows_lose_and_double_no_word(overlap):
    indices = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8]  # 6.6 s with no pause
    audio = tone_recording(indices)
    max_samples = int(2.0 * RATE)
    pieces = long.plan_pieces(audio, max_samples, overlap=overlap)
    assert len(pieces) > 3 and {piece.stretch for piece in pieces} == {0}
    assert all(piece.end - piece.start == max_samples for piece in pieces)
    # Each window alone mishears the words its edges cut...
    assert any("mumble" in text for text in fake_recogniser([audio[p.start : p.end] for p in pieces]))
    # ...the merged text has every word once.
    [text] = long.transcribe_long([audio], max_samples, fake_recogniser, overlap=overlap)
    assert text == " ".join(WORDS[i] for i in indices)


def test_several_clips_of_mixed_lengths_keep_their_order():
    short, longer = tone_recording([7]), tone_recording([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    texts = long.transcribe_long([short, longer, short], int(1.5 * RATE), fake_recogniser, overlap=0.7)
    assert texts == ["seven", " ".join(WORDS[1:11]), "seven"]
