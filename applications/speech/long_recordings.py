"""Transcribing a recording longer than the model's window: cut at pauses, overlap the rest.

Whisper transcribes 30 s windows; a model here reads at most its own `max_samples` (1.25 x
its longest training clip). A longer recording is transcribed in pieces and their texts
are joined:

1. **Cut at pauses.** The recording is cut in the middle of every pause: a run of at least
   `min_silence` seconds (default 0.25 s) of 10 ms frames quieter than `silence_db`
   (default -40 dB) below the recording's loudest frame (frames of 25 ms, Whisper's).
   Each stretch of speech between pauses, trimmed to its sound, is transcribed on its own:
   the way the model was trained, one utterance at a time, and no word is ever cut.
   Pauses inside one utterance are shorter (at most 0.14 s in the shipped espeak-ng
   phrases).
2. **Overlapping windows for long speech.** A stretch still longer than `max_samples` is
   read in windows of `max_samples` that overlap by `overlap` seconds (default 1.0 s, at
   most half a window; the last window ends with the stretch and may overlap more). Consecutive window texts are merged by aligning their words: the
   longest run of words that ends the first text's overlap and begins the second's is
   where they join (the first text up to it, the second from it), so a word cut by a
   window edge, heard in full in the other window, is neither lost nor doubled. With no
   common word (an overlap too short to hold a whole word, or recognition errors in it)
   the texts are simply concatenated.
3. The texts of the stretches are joined with single spaces.

Both the CTC and the transcription predictors use it (`predict`, `evaluate`).

Example:

>>> merge_overlapping(["one hundred and twen", "wenty two seven"])
'one hundred and twen wenty two seven'
>>> merge_overlapping(["one hundred and twen", "and twenty two"])
'one hundred and twenty two'
"""

import dataclasses

import numpy as np

SAMPLE_RATE = 16000
FRAME, HOP = 400, 160  # 25 ms frames every 10 ms
SILENCE_DB = -40.0
MIN_SILENCE = 0.25  # seconds
OVERLAP = 1.0  # seconds


@dataclasses.dataclass(frozen=True)
class Piece:
    """One piece of a recording to transcribe: samples `[start, end)`; `stretch` numbers the
    stretch of speech it belongs to (windows of one stretch are merged by alignment)."""

    start: int
    end: int
    stretch: int


def frame_levels(audio):
    """Level in dB of each 10 ms hop (25 ms frames) relative to the loudest frame."""
    audio = np.asarray(audio, "float32")
    count = max(1, 1 + (len(audio) - FRAME) // HOP)
    padded = np.pad(audio, (0, max(0, (count - 1) * HOP + FRAME - len(audio))))
    frames = np.lib.stride_tricks.sliding_window_view(padded, FRAME)[::HOP][:count]
    power = np.mean(np.square(frames, dtype="float64"), axis=1) + 1e-20
    return 10.0 * np.log10(power / power.max())


def speech_stretches(audio, silence_db=SILENCE_DB, min_silence=MIN_SILENCE):
    """`[(start, end)]` sample spans of speech between pauses (see the module doc)."""
    quiet = frame_levels(audio) < silence_db
    loud = np.flatnonzero(~quiet)
    if len(loud) == 0:
        return []
    spans, start, previous = [], loud[0], loud[0]
    min_frames = int(round(min_silence * SAMPLE_RATE / HOP))
    for frame in loud[1:]:
        if frame - previous - 1 >= min_frames:  # a pause between `previous` and `frame`
            spans.append((start, previous))
            start = frame
        previous = frame
    spans.append((start, previous))
    return [(int(first * HOP), int(min(len(audio), last * HOP + FRAME))) for first, last in spans]


def plan_pieces(audio, max_samples, overlap=OVERLAP, silence_db=SILENCE_DB, min_silence=MIN_SILENCE):
    """The pieces of `audio` to transcribe (all `audio` as one piece when it fits)."""
    if len(audio) <= max_samples:
        return [Piece(0, len(audio), 0)]
    overlap_samples = min(int(round(overlap * SAMPLE_RATE)), max_samples // 2)
    hop = max_samples - overlap_samples
    pieces = []
    for number, (start, end) in enumerate(speech_stretches(audio, silence_db, min_silence)):
        if end - start <= max_samples:
            pieces.append(Piece(start, end, number))
            continue
        # Full windows `hop` apart; the last one ends with the stretch (it overlaps more).
        starts = list(range(start, end - max_samples, hop)) + [end - max_samples]
        pieces.extend(Piece(first, first + max_samples, number) for first in starts)
    return pieces


def merge_overlapping(texts):
    """The text of consecutive overlapping windows, merged by word alignment (module doc)."""
    words = texts[0].split() if texts else []
    for text in texts[1:]:
        words = _merge_two(words, text.split())
    return " ".join(words)


def _merge_two(first, second):
    """Join two word lists at the longest common run that ends `first`'s last half and starts
    `second`'s first half."""
    tail_from = len(first) // 2
    best = (0, len(first), 0)  # (run length, index in first, index in second)
    for i in range(tail_from, len(first)):
        for j in range(0, (len(second) + 1) // 2 + 1):
            run = 0
            while i + run < len(first) and j + run < len(second) and first[i + run] == second[j + run]:
                run += 1
            if run > best[0]:
                best = (run, i, j)
    run, i, j = best
    if run == 0:
        return first + second
    return first[:i] + second[j:]


def transcribe_long(clips, max_samples, transcribe_pieces, overlap=OVERLAP, silence_db=SILENCE_DB,
                    min_silence=MIN_SILENCE):
    """Texts of whole clips of any length.

    Args:
        clips: 1-D float32 sample arrays at 16 kHz.
        max_samples: the model's window.
        transcribe_pieces: `list of 1-D arrays (each at most max_samples) -> list of texts`
            (the model, in batches).
        overlap, silence_db, min_silence: see the module doc.
    """
    plans = [plan_pieces(clip, max_samples, overlap, silence_db, min_silence) for clip in clips]
    pieces = [clip[piece.start : piece.end] for clip, plan in zip(clips, plans) for piece in plan]
    texts = iter(transcribe_pieces(pieces) if pieces else [])
    joined = []
    for plan in plans:
        stretches = {}
        for piece in plan:
            stretches.setdefault(piece.stretch, []).append(next(texts))
        joined.append(" ".join(text for text in (merge_overlapping(group) for group in stretches.values()) if text))
    return joined
